"""The run stage: start provider pools, run the cases, evaluate the gate.

Cases start in priority order (P0 first, then plan order) on `jobs` threads; results are kept
and reported in plan order. Providers are shared; their own `workers` bound how many calls run
at once. `serial`/`lock` cases never overlap (run/schedule.py), `--max-memory` holds new cases
back while the run's processes use more, `-j auto` sizes the jobs from cores and memory.
Stopping is cooperative: the caller sets `stop` (SIGINT) and kills the process trees;
unfinished cases become interrupted.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

from orchestrator import __version__
from orchestrator.plan.model import CaseSpec, GateSpec, Plan, ProviderSpec
from orchestrator.procs.api import Pool, PoolConfig
from orchestrator.procs.memory import DEFAULT_JOB_BYTES, PeakSampler, auto_jobs, cpu_count, rss_of, run_rss
from orchestrator.result.model import (Attempt, CaseResult, GateRule, PlanInfo, ProviderLeak, RunResult,
                                       Status, WorkerStats)
from orchestrator.run.case import finish_case, run_attempt, unrun_case
from orchestrator.run.gate import evaluate_gate
from orchestrator.run.provider_leaks import provider_leaks_after_run
from orchestrator.run.schedule import Exclusion, memory_allows, pick_next, run_order

PoolFactory = Callable[[PoolConfig], Pool]
_POLL_S = 0.2  # how often the scheduler looks again at memory and stop while cases run


@dataclass(frozen=True)
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


class Listener:
    """Told about each case as it starts and finishes (console, journal, live reports)."""

    def case_started(self, case_id: str) -> None:
        pass

    def case_finished(self, case: CaseResult) -> None:
        pass


def _default_pool_factory(config: PoolConfig) -> Pool:
    from orchestrator.procs.pool import create_pool

    return create_pool(config)  # persistent or ephemeral, by the provider's mode


def pool_config(provider: ProviderSpec, plan: str = "-") -> PoolConfig:
    return PoolConfig(provider_id=provider.id, python_file=str(provider.python_file),
                      function=provider.function, interpreter=provider.interpreter,
                      workers=provider.workers, timeout_s=provider.timeout_s,
                      startup_timeout_s=provider.startup_timeout_s, env=dict(provider.env),
                      cwd=str(provider.cwd), config=dict(provider.config), mode=provider.mode,
                      max_calls=provider.max_calls, max_rss_bytes=provider.max_rss_bytes,
                      affinity=provider.affinity, queue_timeout_s=provider.queue_timeout_s,
                      max_restarts=provider.max_restarts, plan=plan)


def providers_used(plan: Plan, cases: Sequence[CaseSpec]) -> list[str]:
    used: set[str] = set()

    def walk(steps: Sequence[object]) -> None:
        for step in steps:
            args = getattr(step, "args", {})
            if getattr(step, "action", "") == "call":
                used.add(str(args["provider"]))
            elif getattr(step, "action", "") == "load":
                used.add(str(args.get("call")))
            walk(args.get("steps", ()))

    for case in cases:
        if case.skip is None:
            walk(case.steps)
    return [p for p in plan.providers if p in used]


class Engine:
    def __init__(self, plans: Sequence[Plan], options: RunOptions, listener: Listener,
                 stop: threading.Event | None = None, pool_factory: PoolFactory | None = None) -> None:
        self.plans = list(plans)
        self.options = options
        self.listener = listener
        self.stop = stop or threading.Event()
        self._pool_factory = pool_factory or _default_pool_factory
        self._pools: dict[int, dict[str, Pool]] = {}  # by plan index
        self._results: dict[tuple[int, int], CaseResult] = {}
        self._started_at = time.time()
        self._failed_fast = False
        self._peaks: list[int] = []  # peak RSS of finished attempts, for `-j auto`
        self._limit, self._limit_at = 1, -1.0
        self._sampler: PeakSampler | None = None
        self._environ = dict(os.environ)  # what `env` shows every case's templates
        self._provider_leaks: tuple[ProviderLeak, ...] = ()

    @property
    def total(self) -> int:
        return sum(len(p.cases) for p in self.plans)

    def run(self) -> RunResult:
        started = time.monotonic()
        self._sampler = PeakSampler().start()
        try:
            self._start_pools()
            self._run_cases()
        finally:
            workers = self._worker_stats()
            self._sampler.close()
            self.close()
            self._provider_leaks = provider_leaks_after_run()
        return self.result(time.monotonic() - started, workers)

    def close(self) -> None:
        for pools in self._pools.values():
            for pool in pools.values():
                pool.close()

    def result(self, duration_s: float, workers: tuple[WorkerStats, ...] = ()) -> RunResult:
        """The run so far: cases that have not finished are interrupted."""
        cases: list[CaseResult] = []
        for key, plan, case in self._all_cases():
            done = self._results.get(key)
            cases.append(done or unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted"))
        interrupted = self.stop.is_set()
        gate_spec = self.plans[0].gate if len(self.plans) == 1 else _merged_gate(self.plans)
        gate_spec, elsewhere = self._shard_gate(gate_spec)
        gate = evaluate_gate(gate_spec, cases, interrupted, _deadline(self.stop))
        if elsewhere:
            gate = replace(gate, rules=gate.rules + elsewhere)
        whole = self.options.unsharded or tuple(self.plans)
        return RunResult(
            plans=tuple(PlanInfo(name=p.name, title=p.title, file=p.cases[0].location.file if p.cases else str(p.path),
                                 requirements=dict(p.requirements),
                                 risks={k: {"title": r.title, "likelihood": r.likelihood, "impact": r.impact}
                                        for k, r in p.risks.items()},
                                 gate=gate_dict(p.gate), case_ids=tuple(c.id for c in w.cases))
                        for p, w in zip(self.plans, whole)),
            cases=tuple(cases), gate=gate,
            started_at=self._started_at, duration_s=duration_s, interrupted=interrupted,
            version=__version__, command=self.options.command, workers=workers,
            provider_leaks=self._provider_leaks)

    def _shard_gate(self, gate: GateSpec | None) -> tuple[GateSpec | None, tuple[GateRule, ...]]:
        """A shard cannot judge coverage that only another shard's cases give: those rules pass
        here with a note, and `orchestrator merge` judges them over all cases."""
        if gate is None or not self.options.unsharded or not gate.require_covered:
            return gate, ()
        here = {k for p in self.plans for c in p.cases for k in c.covers}
        there = {k for p in self.options.unsharded for c in p.cases for k in c.covers} - here
        moved = tuple(k for k in gate.require_covered if k in there)
        if not moved:
            return gate, ()
        kept = tuple(k for k in gate.require_covered if k not in moved)
        note = f"only cases of other shards cover it (shard {self.options.shard}); the merged gate decides"
        return replace(gate, require_covered=kept), tuple(GateRule(f"covered {k}", True, note) for k in moved)

    def _all_cases(self) -> Iterator[tuple[tuple[int, int], Plan, CaseSpec]]:
        for p, plan in enumerate(self.plans):
            for c, case in enumerate(plan.cases):
                yield (p, c), plan, case

    def _start_pools(self) -> None:
        if self.stop.is_set():  # interrupted while loading: start nothing, report everything
            return
        for p, plan in enumerate(self.plans):
            pools: dict[str, Pool] = {}
            for provider_id in providers_used(plan, plan.cases):
                spec = plan.providers[provider_id]
                if spec.kind == "python":
                    pools[provider_id] = self._pool_factory(pool_config(spec, plan.name))
                elif spec.kind == "http":
                    from orchestrator.run.http_provider import HttpPool

                    pools[provider_id] = HttpPool(spec, plan.vars)
            self._pools[p] = pools
        for pools in self._pools.values():
            for pool in pools.values():
                pool.start()

    def _run_cases(self) -> None:
        """Admit cases in priority order as slots, exclusion (`serial`/`lock`) and memory allow."""
        cases = list(self._all_cases())
        ready = run_order(cases) if self.options.by_priority else cases
        threads = self.options.jobs if not self.options.auto_jobs else max(self.options.jobs, cpu_count())
        free_jobs = list(range(threads))
        exclusion = Exclusion()
        pending: dict[Future[CaseResult], tuple[tuple[int, int], int]] = {}
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job") as executor:
            while ready or pending:
                if not self.stop.is_set() and not self._failed_fast:
                    self._admit(executor, ready, pending, free_jobs, exclusion)
                if not pending:
                    break
                done, _ = wait(list(pending), timeout=_POLL_S, return_when=FIRST_COMPLETED)
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
                if finished and not self.stop.is_set() and not self._failed_fast:
                    # The freed jobs take their next cases before the listener reports the finished
                    # ones (journal, console, a live rewrite of the reports): jobs never wait on that.
                    self._admit(executor, ready, pending, free_jobs, exclusion)
                for key, result in finished:
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

    def _admit(self, executor: ThreadPoolExecutor, ready: list[tuple[tuple[int, int], Plan, CaseSpec]],
               pending: dict[Future[CaseResult], tuple[tuple[int, int], int]], free_jobs: list[int],
               exclusion: Exclusion) -> None:
        limit = self._job_limit()
        while ready and free_jobs and len(pending) < limit:
            if not memory_allows(run_rss() if self.options.max_memory_bytes else 0,
                                 self.options.max_memory_bytes, len(pending)):
                return
            index = pick_next(ready, exclusion)
            if index is None:
                return
            key, plan, case = ready.pop(index)
            if case.skip is not None:  # costs nothing: reported at once, takes no slot
                self._finish(key, unrun_case(plan, case, Status.SKIPPED, case.skip))
                continue
            job = free_jobs.pop(0)
            exclusion.started(key, case)
            self.listener.case_started(case.id)
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
        if self._peaks:
            return max(self._peaks)
        workers = [rss_of([pid]) for pools in self._pools.values() for pool in pools.values()
                   for pid in pool.pids()]
        measured = max(workers, default=0)
        return measured if measured > 0 else DEFAULT_JOB_BYTES

    def _run_one(self, key: tuple[int, int], plan: Plan, case: CaseSpec, job: int) -> CaseResult:
        if self.stop.is_set():
            return unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted")
        if case.skip is not None:
            return unrun_case(plan, case, Status.SKIPPED, case.skip)
        if self.options.repeat is not None:
            case = replace(case, repeat=self.options.repeat)
        pools = self._pools[key[0]]
        if case.repeat > 1:
            attempts = self._repeat(plan, case, pools, job)
            if not attempts:
                return unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted")
        else:
            attempts = [self._attempt(plan, case, pools, job)]
            while (attempts[-1].status in (Status.FAILED, Status.ERROR) and len(attempts) <= case.retries
                   and not self.stop.is_set()):
                attempts.append(self._attempt(plan, case, pools, job))
        return finish_case(plan, case, attempts)

    def _attempt(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> Attempt:
        attempt = run_attempt(plan, case, pools, self.stop, job, self._sampler, self._environ)
        if attempt.peak_rss_bytes:
            self._peaks.append(attempt.peak_rss_bytes)
        return attempt

    def _repeat(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> list[Attempt]:
        """`repeat` runs, `concurrency` of them at once (a stress test when more than one).

        With `stop_on_failure: true` no attempt starts after one did not pass.
        """
        stop_on_failure = bool(case.extra.get("stop_on_failure", False))
        failed = threading.Event()

        def one(_: int) -> Attempt | None:
            if self.stop.is_set() or failed.is_set():
                return None
            attempt = self._attempt(plan, case, pools, job)
            if stop_on_failure and attempt.status is not Status.PASSED:
                failed.set()
            return attempt

        if case.concurrency <= 1:
            found = [one(i) for i in range(case.repeat)]
        else:
            with ThreadPoolExecutor(max_workers=case.concurrency, thread_name_prefix="repeat") as executor:
                found = list(executor.map(one, range(case.repeat)))
        return [a for a in found if a is not None]

    def _finish(self, key: tuple[int, int], result: CaseResult) -> None:
        self._results[key] = result
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


def _deadline(stop: threading.Event) -> str | None:
    """The run's --timeout as written back ("30m"), when that is what stopped it."""
    if not getattr(stop, "deadline_passed", False):
        return None
    from orchestrator.procs.command import shown_duration

    return shown_duration(float(getattr(stop, "timeout_s", 0) or 0))


def gate_dict(gate: GateSpec | None) -> dict[str, Any] | None:
    """The gate as the results file keeps it, for `orchestrator merge` (see gate_from_dict)."""
    if gate is None:
        return None
    return {"pass_rate": dict(gate.pass_rate), "max_flaky": gate.max_flaky,
            "require_covered": list(gate.require_covered)}


def gate_from_dict(data: Mapping[str, Any] | None) -> GateSpec | None:
    if data is None:
        return None
    return GateSpec(pass_rate={str(k): float(v) for k, v in dict(data.get("pass_rate") or {}).items()},
                    max_flaky=data.get("max_flaky"), require_covered=tuple(data.get("require_covered") or ()))


def _merged_gate(plans: Sequence[Plan]) -> GateSpec | None:
    return merge_gates([p.gate for p in plans])


def merge_gates(specs: Sequence[GateSpec | None]) -> GateSpec | None:
    """Several plans in one run: the gate of each applies; a plan without one adds no rule."""
    if len(specs) == 1:
        return specs[0]
    gates = [g for g in specs if g is not None]
    if not gates:
        return None
    pass_rate: dict[str, float] = {}
    for gate in gates:
        for priority, rate in gate.pass_rate.items():
            pass_rate[priority] = max(rate, pass_rate.get(priority, 0.0))
    flaky = [g.max_flaky for g in gates if g.max_flaky is not None]
    covered = tuple(dict.fromkeys(k for g in gates for k in g.require_covered))
    return GateSpec(pass_rate=pass_rate, max_flaky=min(flaky) if flaky else None, require_covered=covered)

