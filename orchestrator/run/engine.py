"""The run stage: start provider pools, run the cases, evaluate the gate.

Cases run in plan order with `jobs=1`; with more jobs they run on a thread pool (providers are
shared; their own `workers` bound how many calls run at once). Stopping is cooperative: the
caller sets `stop` (SIGINT) and kills the process trees; unfinished cases become interrupted.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

from orchestrator import __version__
from orchestrator.plan.model import CaseSpec, GateSpec, Plan, ProviderSpec
from orchestrator.procs.api import Pool, PoolConfig
from orchestrator.result.model import Attempt, CaseResult, PlanInfo, RunResult, Status, WorkerStats
from orchestrator.run.case import finish_case, run_attempt, unrun_case
from orchestrator.run.gate import evaluate_gate

PoolFactory = Callable[[PoolConfig], Pool]


@dataclass(frozen=True)
class RunOptions:
    jobs: int = 1
    command: str = ""


class Listener:
    """Told about each case as it finishes (console, journal, live reports)."""

    def case_finished(self, case: CaseResult) -> None:
        pass


def _default_pool_factory(config: PoolConfig) -> Pool:
    from orchestrator.procs.pool import WorkerPool

    return WorkerPool(config)


def pool_config(provider: ProviderSpec) -> PoolConfig:
    return PoolConfig(provider_id=provider.id, python_file=str(provider.python_file),
                      function=provider.function, interpreter=provider.interpreter,
                      workers=provider.workers, timeout_s=provider.timeout_s,
                      startup_timeout_s=provider.startup_timeout_s, env=dict(provider.env),
                      cwd=str(provider.cwd), config=dict(provider.config), mode=provider.mode,
                      max_calls=provider.max_calls, max_rss_bytes=provider.max_rss_bytes,
                      affinity=provider.affinity, queue_timeout_s=provider.queue_timeout_s,
                      max_restarts=provider.max_restarts)


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

    def run(self) -> RunResult:
        started = time.monotonic()
        try:
            self._start_pools()
            self._run_cases()
        finally:
            workers = self._worker_stats()
            self.close()
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
        return RunResult(
            plans=tuple(PlanInfo(name=p.name, title=p.title, file=p.cases[0].location.file if p.cases else str(p.path),
                                 requirements=dict(p.requirements),
                                 risks={k: {"title": r.title, "likelihood": r.likelihood, "impact": r.impact}
                                        for k, r in p.risks.items()})
                        for p in self.plans),
            cases=tuple(cases), gate=evaluate_gate(gate_spec, cases, interrupted),
            started_at=self._started_at, duration_s=duration_s, interrupted=interrupted,
            version=__version__, command=self.options.command, workers=workers)

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
                    pools[provider_id] = self._pool_factory(pool_config(spec))
                elif spec.kind == "http":
                    from orchestrator.run.http_provider import HttpPool

                    pools[provider_id] = HttpPool(spec, plan.vars)
            self._pools[p] = pools
        for pools in self._pools.values():
            for pool in pools.values():
                pool.start()

    def _run_cases(self) -> None:
        todo = list(self._all_cases())
        if self.options.jobs <= 1:
            for key, plan, case in todo:
                if self.stop.is_set():
                    return
                self._finish(key, self._run_one(key, plan, case, 0))
            return
        with ThreadPoolExecutor(max_workers=self.options.jobs, thread_name_prefix="job") as executor:
            pending: dict[Future[CaseResult], tuple[tuple[int, int], int]] = {}
            queue = iter(todo)
            for job in range(self.options.jobs):
                self._submit(executor, queue, pending, job)
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    key, job = pending.pop(future)
                    self._finish(key, future.result())
                    if not self.stop.is_set():
                        self._submit(executor, queue, pending, job)

    def _submit(self, executor: ThreadPoolExecutor, queue: Iterator[tuple[tuple[int, int], Plan, CaseSpec]],
                pending: dict[Future[CaseResult], tuple[tuple[int, int], int]], job: int) -> None:
        item = next(queue, None)
        if item is not None:
            key, plan, case = item
            pending[executor.submit(self._run_one, key, plan, case, job)] = (key, job)

    def _run_one(self, key: tuple[int, int], plan: Plan, case: CaseSpec, job: int) -> CaseResult:
        if self.stop.is_set():
            return unrun_case(plan, case, Status.INTERRUPTED, "not run: the run was interrupted")
        if case.skip is not None:
            return unrun_case(plan, case, Status.SKIPPED, case.skip)
        pools = self._pools[key[0]]
        if case.repeat > 1:
            attempts = self._repeat(plan, case, pools, job)
        else:
            attempts = [run_attempt(plan, case, pools, self.stop, job)]
            while (attempts[-1].status in (Status.FAILED, Status.ERROR) and len(attempts) <= case.retries
                   and not self.stop.is_set()):
                attempts.append(run_attempt(plan, case, pools, self.stop, job))
        return finish_case(plan, case, attempts)

    def _repeat(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], job: int) -> list[Attempt]:
        """`repeat` runs, `concurrency` of them at once (a stress test when more than one)."""
        if case.concurrency <= 1:
            attempts = []
            for _ in range(case.repeat):
                if self.stop.is_set():
                    break
                attempts.append(run_attempt(plan, case, pools, self.stop, job))
            return attempts
        with ThreadPoolExecutor(max_workers=case.concurrency, thread_name_prefix="repeat") as executor:
            return list(executor.map(lambda _: run_attempt(plan, case, pools, self.stop, job),
                                     range(case.repeat)))

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
                                             cold_start_ms=s.cold_start_ms))
        return tuple(stats)


def _merged_gate(plans: Sequence[Plan]) -> GateSpec | None:
    """Several plans in one run: the gate of each applies; a plan without one adds no rule."""
    gates = [p.gate for p in plans if p.gate is not None]
    if not gates:
        return None
    pass_rate: dict[str, float] = {}
    for gate in gates:
        for priority, rate in gate.pass_rate.items():
            pass_rate[priority] = max(rate, pass_rate.get(priority, 0.0))
    flaky = [g.max_flaky for g in gates if g.max_flaky is not None]
    covered = tuple(dict.fromkeys(k for g in gates for k in g.require_covered))
    return GateSpec(pass_rate=pass_rate, max_flaky=min(flaky) if flaky else None, require_covered=covered)

