"""A load step stays within its documented caps, and one that cannot start all its callers
stops those it started and fails the step with a clear error; the next case still runs."""
from __future__ import annotations

import threading
import time

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import StepSpec
from orchestrator.plan.step_args import LoadArgs
from orchestrator.result.model import Status
from orchestrator.run import load_step
from orchestrator.run.engine import Engine, RunOptions

from .fakes import FakePool, call, case, echo, factory, plan
from .test_case_and_engine import Collect

AT = Location("plan.yaml", 3, 5)


def load(concurrency: object, requests: int = 100000) -> StepSpec:
    return StepSpec(action="load", args=LoadArgs(call="echo", prompt="sleep", requests=requests,
                                                 concurrency=concurrency), location=AT)  # type: ignore[arg-type]


def run(*cases):
    return Engine([plan(*cases)], RunOptions(), Collect(), pool_factory=factory(FakePool(echo))).run()


def test_concurrency_over_the_cap_is_refused_before_any_thread_starts() -> None:
    before = threading.active_count()
    result = run(case("L", load("{{ 40000 }}")), case("NEXT", call("x")))
    failed, after = result.cases
    assert failed.status is Status.ERROR
    assert "load concurrency 40000 is over the limit of 1000 callers" in failed.message
    assert after.status is Status.PASSED
    assert threading.active_count() <= before + 1


def test_callers_that_started_are_stopped_when_the_next_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[threading.Thread] = []

    class Scarce(threading.Thread):
        def start(self) -> None:
            if self.name.startswith("load-"):
                if len(started) >= 3:
                    raise RuntimeError("can't start new thread")
                started.append(self)
            super().start()

    monkeypatch.setattr(load_step.threading, "Thread", Scarce)
    began = time.monotonic()
    result = run(case("L", load(50)), case("NEXT", call("x")))
    failed, after = result.cases
    assert failed.status is Status.ERROR
    assert "ResourceLimit: could not start load caller 4 of 50: can't start new thread" in failed.message
    assert not any(thread.is_alive() for thread in started)
    assert after.status is Status.PASSED
    assert time.monotonic() - began < 5
