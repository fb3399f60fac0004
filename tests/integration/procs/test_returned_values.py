"""What a provider function returns is judged and made JSON-safe at the pool, never trusted:
a value that is not a dict with output/error is an InvalidResult error naming it (as in
promptfoo), and values JSON cannot carry are converted with a note, never a dead worker."""
from __future__ import annotations

import json

import pytest

from orchestrator.procs.api import CallRequest
from tests.integration.procs.conftest import MakePool


@pytest.mark.parametrize("prompt, named", [
    ("none", "returned None;"),
    ("text", "returned a str 'hello';"),
    ("empty", "returned an empty dict {};"),
    ("list", "returned a list [1, 2];"),
    ("number", "returned an int 7;"),
    ("no_output", "returned a dict with the keys 'answer', 'tokens';"),
    ("error_none", "returned a dict whose 'error' is None and that has no 'output';"),
])
def test_a_result_without_output_or_error_is_an_error_naming_it(make_pool: MakePool, prompt: str, named: str) -> None:
    pool = make_pool("returns.py")
    outcome = pool.call(CallRequest(prompt=prompt))
    assert outcome.result is None and outcome.error is not None
    assert outcome.error.type == "InvalidResult"
    assert outcome.error.message == f"{named} call_api must return a dict with 'output' or 'error'"
    # the worker is fine: the next call is served by the same process
    again = pool.call(CallRequest(prompt="null_output"))
    assert again.error is None and again.result == {"output": None}
    assert outcome.worker and again.worker and outcome.worker.pid == again.worker.pid


@pytest.mark.parametrize("prompt", ["null_output", "error_only", "embedding", "classification"])
def test_output_error_embedding_or_classification_make_a_valid_answer(make_pool: MakePool, prompt: str) -> None:
    outcome = make_pool("returns.py").call(CallRequest(prompt=prompt))
    assert outcome.error is None and outcome.result is not None


def test_an_embedding_function_is_told_to_return_embedding(make_pool: MakePool) -> None:
    outcome = make_pool("returns.py", function="call_embedding_api").call(CallRequest(prompt="text"))
    assert outcome.error is not None
    assert outcome.error.message.endswith("call_embedding_api must return a dict with 'embedding' or 'error'")


@pytest.mark.parametrize("prompt, expected, note", [
    ("nan", {"output": "NaN", "score": "Infinity", "low": "-Infinity"}, "output: NaN became the text 'NaN'"),
    ("huge", {"output": "<integer of about 5001 digits>", "exp": ["<integer of about 6021 digits>"]},
     "output: an integer too long for JSON became the text '<integer of about 5001 digits>'"),
    ("bytes", {"output": "\\xff\x00ok"}, "output: bytes became the text (UTF-8, undecodable bytes escaped)"),
    ("set", {"output": [3]}, "output: a set became a list"),
    ("object", {"output": "Opaque()"}, "output: a value of type Opaque became the text 'Opaque()'"),
    ("odd_keys", {"output": "x", "1": "int key", "(1, 2)": "tuple key"}, None),
    ("cycle", {"output": [1, "<cycle>"]}, "output[1]: a reference to its own container became the text '<cycle>'"),
])
def test_values_json_cannot_carry_are_converted_with_a_note(make_pool: MakePool, prompt: str,
                                                             expected: dict[str, object], note: str | None) -> None:
    pool = make_pool("returns.py")
    outcome = pool.call(CallRequest(prompt=prompt))
    assert outcome.error is None and outcome.result == expected
    if note is not None:
        assert note in outcome.notes
    json.dumps(outcome.result, allow_nan=False)  # strictly valid JSON
    assert pool.call(CallRequest(prompt="null_output")).worker.pid == outcome.worker.pid  # type: ignore[union-attr]


@pytest.mark.parametrize("prompt, named", [("bare_object", "a str 'Opaque()'"), ("bare_nan", "a str 'NaN'")])
def test_a_bare_value_that_needed_converting_is_named_with_its_note(make_pool: MakePool, prompt: str, named: str) -> None:
    outcome = make_pool("returns.py").call(CallRequest(prompt=prompt))
    assert outcome.error is not None and outcome.error.type == "InvalidResult"
    assert named in outcome.error.message and "the result: " in outcome.error.message
