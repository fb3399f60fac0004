"""One `orchestrator run`: the engine wired to the console, the journal and the reports.

The run first claims its report folders (result/outdir: a second run on them exits 2 naming
this one) and removes the previous run's reports. Reports are rewritten as cases finish (at
most once a second), marked incomplete until the final write adds the completion mark, so a
killed run leaves reports that say so; the journal (`results.journal.jsonl` beside
results.json) has every finished case at once, and is removed once results.json is complete.
Interrupts (orchestrator.cli.interrupts) set `stop`: scheduling ends, unfinished cases become
interrupted, and the reports are still written.

Used as `with RunSession(...) as session: run = session.execute(); written = session.write(run)`
(cli/run.py): the run stage, then the write stage; leaving the block closes the journal and
releases the report folders whatever happened.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Sequence

from orchestrator.cli.options import ReportPaths
from orchestrator.errors import UserError
from orchestrator.plan.model import Plan
from orchestrator.procs.leaks import become_subreaper
from orchestrator.procs.tree import kill_all
from orchestrator.procs.watchdog import guard_run
from orchestrator.report.console import ConsoleReporter
from orchestrator.cli.final_write import write_final
from orchestrator.report.writers import Written, write_all
from orchestrator.result.completion import mark_incomplete
from orchestrator.result.journal import Journal, journal_path
from orchestrator.result.journal_texts import reused_from
from orchestrator.result.model import CaseResult, RunResult
from orchestrator.result.outdir import FolderClaim, claim_folders, remove_previous_reports
from orchestrator.run.engine import Engine, Listener, RunOptions
from orchestrator.run.pools import Pools
from orchestrator.run.provider_leaks import describe as describe_provider_leaks

_REWRITE_EVERY_S = 1.0


class RunSession(Listener):
    def __init__(self, plans: Sequence[Plan], options: RunOptions, reports: ReportPaths, stop: threading.Event,
                 *, quiet: bool = False, verbose: bool = False, pools: Pools | None = None) -> None:
        junit, html, json, out = reports.junit, reports.html, reports.json, reports.out
        self.junit, self.html, self.json = junit, html, json
        self.junit_flavor = reports.junit_flavor
        self.stop = stop
        # The engine holds the plans; dropped once the run ended (see execute), so that the
        # memory of 10,000 cases' specs serves the reports being written instead.
        self.engine: Engine | None = Engine(plans, options, self, self.stop, pools=pools)  # pools: started early (run/pools.py)
        engine = self.engine
        self.console = ConsoleReporter(verbose=verbose)
        self.quiet = quiet
        # Before any case runs: a report folder we cannot write would otherwise lose the whole run.
        folders = [p.parent for p in (junit, html, json)] + ([out] if out is not None else [])
        start = engine.result(0.0)  # every case not yet run; its command line masked
        try:
            self.claim: FolderClaim = claim_folders(folders, start.command)
        except OSError as exc:
            where = exc.filename or json.parent
            raise UserError(f"cannot write reports to {where}: {exc.strerror or exc}") from None
        try:
            remove_previous_reports([junit, html, json, journal_path(json)], out)
        except BaseException:
            self.claim.release()
            raise
        self.journal: Journal | None = None
        self._journal_broken = False
        try:
            self.journal = Journal(journal_path(json), start=start)
        except OSError as exc:
            self._journal_failed(exc)
        self._started = time.monotonic()
        self._writers_imported: threading.Thread | None = None
        self._last_write = self._started
        self._rewrite_every = _REWRITE_EVERY_S

    def case_started(self, case_id: str) -> None:
        if not self.quiet:
            self.console.case_started(case_id)

    def jobs_chosen(self, jobs: int, why: str) -> None:
        self.console.jobs_chosen(jobs, why)

    def case_finished(self, case: CaseResult) -> None:
        if self.journal is not None:
            try:
                self.journal.append(case)
            except OSError as exc:
                self._journal_failed(exc)
        if not self.quiet:
            self.console.case_finished(case)
        now = time.monotonic()
        if self.engine is not None and now - self._last_write >= self._rewrite_every and not self.stop.is_set():
            live = self.engine.result(now - self._started)
            self._write(mark_incomplete(live, "the run had not ended when this report was written"))
            self._last_write = time.monotonic()
            # live reports grow with the run: never spend more than ~1/5 of the time rewriting them
            self._rewrite_every = max(_REWRITE_EVERY_S, 4 * (self._last_write - now))

    def pools_closing(self) -> None:
        # Not as the last case finishes: the engine then reads /proc for the worker stats, and
        # with the import holding the GIL each read waited for it, so the workers were told to
        # stop only once the import was done; now they exit while it runs.
        self._writers_imported = _import_writers_meanwhile()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.journal is not None:
            self.journal.close()
        self.claim.release()

    def execute(self) -> RunResult:
        """The run stage: every case, to its end or to `stop` (set by `Interrupts`)."""
        engine = self.engine
        assert engine is not None, "a session runs once"
        become_subreaper()  # orphans and double-forked daemons of targets stay ours to find and kill
        guard_run()  # a watchdog kills the run's processes if we are killed; leftovers of killed runs go
        if not self.quiet:
            self.console.start(engine.total)
        try:
            run = replace(engine.run(), complete=True)
        finally:
            self.console.stop()
            self.engine = None
        kill_all()
        return run

    def write(self, run: RunResult) -> Written:
        """The write stage: the final reports, the summary, and the journal's fate."""
        if self._journal_broken:  # it holds less than memory does, and its space may be what the reports need
            journal_path(self.json).unlink(missing_ok=True)
        if self._writers_imported is not None:
            self._writers_imported.join()
        with reused_from(self.journal):  # results.json's cases: the journal's texts, not encoded again
            written = write_final(run, self.junit, self.html, self.json, junit_flavor=self.junit_flavor)
        for path in {self.junit, self.html, self.json} - set(written.paths):
            _remove_live_copy(path)
        on_disk = [str(p) for p in (self.junit, self.html, self.json) if p in written.paths]
        self.console.summary(run, on_disk)  # never announce a report that is not there
        from orchestrator.report.github import report_to_github  # imported meanwhile (_import_writers_meanwhile)

        problems = [*written.problems, report_to_github(run)]  # annotations, step summary
        for line in describe_provider_leaks(run.provider_leaks):
            print(f"orchestrator: warning: {line}", file=sys.stderr)
        for problem in filter(None, problems):  # one failing writer does not stop the others
            print(f"orchestrator: {problem}", file=sys.stderr)
        if self.journal is not None:
            if self.json not in written.paths:
                self._end_journal(run)  # then `orchestrator report` on it gives the complete run
            self.journal.close()
        if self.json in written.paths:
            # results.json holds every case now; the journal only matters when a run dies first
            journal_path(self.json).unlink(missing_ok=True)
        return written

    def _write(self, run: RunResult) -> Written:
        with reused_from(self.journal):
            return write_all(run, self.junit, self.html, self.json, junit_flavor=self.junit_flavor)

    def _end_journal(self, run: RunResult) -> None:
        assert self.journal is not None
        try:
            self.journal.end(run)
            print(f"orchestrator: every result is in the journal {self.journal.path}: "
                  f"`orchestrator report {self.journal.path}` writes the reports from it", file=sys.stderr)
        except OSError:
            pass

    def _journal_failed(self, exc: OSError) -> None:
        """Said once; the run goes on with its results in memory, and the reports still get written."""
        self._journal_broken = True
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        print(f"orchestrator: cannot write the journal {journal_path(self.json)}: {exc.strerror or exc}; "
              "the run goes on with its results in memory", file=sys.stderr)


def _import_writers_meanwhile() -> threading.Thread | None:
    """The report writers' imports (~2 ms since the page is no longer Jinja2's: ~18 ms with it), on
    a thread once the cases have ended: the run then mostly waits for its workers to exit, and the
    final write need not import."""
    def load() -> None:
        try:
            import orchestrator.procs.forked  # noqa: F401
            import orchestrator.report.github  # noqa: F401
            import orchestrator.report.html  # noqa: F401
            import orchestrator.report.json_report  # noqa: F401
            import orchestrator.report.junit  # noqa: F401
        except Exception:  # the writer imports it again, and reports what is wrong
            pass

    thread = threading.Thread(target=load, name="import-writers", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no thread to be had: the final write imports them (the pools must still close)
        return None
    return thread


def _remove_live_copy(path: Path) -> None:
    """A report whose final write failed: the live rewrite left in its place is not this run's report."""
    try:
        if path.is_file():
            path.unlink()
    except OSError:
        pass
