"""`@record` (orchestrator/records.py): the model classes behave as `@dataclass(frozen=True)`
classes would (signature, defaults, factories, `__post_init__`, equality, hash, repr, frozen,
copy, pickle, `dataclasses.fields/replace/asdict`), carry no __dict__ (issue 13, peak memory:
~50-190 bytes each at 10,000 cases), on Python 3.9 too, and cost next to nothing to define."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import pytest

from orchestrator.records import mutable_record, record

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


def _twins() -> tuple[type, type]:
    """The same declaration, as a frozen dataclass and as a record."""
    made = []
    for decorate in (dataclasses.dataclass(frozen=True), record):
        @decorate
        class Point:
            x: int
            label: str = "p"
            tags: dict[str, int] = dataclasses.field(default_factory=dict)
            weight: float = dataclasses.field(default=1.0, compare=False, repr=False)

            def moved(self) -> int:
                return self.x + 1

        made.append(Point)
    return made[0], made[1]


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((1,), {}), ((1, "q"), {}), ((1, "q", {"a": 1}, 2.0), {}), ((), {"x": 3, "weight": 5.0}),
    ((1,), {"tags": {"b": 2}}), ((), {}), ((1, 2, 3, 4, 5), {}), ((1,), {"nope": 1}), ((1,), {"x": 2}),
]


@pytest.mark.parametrize("args, kwargs", CALLS)
def test_a_record_is_built_and_refused_as_the_dataclass_is(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    as_dataclass, as_record = _twins()
    try:
        expected: Any = as_dataclass(*args, **kwargs)
    except TypeError as exc:
        with pytest.raises(TypeError) as got:
            as_record(*args, **kwargs)
        assert str(got.value) == str(exc).replace(as_dataclass.__qualname__, as_record.__qualname__)
        return
    made = as_record(*args, **kwargs)
    assert repr(made) == repr(expected)
    assert dataclasses.asdict(made) == dataclasses.asdict(expected)
    assert made.moved() == expected.moved()
    assert made == as_record(*args, **kwargs) and made != expected  # equal only to its own class
    assert dataclasses.replace(made, label="r").label == "r"
    with pytest.raises(TypeError, match="unhashable type: 'dict'"):  # hashes the compared fields, as dataclass does
        hash(made)


def test_a_record_hashes_as_the_dataclass_does() -> None:
    twins = []
    for decorate in (dataclasses.dataclass(frozen=True), record):
        @decorate
        class Pair:
            a: int
            b: str = dataclasses.field(default="", compare=False)

        @decorate
        class One:
            a: str

        twins.append((Pair, One))
    (pair_d, one_d), (pair_r, one_r) = twins
    assert hash(pair_r(1, "x")) == hash(pair_d(1, "y")) == hash((1,))
    assert hash(one_r("s")) == hash(one_d("s"))
    assert {pair_r(1, "x"), pair_r(1, "y"), pair_r(2)} == {pair_r(1), pair_r(2)}


def test_a_record_has_the_dataclass_signature_and_fresh_factory_values() -> None:
    import inspect

    as_dataclass, as_record = _twins()
    assert str(inspect.signature(as_record)) == str(inspect.signature(as_dataclass))
    assert as_record(1).tags is not as_record(1).tags
    assert [f.name for f in dataclasses.fields(as_record)] == ["x", "label", "tags", "weight"]
    assert as_record(1) == as_record(1, weight=9.0)  # compare=False
    assert not hasattr(as_record(1), "__dict__")


def test_post_init_runs_and_may_set_fields_past_frozen() -> None:
    @record
    class Doubled:
        n: int

        def __post_init__(self) -> None:
            object.__setattr__(self, "n", self.n * 2)

    assert Doubled(2).n == 4
    assert copy.deepcopy(Doubled(2)).n == 4  # state restored, not re-initialised


def test_declaration_errors_are_the_dataclass_ones() -> None:
    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):
        @record
        class Bad:
            x: int = 1
            y: int  # type: ignore[misc]


def test_a_record_that_declares_a_weakref_slot_can_be_weakly_referenced() -> None:
    import weakref

    @record
    class Plain:
        n: int

    @record
    class Referable:
        __slots__ = ("__weakref__",)
        n: int

    with pytest.raises(TypeError):
        weakref.ref(Plain(1))
    kept = Referable(1)
    assert weakref.ref(kept)() is kept
    assert copy.copy(kept) == kept and copy.deepcopy(kept) == kept


def test_the_model_modules_define_no_dataclass_of_their_own() -> None:
    """Every frozen model class is a record: a `@dataclass(frozen=True)` creeping back costs ~1 ms
    of every command's start (its methods compiled from source at each import)."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "orchestrator"
    found = [f"{p.relative_to(package)}:{n}" for p in package.rglob("*.py")
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if line.strip().startswith("@dataclass(frozen=True")]
    assert found == []


def test_a_mutable_record_behaves_as_the_mutable_dataclass() -> None:
    import weakref

    made = []
    for decorate in (dataclasses.dataclass, mutable_record):
        @decorate
        class Counter:
            name: str
            hits: list[int] = dataclasses.field(default_factory=list)
            total: int = 0

        made.append(Counter)
    as_dataclass, as_record = made
    counter = as_record("c")
    counter.total += 2
    counter.hits.append(1)
    assert repr(counter) == repr(as_dataclass("c", [1], 2))
    assert counter == as_record("c", [1], 2) and counter != as_record("c")
    with pytest.raises(TypeError, match="unhashable"):
        hash(counter)
    with pytest.raises(AttributeError):
        counter.not_a_field = 1  # type: ignore[attr-defined]
    assert not hasattr(counter, "__dict__") and weakref.ref(counter)() is counter
    assert copy.deepcopy(counter) == counter and dataclasses.replace(counter, total=5).total == 5
    assert as_record("a").hits is not as_record("a").hits


def test_the_package_has_no_plain_dataclass_left_but_the_identity_compared_one() -> None:
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "orchestrator"
    found = [f"{p.relative_to(package)}:{n}: {line.strip()}" for p in package.rglob("*.py")
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if line.strip().startswith("@dataclass") and not line.strip().startswith("@dataclass_transform")]
    assert found == ["procs/dispatch.py:18: @dataclass(eq=False)"]
