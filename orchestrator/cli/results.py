"""`report` and `merge`: reports rebuilt from saved results, without running anything."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

from orchestrator.cli.verdict import Outcome, exit_code
from orchestrator.report.writers import Written
from orchestrator.result.model import GateResult, RunResult
from orchestrator.wording import plural


def judge(run: RunResult) -> GateResult:
    """The run's gate judged again from its cases and its plans' gate rules (as the file keeps them)."""
    from orchestrator.run.gate import judge_plans

    return judge_plans(run.plans, run.cases, run.interrupted, run.gate.selection, run.deadline)


def read_results(path: Path) -> RunResult:
    """A results file or a journal for `report` and `merge`, its gate judged again from its cases:
    a hand-edited or stale verdict is never believed (a disagreement is reported), and a run that
    did not end (no completion mark, or a journal) comes back interrupted, its gate failed."""
    from orchestrator.result.completion import load_results

    run = load_results(path, judge)
    if not run.complete:
        return run
    gate = judge(run)
    if gate.passed != run.gate.passed:
        print(f"orchestrator: {path}: the stored gate verdict ({'PASSED' if run.gate.passed else 'FAILED'}) "
              f"disagrees with its cases; judged again: {'PASSED' if gate.passed else 'FAILED'}", file=sys.stderr)
    return replace(run, gate=gate)


def cmd_report(args: argparse.Namespace) -> int:
    from orchestrator.procs.forked import Stopped, stop_signals_raise

    try:
        with stop_signals_raise():  # SIGTERM/SIGHUP/SIGQUIT: 128 + N, no child or temporary file left
            return _report(args)
    except Stopped as stop:
        print(f"orchestrator: {stop}", file=sys.stderr)
        return 128 + stop.signum


def _report(args: argparse.Namespace) -> int:
    from orchestrator.report.console import ConsoleReporter
    from orchestrator.result.outdir import claimed

    results = Path(args.results)
    run = read_results(results)
    junit = Path(args.junit) if args.junit else None
    html = Path(args.html) if args.html else None
    if junit is None and html is None:
        folder = Path(args.out) if args.out else results.parent
        junit, html = folder / "junit.xml", folder / "report.html"
    with claimed([p.parent for p in (junit, html) if p is not None], "orchestrator report " + str(results)):
        # a run still writing there refuses us (exit 2)
        written = _write_side_by_side(run, junit, html, args.junit_flavor)
    ConsoleReporter().summary(run, [str(path) for path in written.paths])
    for problem in written.problems:
        print(f"orchestrator: {problem}", file=sys.stderr)
    if not run.complete:
        print(f"orchestrator: {results}: the run did not end; reports marked interrupted, gate failed "
              "(run incomplete)", file=sys.stderr)
    # an interrupted run re-rendered is judged by its gate (failed), not by 130
    return exit_code(Outcome(run.gate.passed, unwritten=len(written.problems)))


def _write_side_by_side(run: RunResult, junit: Path | None, html: Path | None, flavor: str) -> Written:
    """The reports `write_all` writes, the same bytes, on two cores: a forked child makes the
    HTML's heaviest parts (the packed case details, the rows, the timeline: html_parts, the end
    of the page) while this process writes JUnit and the page up to them, then takes them from
    the child. Where the child fails, they are made here after all; where forking is not safe
    (procs/forked), everything is."""
    from orchestrator.procs.forked import Child, beside
    from orchestrator.report import html_parts
    from orchestrator.report.writers import write_all

    if html is None or not _worth_forking(run):
        return write_all(run, junit, html, None, junit_flavor=flavor)

    def in_child() -> str:
        return json.dumps({name: make(run) for name, make in html_parts.PARTS.items()})

    def write_here(child: Child) -> Written:
        made: dict[str, str] = {}

        def taken(name: str) -> Callable[[], str | None]:
            def take() -> str | None:
                outcome = child.outcome()  # waits for the child the first time
                if not made and not outcome.failure:
                    made.update(json.loads(outcome.text))
                return made.get(name)
            return take
        parts = {name: taken(name) for name in html_parts.PARTS}
        return write_all(run, junit, html, None, junit_flavor=flavor, html_parts=parts)

    both = beside(in_child, write_here)
    return write_all(run, junit, html, None, junit_flavor=flavor) if both is None else both[0]


# Below this many cases the fork and the child's start cost more than the child saves (a
# 22-case file: ~15 ms slower; 1,000 cases: ~30 ms faster).
FORK_FROM_CASES = 500


def _worth_forking(run: RunResult) -> bool:
    from orchestrator.procs.forked import spare_core

    return len(run.cases) >= FORK_FROM_CASES and spare_core()


def cmd_merge(args: argparse.Namespace) -> int:
    from orchestrator.report.console import ConsoleReporter
    from orchestrator.report.writers import write_all
    from orchestrator.result.merge import merge_runs
    from orchestrator.run.gate import judge_plans

    runs = [(name, read_results(Path(name))) for name in args.results]
    merged = merge_runs(runs, judge_plans, command="orchestrator merge " + " ".join(args.results))
    outputs = [Path(p) if p else None for p in (args.junit, args.html, args.json)]
    written = write_all(merged, *outputs, junit_flavor=args.junit_flavor)
    print(f"Merged {plural(len(runs), 'results file')}: {plural(len(merged.cases), 'case')}")
    ConsoleReporter().summary(merged, [str(path) for path in written.paths])
    for problem in written.problems:
        print(f"orchestrator: {problem}", file=sys.stderr)
    from orchestrator.cli.interrupts import TIMEOUT_EXIT

    deadline_code = TIMEOUT_EXIT if merged.deadline else None  # a shard its --timeout stopped: as that run exited
    return exit_code(Outcome(merged.gate.passed, unwritten=len(written.problems), interrupted=merged.interrupted,
                             stop_code=deadline_code))
