"""The many small model objects carry no __dict__ (issue 13, peak memory: ~50-190 bytes each
at 10,000 cases), and still behave as the frozen dataclasses they are, on Python 3.9 too
(gc_pause.slotted does by hand what dataclass(slots=True) does from 3.10 on)."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec, CaseSpec, StepSpec
from orchestrator.plan.step_args import CallArgs
from orchestrator.result.model import (AssertionResult, Attempt, CaseResult, RunResult, Status, StepResult,
                                       to_jsonable)
from orchestrator.result.decode import run_from_json
from orchestrator.result.store import encode

HERE = Location("plan.yaml", 3, 5)
STEP = StepSpec(action="call", args=CallArgs(provider="echo", prompt="hi"), location=HERE,
                expect=(AssertionSpec(kind="contains", value="hi", location=HERE),))
CASE_RESULT = CaseResult(id="A", name="a", plan="p", file="plan.yaml", line=3, status=Status.PASSED, message="",
                         duration_s=0.5, attempts=(Attempt(status=Status.PASSED, duration_s=0.5, steps=(
                             StepResult(index=0, title="call echo", action="call", status=Status.PASSED,
                                        duration_s=0.1, assertions=(AssertionResult(
                                            kind="contains", passed=True, expected="hi", actual="hi", on="output"),)),)),))
OBJECTS: list[Any] = [HERE, STEP, STEP.args, STEP.expect[0], CaseSpec(id="A", name="a", location=HERE, steps=(STEP,)),
                      CASE_RESULT, CASE_RESULT.attempts[0], CASE_RESULT.steps[0], CASE_RESULT.steps[0].assertions[0]]


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_small_model_objects_have_slots_and_stay_frozen_dataclasses(obj: Any) -> None:
    assert not hasattr(obj, "__dict__")
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj and pickle.loads(pickle.dumps(obj)) == obj
    name = dataclasses.fields(obj)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(obj, name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, "not_a_field", 1)
    assert dataclasses.replace(obj) == obj
    assert repr(obj).startswith(type(obj).__name__ + "(")


def test_results_round_trip_through_json_with_slots() -> None:
    run = RunResult(plans=(), cases=(CASE_RESULT,), gate=run_from_json(
        {"plans": [], "cases": [], "gate": {"passed": True}, "started_at": 0.0, "duration_s": 0.0}).gate,
        started_at=1.0, duration_s=0.5)
    back = run_from_json(json.loads(encode(run)))
    assert back == run
    assert not hasattr(back.cases[0], "__dict__")
