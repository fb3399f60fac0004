"""Pools started before the run (run/pools.start_early): the engine adopts them and closes them."""
from __future__ import annotations

import threading

import pytest

from orchestrator.procs.api import PoolConfig
from orchestrator.result.model import Status
from orchestrator.run.engine import Engine, Listener, RunOptions

from .fakes import FakePool, a, call, case, echo, plan


def no_factory(config: PoolConfig) -> FakePool:
    raise AssertionError(f"the engine started a second pool for {config.provider_id}")


def test_the_engine_calls_the_pool_started_early_and_closes_it() -> None:
    early = FakePool(echo)
    run = Engine([plan(case("C", call("hi", a("contains", "hi"))))], RunOptions(), Listener(),
                 pool_factory=no_factory, pools={0: {"echo": early}}).run()
    assert run.cases[0].status is Status.PASSED
    assert [r.prompt for r in early.calls] == ["hi"] and early.closed


def test_pools_started_early_are_closed_when_the_run_was_stopped_before_it_began() -> None:
    early = FakePool(echo)
    stop = threading.Event()
    stop.set()
    run = Engine([plan(case("C", call("hi")))], RunOptions(), Listener(), stop, pool_factory=no_factory,
                 pools={0: {"echo": early}}).run()
    assert run.cases[0].status is Status.INTERRUPTED
    assert early.calls == [] and early.closed


def test_only_a_run_of_one_case_at_a_time_asks_its_workers_to_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace as replaced

    from orchestrator.procs import spin

    monkeypatch.setattr(spin.cores, "usable", lambda: 2)
    seen: list[PoolConfig] = []

    def remember(config: PoolConfig) -> FakePool:
        seen.append(config)
        return FakePool(echo)

    for jobs in (1, 2):
        Engine([plan(case("C", call("hi")))], RunOptions(jobs=jobs), Listener(), pool_factory=remember).run()
    ephemeral = plan(case("C", call("hi")))
    ephemeral = replaced(ephemeral, providers={"echo": replaced(ephemeral.providers["echo"], mode="ephemeral")})
    Engine([ephemeral], RunOptions(jobs=1), Listener(), pool_factory=remember).run()
    # -j 1: one call at a time, a core to spare; -j 2: the cores are taken; ephemeral: a process a call
    assert [c.spin_s for c in seen] == [spin.SPIN_S, 0.0, 0.0]
    monkeypatch.setattr(spin.cores, "usable", lambda: 1)
    assert spin.spin_budget(1) == 0.0
