"""One `orchestrator run`: the engine wired to the console, the journal and the reports.

Reports are rewritten as cases finish (at most once a second, and at the end), so an
interrupted or killed run keeps what it did; the journal (`results.journal.jsonl` beside
results.json) has every finished case at once, and is removed once results.json is complete.
Interrupts (orchestrator.interrupts) set `stop`: scheduling ends, unfinished cases become
interrupted, and the reports are still written.
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from orchestrator.errors import ExitCode, UserError
from orchestrator.interrupts import stop_exit_code
from orchestrator.plan.model import Plan
from orchestrator.procs.leaks import become_subreaper
from orchestrator.procs.tree import kill_all
from orchestrator.procs.watchdog import guard_run
from orchestrator.report.console import ConsoleReporter
from orchestrator.report.github import report_to_github
from orchestrator.report.writers import write_reports
from orchestrator.result.model import CaseResult, RunResult
from orchestrator.result.store import Journal
from orchestrator.run.engine import Engine, Listener, RunOptions
from orchestrator.run.provider_leaks import describe as describe_provider_leaks

_REWRITE_EVERY_S = 1.0


class RunSession(Listener):
    def __init__(self, plans: Sequence[Plan], *, jobs: int, quiet: bool, junit: Path, html: Path,
                 json: Path, command: str, stop: threading.Event, verbose: bool = False,
                 options: Mapping[str, Any] | None = None) -> None:
        self.junit, self.html, self.json = junit, html, json
        self.stop = stop
        self.engine = Engine(plans, RunOptions(jobs=jobs, command=command, **dict(options or {})), self, self.stop)
        self.console = ConsoleReporter(verbose=verbose)
        self.quiet = quiet
        # Before any case runs: a report folder we cannot write would otherwise lose the whole run.
        try:
            for path in (junit, html, json):
                path.parent.mkdir(parents=True, exist_ok=True)
            journal = json.with_name(json.stem + ".journal.jsonl")
            journal.unlink(missing_ok=True)  # a journal is this run's, never the previous one's
            self.journal = Journal(journal)
        except OSError as exc:
            where = exc.filename or json.parent
            raise UserError(f"cannot write reports to {where}: {exc.strerror or exc}") from None
        self._started = time.monotonic()
        self._last_write = self._started
        self._rewrite_every = _REWRITE_EVERY_S

    def case_started(self, case_id: str) -> None:
        if not self.quiet:
            self.console.case_started(case_id)

    def case_finished(self, case: CaseResult) -> None:
        self.journal.append(case)
        if not self.quiet:
            self.console.case_finished(case)
        now = time.monotonic()
        if now - self._last_write >= self._rewrite_every and not self.stop.is_set():
            self._write(self.engine.result(now - self._started))
            self._last_write = time.monotonic()
            # live reports grow with the run: never spend more than ~1/5 of the time rewriting them
            self._rewrite_every = max(_REWRITE_EVERY_S, 4 * (self._last_write - now))

    def run(self) -> int:
        """Run and report; the caller has installed `Interrupts`, which sets `stop`."""
        become_subreaper()  # orphans and double-forked daemons of targets stay ours to find and kill
        guard_run()  # a watchdog kills the run's processes if we are killed; leftovers of killed runs go
        try:
            if not self.quiet:
                self.console.start(self.engine.total)
            try:
                run = self.engine.run()
            finally:
                self.console.stop()
            kill_all(grace_s=0.5)
            problems = self._write(run)
            written = not problems
            self.console.summary(run, [str(p) for p in (self.junit, self.html, self.json)])
            for line in describe_provider_leaks(run.provider_leaks):
                print(f"orchestrator: warning: {line}", file=sys.stderr)
            problems.append(report_to_github(run))  # under GitHub Actions: annotations, step summary
            for problem in filter(None, problems):  # one failing writer does not stop the others
                print(f"orchestrator: {problem}", file=sys.stderr)
        finally:
            self.journal.close()
        if written:
            # results.json holds every case now; the journal only matters when a run dies first
            self.journal.path.unlink(missing_ok=True)
        stopped = stop_exit_code(self.stop)  # a signal (128 + N) or the --timeout deadline (124)
        if stopped is not None:
            return stopped
        if run.interrupted or self.stop.is_set():
            return ExitCode.INTERRUPTED
        return ExitCode.GATE_PASSED if run.gate.passed else ExitCode.GATE_FAILED

    def _write(self, run: RunResult) -> list[str]:
        return write_reports(run, self.junit, self.html, self.json)
