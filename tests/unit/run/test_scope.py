"""Names in a step's expect: measured fields, then variables, then what a provider returned."""
from __future__ import annotations

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec
from orchestrator.run.assertions import check
from orchestrator.run.scope import returned_names, shadow_notes, step_scope

HERE = Location("plan.yaml", 7, 9)


def test_precedence_fields_then_variables_then_returned_keys() -> None:
    returned = {"output": "bad", "expected": "bad", "extra": 1, "duration_ms": -1}
    fields = {"output": "bad", "expected": "bad", "extra": 1, "duration_ms": 12.0, "result": returned}
    names = returned_names(returned)
    assert set(names) == {"expected", "extra"}
    scope = step_scope(fields, {"expected": "good", "output": "a variable"}, names)
    assert scope["output"] == "bad"  # the step's own field beats a variable
    assert scope["expected"] == "good"  # a variable beats a returned key
    assert scope["extra"] == 1  # a returned key nobody else names keeps its bare name
    assert scope["duration_ms"] == 12.0 and scope["result"]["duration_ms"] == -1


def test_shadowed_keys_are_noted() -> None:
    notes = shadow_notes({"output": "x", "expected": "bad", "worker": "me", "free": 1}, {"expected": "good"})
    assert notes == [
        "the provider returned 'expected', which is also a variable: 'expected' in expr and templates is the "
        "variable, the provider's value is result.expected",
        "the provider returned 'worker', which is a field the orchestrator measures: 'worker' is the measured "
        "value, the provider's is result.worker"]


def test_an_embedding_answer_is_the_calls_main_field() -> None:
    fields = {"output": None, "embedding": [0.1, 0.2], "error": None}
    result = check(AssertionSpec("count", 2, HERE), "call", fields, {}, ())
    assert result.passed and result.on == "embedding"
    classified = check(AssertionSpec("contains", "positive", HERE), "call",
                       {"output": None, "classification": {"positive": 0.9}}, {}, ())
    assert classified.passed and classified.on == "classification"
    assert check(AssertionSpec("equals", "x", HERE), "call", {"output": "x", "embedding": [1]}, {}, ()).on == "output"


def test_a_returned_key_cannot_replace_an_expression_function() -> None:
    returned = {"output": "abc", "len": 3}
    fields = {**returned, "result": returned}
    result = check(AssertionSpec("expr", "len(output) == 3 and result.len == 3", HERE), "call", fields, {},
                   returned_names(returned))
    assert result.passed, result.message
    assert shadow_notes(returned, {}) == ["the provider returned 'len', which is also a function of expressions: "
                                          "'len' stays the function, the provider's value is result.len"]
