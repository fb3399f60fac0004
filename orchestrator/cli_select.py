"""The CLI's selection, sharding and scheduling options, `list` and `merge` (kept out of cli.py).

`run` and `list` share one path — load → select → shard — so `list` shows exactly what `run`
would run, and for every other case why it was left out.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from orchestrator.errors import ExitCode, UserError, most_severe
from orchestrator.wording import plural

if TYPE_CHECKING:  # imported where used: `--version` and `--help` need none of them
    from orchestrator.plan.model import Plan
    from orchestrator.plan.shard import Shard
    from orchestrator.result.model import GateResult, RunResult


def add_selection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", dest="k", metavar="EXPR",
                        help="cases whose id, name or tags match: words with and/or/not/() (as pytest -k)")
    parser.add_argument("--tag", action="append", default=[], help="cases with this tag (repeatable, or a,b)")
    parser.add_argument("--priority", action="append", default=[], help="cases of these priorities: P0,P1")
    parser.add_argument("--level", action="append", default=[], help="cases of these levels: unit,e2e")
    parser.add_argument("--id", action="append", default=[], dest="ids", metavar="ID",
                        help="this case id or glob (repeatable)")
    parser.add_argument("--shard", metavar="I/N", help="run only part I of N (deterministic, balanced)")
    parser.add_argument("--durations", metavar="RESULTS.json",
                        help="balance --shard by the case durations of an earlier run")


def add_junit_flavor_arg(parser: argparse.ArgumentParser) -> None:
    from orchestrator.report.junit_strict import FLAVORS

    parser.add_argument("--junit-flavor", choices=FLAVORS, default="default",
                        help="default: what Jenkins' junit step, GitLab and GitHub actions read (file/line, "
                             "per-test properties); strict: valid against the Jenkins xUnit and Maven Surefire "
                             "XSDs (labels move into system-out)")


def add_run_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=_positive, metavar="N", help="run every case N times (flake hunting)")
    parser.add_argument("--fail-fast", action="store_true", help="stop after the first failed or errored case")
    parser.add_argument("--order", choices=("plan", "priority"), default="plan",
                        help="plan: cases start in plan order (the default); priority: P0 first, then P1 ..., "
                             "plan order within each")
    parser.add_argument("--max-memory", metavar="SIZE",
                        help="hold new cases back while the run's processes use more than this (e.g. 8GiB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print each step and failed assertion")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def max_memory(args: argparse.Namespace) -> int | None:
    if not getattr(args, "max_memory", None):
        return None
    from orchestrator.plan.units import parse_size

    try:
        return parse_size(args.max_memory)
    except ValueError as exc:
        raise UserError(f"--max-memory: {exc}") from None


@dataclass(frozen=True)
class Prepared:
    plans: tuple[Plan, ...]  # what runs
    unsharded: tuple[Plan, ...] = ()  # the selection before --shard (empty without --shard)
    left_out: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # plan -> id -> why
    shard: Shard | None = None
    loaded: tuple[Plan, ...] = ()  # the plans before the selection (empty when it left nothing out)
    selection: str = ""  # the selection as options ("--priority P0") when it left cases out


def prepare(plans: Sequence[Plan], args: argparse.Namespace, *, running: bool = True) -> Prepared:
    """load → select → shard. `running`: a selection that matches no case is an error (exit 2),
    checked before sharding so that a typo fails every shard; `list` shows it instead."""
    from orchestrator.plan.select import Selection, select, split_list
    from orchestrator.plan.select_check import check_selected, describe, normalised
    from orchestrator.plan.shard import parse_shard, take_shard

    written = Selection(k=args.k, tags=split_list(args.tag), priorities=split_list(args.priority),
                        levels=split_list(args.level), ids=tuple(args.ids))
    selection = normalised(written)
    selected = select(plans, selection)
    if running:
        check_selected(plans, selection, written)
    left_out: dict[str, dict[str, str]] = {name: dict(v) for name, v in selected.left_out.items()}
    partial = any(left_out.values())
    loaded, described = (tuple(plans), describe(written)) if partial else ((), "")
    if not args.shard:
        if args.durations:
            raise UserError("--durations only balances --shard; give --shard I/N too")
        return Prepared(selected.plans, (), left_out, None, loaded, described)
    shard = parse_shard(args.shard)
    durations = read_durations(Path(args.durations)) if args.durations else None
    mine = take_shard(selected.plans, shard, durations)
    for whole, part in zip(selected.plans, mine):
        kept = {c.id for c in part.cases}
        for case in whole.cases:
            if case.id not in kept:
                left_out.setdefault(whole.name, {})[case.id] = f"in another shard than {shard}"
    return Prepared(mine, selected.plans, left_out, shard, loaded, described)


def read_durations(path: Path) -> dict[str, float]:
    from orchestrator.plan.shard import case_key
    from orchestrator.result.store import read_json

    run = read_json(path)
    return {case_key(c.plan, c.id): c.duration_s for c in run.cases if c.status.ran}


def print_list(plans: Sequence[Plan], prepared: Prepared, shown: Mapping[str, str]) -> None:
    total = 0
    for plan, kept in zip(plans, prepared.plans):
        print(f"{shown[plan.name]} — {plan.name}")
        running = {c.id for c in kept.cases}
        why = prepared.left_out.get(plan.name, {})
        for case in plan.cases:
            marks = " ".join(x for x in (case.priority, case.level or "", *case.tags) if x)
            if case.id in running:
                total += 1
                skip = f"  (skip: {case.skip})" if case.skip is not None else ""
                print(f"  {case.id}  {case.name}  [{marks}]{skip}")
        for case in plan.cases:
            if case.id not in running:
                print(f"  - {case.id}  {case.name}  [{why.get(case.id, 'left out')}]")
    left = sum(len(v) for v in prepared.left_out.values())
    print(plural(total, "case") + (f" ({left} left out)" if left else ""))


def judge(run: RunResult) -> GateResult:
    """The run's gate judged again from its cases and its plans' gate rules (as the file keeps them)."""
    from orchestrator.run.gate import judge_plans

    return judge_plans(run.plans, run.cases, run.interrupted, run.gate.selection)


def read_results(path: Path) -> RunResult:
    """A results file or a journal for `report` and `merge`, its gate judged again from its cases:
    a hand-edited or stale verdict is never believed (a disagreement is reported), and a run that
    did not end (no completion mark, or a journal) comes back interrupted, its gate failed."""
    from dataclasses import replace

    from orchestrator.result.completion import load_results

    run = load_results(path, judge)
    if not run.complete:
        return run
    gate = judge(run)
    if gate.passed != run.gate.passed:
        print(f"orchestrator: {path}: the stored gate verdict ({'PASSED' if run.gate.passed else 'FAILED'}) "
              f"disagrees with its cases; judged again: {'PASSED' if gate.passed else 'FAILED'}", file=sys.stderr)
    return replace(run, gate=gate)


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
    return most_severe(ExitCode.INTERRUPTED if merged.interrupted else 0,
                       ExitCode.INTERNAL if written.problems else 0,
                       ExitCode.GATE_PASSED if merged.gate.passed else ExitCode.GATE_FAILED)


def add_merge_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merge = sub.add_parser("merge", help="combine the results of --shard runs into one run's reports")
    merge.add_argument("results", nargs="+", metavar="RESULTS.json")
    merge.add_argument("--json", required=True, help="the merged JSON results file")
    merge.add_argument("--junit", help="JUnit XML file")
    merge.add_argument("--html", help="HTML report")
    add_junit_flavor_arg(merge)
