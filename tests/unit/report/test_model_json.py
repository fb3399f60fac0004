"""result/model_json writes the model's records as json's C encoder (with store's callback) does,
byte for byte, or leaves the value to that encoder; never a different text."""
from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any

import pytest

from orchestrator.result import model_json
from orchestrator.result.model import AssertionResult, Attempt, ErrorInfo, InnerTest, Status, StepResult
from orchestrator.result.store import _model_encoder, encode
from orchestrator.result.step_fields import step_fields

from .factory import HOSTILE, run_result

TEXTS = ["", "plain", HOSTILE, "\x00\x1b[2J\x7f\u2028", "\ud800 lone", "😀 non-BMP", 'quote " and \\ backslash',
         "\u00e9t\u00e9"]
NUMBERS: list[Any] = [0, -1, 2**63, 10**300, 0.0, -0.0, 1.5, 1e300, 5e-324, 0.1 + 0.2, 1796316046.918789, True, False]


class Colour(Enum):
    RED = "red"


def _reference(value: Any) -> str:
    return "".join(_model_encoder.encode(value))


def _step(fields: dict[str, Any], action: str = "call") -> StepResult:
    return StepResult(index=0, title="t", action=action, status=Status.PASSED, duration_s=0.25,
                      assertions=(AssertionResult("contains", True, fields.get("output"), [1, None, {"k": 2.5}],
                                                  "output", "", 3),),
                      error=ErrorInfo("ValueError", HOSTILE, "trace"), fields=step_fields(action, fields), line=7,
                      tests=(InnerTest("t1", Status.FAILED, 0.5, "c", "f.py", 2, "m", "d"),))


@pytest.mark.parametrize("value", [*TEXTS, *NUMBERS, None, [], (), {}, [TEXTS, NUMBERS], {"a": {"b": [1, "x", None]}},
                                   Status.FLAKY, [Status.PASSED, Status.ERROR]])
def test_plain_values_are_written_as_the_encoder_writes_them(value: Any) -> None:
    assert model_json.text(value) == _reference(value)


@pytest.mark.parametrize("fields", [
    {"output": "Echo: hello", "error": None, "duration_ms": 0.451, "worker": {"pid": 1, "index": 0, "calls": 3,
                                                                              "restarts": 0}, "provider": "echo"},
    {"output": HOSTILE, "extra": {"nested": [TEXTS, NUMBERS]}, "score": -0.0},
    {},
])
def test_a_case_is_written_as_the_encoder_writes_it(fields: dict[str, Any]) -> None:
    case = run_result(hostile=True).cases[0]
    from dataclasses import replace

    attempt = Attempt(Status.PASSED, 0.5, "", (_step(fields), _step({"stdout": HOSTILE}, "exec")), HOSTILE, "", 1.0, 2, 3)
    case = replace(case, attempts=(attempt, attempt), duration_s=0.5)
    written = model_json.text(case)
    assert written is not None  # the model's own records take the fast way
    assert written == _reference(case)
    assert json.loads(written)["attempts"][0]["steps"][0]["fields"] == fields


def test_whole_runs_are_written_as_the_encoder_writes_them() -> None:
    for run in (run_result(), run_result(hostile=True, big=True)):
        for case in run.cases:
            assert model_json.text(case) == _reference(case)
        assert encode(run) == _reference(run)


@pytest.mark.parametrize("value", [
    math.nan, [1.0, math.inf], {"x": -math.inf},  # the encoder refuses these (store.encode then writes them as text)
    {(1, 2): "tuple key"}, {"a": {(1, 2): "tuple key"}},  # a key the encoder refuses
    Colour.RED, {1, 2}, b"bytes", {"a": Colour.RED},  # left to the encoder's callback
])
def test_what_only_the_encoder_can_tell_is_left_to_it(value: Any) -> None:
    assert model_json.text(value) is None
    assert isinstance(encode(value), str)  # and store.encode still writes it, as before


@pytest.mark.parametrize("value", [{1: "int key"}, {None: 1}, {1.5: [True]}, {"a": {False: {2: None}}}])
def test_keys_the_encoder_turns_into_text_are_written_as_it_writes_them(value: Any) -> None:
    # A dict goes through json's own C encoder, whose key rules are the encoder's by definition.
    assert model_json.text(value) == _reference(value)


def test_an_integer_too_long_to_print_is_left_to_the_encoder() -> None:
    huge = 10**5000  # Python 3.11 refuses to print it (ValueError); 3.9 prints it
    try:
        reference: str | None = _reference(huge)
    except ValueError:
        reference = None
    assert model_json.text(huge) == reference


def test_a_cycle_is_left_to_the_encoder() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert model_json.text(loop) is None


def test_a_float_written_twice_in_a_row_is_the_same_text_and_zeros_keep_their_sign() -> None:
    assert model_json.text([0.1, 0.1, 0.0, -0.0, -0.0, 0.0]) == "[0.1, 0.1, 0.0, -0.0, -0.0, 0.0]"
