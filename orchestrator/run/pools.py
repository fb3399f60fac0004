"""The run's provider pools: which providers the cases call, each one's pool, and an early start.

`start_early` starts the Python providers' worker pools as soon as the plans are selected, so
the workers import their providers while the orchestrator imports the rest of its run path
(a worker's start was a fifth of a 3-case run, spent waiting). The engine adopts those pools
and starts the others itself. This module imports nothing heavy until it starts something.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from orchestrator.procs.api import Pool, PoolConfig
from orchestrator.run.schedule import case_providers

if TYPE_CHECKING:
    from orchestrator.plan.model import CaseSpec, Plan, ProviderSpec

PoolFactory = Callable[[PoolConfig], Pool]
Pools = Mapping[int, Mapping[str, Pool]]  # plan index -> provider id -> pool


def default_pool_factory(config: PoolConfig) -> Pool:
    from orchestrator.procs.pool import create_pool

    return create_pool(config)  # persistent or ephemeral, by the provider's mode


def pool_config(provider: ProviderSpec, plan: str = "-", spin_s: float = 0.0) -> PoolConfig:
    return PoolConfig(provider_id=provider.id, python_file=str(provider.python_file),
                      function=provider.function, interpreter=provider.interpreter,
                      workers=provider.workers, timeout_s=provider.timeout_s,
                      startup_timeout_s=provider.startup_timeout_s, env=dict(provider.env),
                      cwd=str(provider.cwd), config=dict(provider.config), mode=provider.mode,
                      max_calls=provider.max_calls, max_rss_bytes=provider.max_rss_bytes,
                      affinity=provider.affinity, queue_timeout_s=provider.queue_timeout_s,
                      max_restarts=provider.max_restarts, plan=plan,
                      spin_s=spin_s if provider.mode != "ephemeral" else 0.0)  # a fresh process per call: nothing to spin for


def providers_used(plan: Plan, cases: Sequence[CaseSpec]) -> list[str]:
    """The plan's providers that a case not skipped calls, in the plan's order."""
    used = {p for case in cases if case.skip is None for p in case_providers(case)}
    return [p for p in plan.providers if p in used]


def start_early(plans: Sequence[Plan], stop: threading.Event, calls_at_once: int = 1) -> dict[int, dict[str, Pool]]:
    """The persistent Python providers' pools that the run will use, started; for the engine
    to adopt (`Engine(pools=...)`), and for the caller to close if the run never gets that far.
    `calls_at_once`: how many cases the run runs at once (it decides `PoolConfig.spin_s`)."""
    if stop.is_set():
        return {}
    pools: dict[int, dict[str, Pool]] = {}
    for index, plan in enumerate(plans):
        specs = [plan.providers[p] for p in providers_used(plan, plan.cases)]
        chosen = {s.id: s for s in specs if s.kind == "python" and s.mode != "ephemeral"}
        if chosen:
            from orchestrator.procs.spin import spin_budget

            spin_s = spin_budget(calls_at_once)
            pools[index] = {p: default_pool_factory(pool_config(s, plan.name, spin_s)) for p, s in chosen.items()}
    if not pools:
        return pools
    from orchestrator.procs import subreaper, watchdog

    # What the run stage does before it starts anything (session.execute): we become the
    # subreaper and dead runs' markers leave our environment, which the workers inherit. The
    # sweep of dead runs' leftovers (a scan of every process) and the watchdog's start then run
    # while the workers boot: the watchdog learns of them as it starts (tree.notify_roots), and
    # a worker whose controller dies before that exits at the end of its pipe.
    from orchestrator.procs.pool import WorkerPool
    from orchestrator.run import early_worker

    try:
        subreaper.become_subreaper()
        watchdog.forget_dead_runs()
        for started in pools.values():
            for pool in started.values():
                if isinstance(pool, WorkerPool):
                    held = early_worker.take(pool.config)
                    if held is not None:
                        pool.adopt(held)
                pool.start()
        early_worker.discard()
        watchdog.guard_run()
    except BaseException:
        close_all(pools)
        raise
    return pools


def close_all(*groups: Pools) -> None:
    """Close every pool of `groups`, all at once: each close waits for its workers' graceful exit,
    and a plan with a dozen providers waited for them one after another. Idempotent (the pools
    the engine adopted are closed already when the run stage closes the early ones); the first
    failure is raised once the others are closed."""
    pools = list({id(pool): pool for group in groups for by_id in group.values() for pool in by_id.values()}.values())
    failures: list[BaseException] = []

    def close(pool: Pool) -> None:
        try:
            pool.close()
        except BaseException as exc:  # raised here, as when they were closed in this thread
            failures.append(exc)

    closers = []
    for pool in pools[1:]:
        thread = threading.Thread(target=close, args=(pool,), name="close-pool", daemon=True)
        try:
            thread.start()
            closers.append(thread)
        except RuntimeError:  # no thread to be had: close it here
            close(pool)
    if pools:
        close(pools[0])
    for thread in closers:
        thread.join()
    if failures:
        raise failures[0]
