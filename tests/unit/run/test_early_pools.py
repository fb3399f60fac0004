"""Pools started before the run (run/pools.start_early): the engine adopts them and closes them."""
from __future__ import annotations

import threading

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
