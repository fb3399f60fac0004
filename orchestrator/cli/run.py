"""`orchestrator run`: load → select → shard → run → write → verdict, each stage a function.

The command line becomes a typed `RunRequest` first (a bad -j, --timeout or --max-memory is a
usage error before anything loads); each stage takes the previous stage's value. The run path
(session, engine, reports) is imported only once the plans are selected, while the providers'
workers start (run/pools.start_early).
"""
from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from orchestrator.cli import options as opts
from orchestrator.cli.options import ReportPaths
from orchestrator.cli.plans import load
from orchestrator.cli.select import Prepared, SelectOptions, select_stage, shard_stage
from orchestrator.cli.verdict import Outcome, exit_code
from orchestrator.plan.model import Plan
from orchestrator.records import record

if TYPE_CHECKING:
    from orchestrator.cli.session import RunSession
    from orchestrator.report.writers import Written
    from orchestrator.result.model import RunResult
    from orchestrator.run.pools import Pools


@record
class RunRequest:
    """Everything `orchestrator run` was asked, typed."""

    plan_paths: tuple[str, ...]
    overrides: dict[str, str]  # --var and --secret
    secrets: tuple[str, ...]  # values masked everywhere
    root: str | None
    select: SelectOptions
    reports: ReportPaths
    jobs: int
    auto_jobs: bool
    repeat: int | None
    fail_fast: bool
    by_priority: bool
    max_memory_bytes: int | None
    timeout_s: float | None
    quiet: bool
    verbose: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunRequest:
        timeout_s = opts.run_timeout(args.timeout)  # checked in this order, as ever
        jobs, max_memory_bytes = opts.jobs(args.jobs), opts.max_memory(args.max_memory)
        out = Path(args.out)
        reports = ReportPaths(junit=Path(args.junit) if args.junit else out / "junit.xml",
                              html=Path(args.html) if args.html else out / "report.html",
                              json=Path(args.json) if args.json else out / "results.json",
                              out=out, junit_flavor=args.junit_flavor)
        return cls(plan_paths=tuple(args.plans), overrides=opts.all_vars(args), secrets=opts.secret_values(args),
                   root=args.root, select=SelectOptions.from_args(args), reports=reports,
                   jobs=jobs, auto_jobs=args.jobs == "auto", repeat=args.repeat,
                   fail_fast=args.fail_fast, by_priority=args.order == "priority",
                   max_memory_bytes=max_memory_bytes, timeout_s=timeout_s,
                   quiet=args.quiet, verbose=args.verbose)


def cmd_run(args: argparse.Namespace) -> int:
    from orchestrator.cli.interrupts import Interrupts, stop_exit_code

    request = RunRequest.from_args(args)  # a bad option is a usage error before signals are taken
    interrupts = Interrupts(timeout_s=request.timeout_s).install()
    from orchestrator.run import early_worker

    try:
        from orchestrator.procs.watchdog import start_watchdog

        start_watchdog()  # now: it boots on the core the loading leaves idle (procs/watchdog)
        if not interrupts.stop.is_set():
            early_worker.start(request.plan_paths)  # so does the plan's worker, held (run/early_worker)
        plans = load_stage(request)
        prepared = shard_stage(select_stage(plans, request.select), request.select)
        from orchestrator.run.pools import close_all, start_early

        one_at_a_time = request.jobs == 1 and not request.auto_jobs
        pools = start_early(prepared.plans, interrupts.stop, 1 if one_at_a_time else 2)  # they boot while we import
        try:
            with open_session(request, plans, prepared, interrupts.stop, pools) as session:
                del plans, prepared  # the session holds them only while it runs: the reports need the results
                run = session.execute()
                written = session.write(run)
        finally:
            close_all(pools)  # already closed by the engine, unless the session never started it
        return exit_code(verdict(run, written, interrupts.stop, stop_exit_code(interrupts.stop)))
    finally:
        early_worker.discard()  # not wanted after all (a plan error, a stop, another provider)
        interrupts.restore()


def load_stage(request: RunRequest) -> list[Plan]:
    return load(request.plan_paths, request.overrides, request.root)


def open_session(request: RunRequest, loaded: Sequence[Plan], prepared: Prepared,
                 stop: threading.Event, pools: Pools | None = None) -> RunSession:
    """Claims the report folders (before any case runs) and builds the engine's typed options;
    `pools`: started early, for the engine to adopt."""
    from orchestrator.cli.session import RunSession
    from orchestrator.run.engine import RunOptions

    options = RunOptions(jobs=request.jobs, command=opts.masked_command(request.secrets, loaded),
                         auto_jobs=request.auto_jobs, repeat=request.repeat, fail_fast=request.fail_fast,
                         by_priority=request.by_priority, max_memory_bytes=request.max_memory_bytes,
                         unsharded=prepared.unsharded, shard=str(prepared.shard or ""), secrets=request.secrets,
                         selected_from=prepared.loaded, selection=prepared.selection)
    return RunSession(list(prepared.plans), options, request.reports, stop, quiet=request.quiet,
                      verbose=request.verbose, pools=pools)


def verdict(run: RunResult, written: Written, stop: threading.Event, stop_code: int | None) -> Outcome:
    """The gate, whether the run was stopped (and by what), and whether every report was written."""
    return Outcome(run.gate.passed, unwritten=len(written.problems),
                   interrupted=run.interrupted or stop.is_set(), stop_code=stop_code)
