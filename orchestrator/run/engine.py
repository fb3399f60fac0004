"""The run stage: start provider pools, run the cases, evaluate the gate.

Cases start in plan order (plans in command-line order; `--order priority`: P0 first, then plan
order) on `jobs` threads; results are kept and reported in plan order. Providers are shared; their own `workers` bound how many calls run
at once. `serial`/`lock` cases never overlap (run/schedule.py), `--max-memory` holds new cases
back while the run's processes use more, `-j auto` sizes the jobs from cores and memory.
Stopping is cooperative: the caller sets `stop` (SIGINT) and kills the process trees;
unfinished cases become interrupted.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence, Union

from orchestrator import __version__
from orchestrator.plan.model import CaseSpec, Plan
from orchestrator.plan.step_args import CallArgs
from orchestrator.procs import while_waiting
from orchestrator.procs.api import Pool
from orchestrator.procs.memory import (DEFAULT_JOB_BYTES, PeakSampler, auto_jobs, cpu_count, explain_auto_jobs,
                                       rss_of, run_rss)
from orchestrator.records import record
from orchestrator.result.secrets import Masker
from orchestrator.result.model import (CaseResult, ErrorInfo, PlanInfo, ProviderLeak, RiskInfo, RunResult,
                                       Status, WorkerStats)
from orchestrator.run.attempts import CaseRunner
from orchestrator.run.case import crashed_case, internal_error, unrun_case
from orchestrator.run.gate import judge_plans, recorded_gate
from orchestrator.run.inline import Done, InlineJob
from orchestrator.run.pools import (PoolFactory, Pools, close_all, default_pool_factory, pool_config,
                                   providers_used)
from orchestrator.run.provider_leaks import provider_leaks_after_run
from orchestrator.run.schedule import Exclusion, memory_allows, pick_next, run_order

if TYPE_CHECKING:  # concurrent.futures (with logging) only for -j > 1: ~10 ms of a start
    from concurrent.futures import Future, ThreadPoolExecutor

    Job = Union[Future[CaseResult], Done[CaseResult]]  # a case handed to a job thread, or run inline

_POLL_S = 0.2  # how often the scheduler looks again at memory and stop while cases run


@record
class RunOptions:
    jobs: int = 1
    command: str = ""
    auto_jobs: bool = False  # `-j auto`: `jobs` is then only the floor
    repeat: int | None = None  # `--repeat N`: every case runs N times
    fail_fast: bool = False
    by_priority: bool = False  # `--order priority`: P0 cases start first (results stay in plan order)
    max_memory_bytes: int | None = None
    # The plans as selected before `--shard` took its part (same order as the run's plans):
    # their case ids go into the results so that `merge` restores plan order and sees gaps.
    unsharded: tuple[Plan, ...] = ()
    shard: str = ""  # "2/3"
    secrets: tuple[str, ...] = ()  # values masked in every result (`--secret`, secret-named `--var`)
    # The plans as loaded, before -k/--tag/--priority/--level/--id (empty: nothing was left out),
    # and that selection as given ("--priority P0"): the gate says it is not a full gate.
    selected_from: tuple[Plan, ...] = ()
    selection: str = ""


class Listener:
    """Told about each case as it starts and finishes (console, journal, live reports)."""

    def case_started(self, case_id: str) -> None:
        pass

    def case_finished(self, case: CaseResult) -> None:
        pass

    def jobs_chosen(self, jobs: int, why: str) -> None:
        """`-j auto`: how many cases run at once, and why (cores, memory)."""

    def pools_closing(self) -> None:
        """The cases have ended (their workers' stats taken): the pools close next, and their
        workers' graceful exit is a wait the listener may fill."""


class Engine:
    def __init__(self, plans: Sequence[Plan], options: RunOptions, listener: Listener,
                 stop: threading.Event | None = None, pool_factory: PoolFactory | None = None,
                 pools: Pools | None = None) -> None:
        # A case's spec is held here only until its result is (see _finish): the engine keeps the
        # plans without their cases, and what the results need of the whole plans is taken now.
        # At 10,000 cases the finished cases' specs would otherwise stay beside their results.
        self._specs: list[list[CaseSpec | None]] = [list(p.cases) for p in plans]
        self.plans = list(plans)
        self.options = options
        self._plan_infos = tuple(self._plan_info(i) for i in range(len(self.plans)))
        self.plans = [replace(p, cases=()) for p in plans]
        self.options = replace(options, unsharded=(), selected_from=())
        self.listener = listener
        self.stop = stop or threading.Event()
        self._pool_factory = pool_factory or default_pool_factory
        self._pools: dict[int, dict[str, Pool]] = {}  # by plan index
        self._early = pools or {}  # started before the run (run/pools.start_early): adopted, closed with ours
        # by plan index, then case index: no key tuple per case stays alive with its result
        self._results: list[list[CaseResult | None]] = [[None] * len(specs) for specs in self._specs]
        self._started_at = time.time()
        self._failed_fast = False
        self._limit, self._limit_at = 1, -1.0
        self._sampler: PeakSampler | None = None
        self._environ = dict(os.environ)  # what `env` shows every case's templates
        self._runner = CaseRunner(self.stop, self._environ, options.repeat)
        self._crash: ErrorInfo | None = None  # an exception of ours that ended the scheduling
        self._masker = Masker(options.secrets + tuple(v for p in self.plans for v in p.secret_values(self._environ)))
        self._provider_leaks: tuple[ProviderLeak, ...] = ()
        self._hands_over: dict[tuple[int, object], bool] = {}  # (plan index, provider) -> see _opens_with_worker_call

    @property
    def total(self) -> int:
        return sum(len(specs) for specs in self._specs)

    def run(self) -> RunResult:
        started = time.monotonic()
        self._sampler = self._runner.sampler = PeakSampler().start()
        try:
            self._start_pools()
            if self.options.auto_jobs:
                estimate = self._job_estimate()
                self._limit, why = explain_auto_jobs(estimate, measured=estimate != DEFAULT_JOB_BYTES)
                self._limit_at = time.monotonic()
                self.listener.jobs_chosen(self._limit, why)
            self._run_cases()
        except Exception as exc:  # a bug of ours: the cases it cost are errors, the reports still get written
            self._crash = internal_error(exc)
        finally:
            workers = self._worker_stats()
            self._sampler.close()
            self.listener.pools_closing()
            self.close()
            self._provider_leaks = provider_leaks_after_run()
        return self.result(time.monotonic() - started, workers)

    def close(self) -> None:
        close_all(self._pools, self._early)  # ours and the early ones we adopted, together

    def result(self, duration_s: float, workers: tuple[WorkerStats, ...] = ()) -> RunResult:
        """The run so far: cases that have not finished are interrupted."""
        cases: list[CaseResult] = []
        for key, plan, case in self._all_cases():
            done = self._results[key[0]][key[1]]  # masked as it finished
            if done is None:
                assert case is not None, "a case's spec is dropped only once its result is kept"
                done = self._masker.value(crashed_case(plan, case, self._crash) if self._crash is not None else
                                          unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted"))
            cases.append(done)
        interrupted = self.stop.is_set()
        plans = self._plan_infos
        deadline = _deadline(self.stop)
        gate = judge_plans(plans, cases, interrupted, self.options.selection, deadline)
        run = RunResult(
            plans=plans, cases=tuple(cases), gate=gate,
            started_at=self._started_at, duration_s=duration_s, interrupted=interrupted,
            version=__version__, command=self.options.command, workers=workers,
            provider_leaks=self._provider_leaks, deadline=deadline)
        masked: RunResult = self._masker.value(replace(run, cases=()))  # the cases already are
        return replace(masked, cases=run.cases)

    def _plan_info(self, index: int) -> PlanInfo:
        p = self.plans[index]
        whole = (self.options.unsharded or tuple(self.plans))[index]  # the selection, all shards
        loaded = (self.options.selected_from or (self.options.unsharded or tuple(self.plans)))[index]
        return PlanInfo(name=p.name, title=p.title, file=p.cases[0].location.file if p.cases else str(p.path),
                        requirements=dict(p.requirements),
                        risks={k: RiskInfo(r.title, r.likelihood, r.impact) for k, r in p.risks.items()},
                        gate=recorded_gate(p.gate), case_ids=tuple(c.id for c in whole.cases),
                        not_selected_covers=_covers_not_in(loaded, whole),
                        other_shards_cover=_covers_not_in(whole, p))

    def _all_cases(self) -> Iterator[tuple[tuple[int, int], Plan, CaseSpec | None]]:
        """Every case, finished or not: a finished case's spec is gone, its result is in `_results`."""
        for p, plan in enumerate(self.plans):
            for c, case in enumerate(self._specs[p]):
                yield (p, c), plan, case

    def _start_pools(self) -> None:
        if self.stop.is_set():  # interrupted while loading: start nothing, report everything
            return
        for p, plan in enumerate(self.plans):
            pools: dict[str, Pool] = {}
            early = self._early.get(p, {})
            for provider_id in providers_used(plan, [c for c in self._specs[p] if c is not None]):
                spec = plan.providers[provider_id]
                if provider_id in early:
                    pools[provider_id] = early[provider_id]
                elif spec.kind == "python":
                    from orchestrator.procs.spin import spin_budget

                    pools[provider_id] = self._pool_factory(pool_config(spec, plan.name, spin_budget(self._threads())))
                elif spec.kind == "http":
                    from orchestrator.run.http_provider import HttpPool

                    pools[provider_id] = HttpPool(spec, plan.vars)
            self._pools[p] = pools
        for pools in self._pools.values():
            for pool in pools.values():
                pool.start()

    def _run_cases(self) -> None:
        """Admit cases in run order (plan order, or priority order) as slots, exclusion and memory allow."""
        cases = [(key, plan, case) for key, plan, case in self._all_cases() if case is not None]
        ready = run_order(cases) if self.options.by_priority else cases
        del cases  # `ready` alone holds the cases still to start
        threads = self._threads()
        free_jobs = list(range(threads))
        exclusion = Exclusion()
        pending: dict[Job, tuple[tuple[int, int], int]] = {}
        jobs = InlineJob(self.stop, self.close) if threads == 1 else _job_threads(threads)
        with jobs as executor, _handed_over_flushed():
            while ready or pending:
                if not self.stop.is_set() and not self._failed_fast:
                    self._admit(executor, ready, pending, free_jobs, exclusion)
                if not pending:
                    break
                done = list(pending) if threads == 1 else _first_done(pending)  # inline: done when submitted
                finished: list[tuple[tuple[int, int], CaseResult]] = []
                for future in done:
                    key, job = pending.pop(future)
                    free_jobs.append(job)
                    free_jobs.sort()
                    exclusion.finished(key)
                    result = future.result()
                    finished.append((key, result))
                    if self.options.fail_fast and result.status in (Status.FAILED, Status.ERROR):
                        self._failed_fast = True
                if finished and not self.stop.is_set() and not self._failed_fast and threads > 1:
                    # The freed jobs take their next cases before the listener reports the finished
                    # ones (journal, console, a live rewrite of the reports): jobs never wait on that.
                    self._admit(executor, ready, pending, free_jobs, exclusion)
                for key, result in finished:
                    if threads == 1:  # reported while the next case's call runs, if it opens with one
                        while_waiting.hand_over(partial(self._finish, key, result))
                    else:
                        self._finish(key, result)
                if self.stop.is_set():
                    # Closed pools start no replacement for the workers the interrupt killed,
                    # so a call still waiting for one ends now instead of at its timeout.
                    self.close()
                    if not pending:
                        break
        if self._failed_fast and not self.stop.is_set():
            for key, plan, case in sorted(ready, key=lambda item: item[0]):
                self._finish(key, unrun_case(plan, case, Status.SKIPPED, "not run: fail-fast"))

    def _opens_with_worker_call(self, plan_index: int, case: CaseSpec) -> bool:
        """The case's first step is a call to a pool that runs handed-over work while it waits
        (procs/while_waiting): the previous case's report can wait for that call."""
        if not case.steps:
            return False
        first = case.steps[0]
        if type(first.args) is not CallArgs and not isinstance(first.args, CallArgs) or first.condition is not None:
            return False
        provider = first.args.provider
        known = self._hands_over.get((plan_index, provider))
        if known is None:
            pool = self._pools.get(plan_index, {}).get(str(provider))
            known = bool(getattr(pool, "runs_handed_over_work", False))
            if pool is not None:  # pools are started once, before the cases: the answer stays
                self._hands_over[(plan_index, provider)] = known
        return known

    def _threads(self) -> int:
        """How many cases run at once at most: `-j N`, or with `-j auto` at least one per core."""
        return self.options.jobs if not self.options.auto_jobs else max(self.options.jobs, cpu_count())

    def _admit(self, executor: ThreadPoolExecutor | InlineJob, ready: list[tuple[tuple[int, int], Plan, CaseSpec]],
               pending: dict[Job, tuple[tuple[int, int], int]], free_jobs: list[int],
               exclusion: Exclusion) -> None:
        limit = self._job_limit()
        max_memory = self.options.max_memory_bytes
        while ready and free_jobs and len(pending) < limit:
            if max_memory is not None and not memory_allows(run_rss() if max_memory else 0, max_memory, len(pending)):
                return
            # Nothing running: the first case may start (what pick_next says then, without its walk).
            index = 0 if not exclusion.running else pick_next(ready, exclusion)
            if index is None:
                return
            key, plan, case = ready.pop(index)
            if case.skip is not None:  # costs nothing: reported at once, takes no slot
                while_waiting.flush()
                self._finish(key, unrun_case(plan, case, Status.SKIPPED, case.skip))
                continue
            job = free_jobs.pop(0)
            exclusion.started(key, case)
            if isinstance(executor, InlineJob) and self._opens_with_worker_call(key[0], case):
                while_waiting.hand_over(partial(self.listener.case_started, self._masker.text(case.id)))
            else:  # what the previous case handed over is reported now, not after this whole case
                while_waiting.flush()
                self.listener.case_started(self._masker.text(case.id))
            pending[executor.submit(self._run_one, key, plan, case, job)] = (key, job)

    def _job_limit(self) -> int:
        """`-j N` as given; `-j auto`: cores AND free memory at the measured cost of one job."""
        if not self.options.auto_jobs:
            return self.options.jobs
        now = time.monotonic()
        if now - self._limit_at >= 0.5:
            self._limit_at = now
            self._limit = auto_jobs(self._job_estimate())
        return self._limit

    def _job_estimate(self) -> int:
        """Bytes one more running case costs: the largest attempt peak so far, else the largest
        provider worker measured, else DEFAULT_JOB_BYTES (2 GiB, as seed 004 assumed)."""
        if self._runner.peaks:
            return max(self._runner.peaks)
        workers = [rss_of([pid]) for pools in self._pools.values() for pool in pools.values()
                   for pid in pool.pids()]
        measured = max(workers, default=0)
        return measured if measured > 0 else DEFAULT_JOB_BYTES

    def _run_one(self, key: tuple[int, int], plan: Plan, case: CaseSpec, job: int) -> CaseResult:
        try:
            return self._runner.run(plan, case, self._pools[key[0]], job)
        except Exception as exc:  # outside any step (steps catch their own): this case errors, the run goes on
            return crashed_case(plan, case, internal_error(exc))

    def _finish(self, key: tuple[int, int], result: CaseResult) -> None:
        result = self._masker.value(result)  # before anything stores or prints it
        self._results[key[0]][key[1]] = result
        self._specs[key[0]][key[1]] = None  # the result holds all the reports need of it
        self.listener.case_finished(result)

    def _worker_stats(self) -> tuple[WorkerStats, ...]:
        stats: list[WorkerStats] = []
        for pools in self._pools.values():
            for pool in pools.values():
                for s in pool.stats():
                    stats.append(WorkerStats(provider=s.provider_id, index=s.index, pid=s.pid, calls=s.calls,
                                             restarts=s.restarts, restart_reasons=tuple(s.restart_reasons),
                                             cold_start_ms=s.cold_start_ms, peak_rss_bytes=s.peak_rss_bytes))
        return tuple(stats)


@contextmanager
def _handed_over_flushed() -> Iterator[None]:
    """Whatever the scheduling loop handed over is reported by the time it ends, however it ends."""
    try:
        yield
    finally:
        while_waiting.flush()


def _job_threads(threads: int) -> ThreadPoolExecutor:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(threads, thread_name_prefix="job")


def _first_done(pending: Mapping[Job, object]) -> list[Job]:
    """The jobs done within _POLL_S (at least one unless none is done by then)."""
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    futures = [job for job in pending if isinstance(job, Future)]
    done, _ = wait(futures, timeout=_POLL_S, return_when=FIRST_COMPLETED)
    return [*done, *(job for job in pending if not isinstance(job, Future))]


def _covers_not_in(more: Plan, fewer: Plan) -> tuple[str, ...]:
    """Keys covered by cases of `more` that `fewer` does not have."""
    kept = {c.id for c in fewer.cases}
    return tuple(dict.fromkeys(k for c in more.cases if c.id not in kept for k in c.covers))


def _deadline(stop: threading.Event) -> str | None:
    """The run's --timeout as written back ("30m"), when that is what stopped it."""
    if not getattr(stop, "deadline_passed", False):
        return None
    from orchestrator.procs.command import shown_duration

    return shown_duration(float(getattr(stop, "timeout_s", 0) or 0))
