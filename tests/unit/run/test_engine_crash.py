"""An exception of the orchestrator's own outside any step costs the cases it hits, not the run."""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.result.model import Status
from orchestrator.run import attempts as attempts_module
from orchestrator.run.engine import Engine, RunOptions

from .fakes import FakePool, call, case, echo, factory, plan
from .test_case_and_engine import Collect


def test_an_exception_outside_a_step_makes_that_case_an_error_with_its_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = attempts_module.finish_case  # where the engine's case runner finishes a case

    def finish(plan_: Any, spec: Any, attempts: Any) -> Any:
        if spec.id == "B":
            raise RuntimeError("verdict exploded")
        return real(plan_, spec, attempts)

    monkeypatch.setattr(attempts_module, "finish_case", finish)
    listener = Collect()
    run = Engine([plan(case("A", call("a")), case("B", call("b")), case("C", call("c")))], RunOptions(), listener,
                 pool_factory=factory(FakePool(echo))).run()
    assert [c.status for c in run.cases] == [Status.PASSED, Status.ERROR, Status.PASSED]
    crashed = run.cases[1]
    assert crashed.message == "InternalError: RuntimeError: verdict exploded"
    step = crashed.steps[0]
    assert step.error is not None and "Traceback" in step.error.traceback and "verdict exploded" in step.error.traceback
    assert [c.id for c in listener.finished] == ["A", "B", "C"]  # journal and console heard of it too
    assert not run.gate.passed


def test_an_exception_in_the_scheduler_errors_every_unfinished_case_and_still_returns_the_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_start(self: Engine) -> None:
        raise OSError("no pools today")

    monkeypatch.setattr(Engine, "_start_pools", broken_start)
    run = Engine([plan(case("A", call("a")), case("B", call("b")))], RunOptions(), Collect(),
                 pool_factory=factory(FakePool(echo))).run()
    assert [c.status for c in run.cases] == [Status.ERROR, Status.ERROR]
    assert all("OSError: no pools today" in c.message for c in run.cases)
    assert "no pools today" in run.cases[0].steps[0].error.traceback  # type: ignore[union-attr]
    assert not run.gate.passed and not run.interrupted
