"""Strict comparisons, and assertions that cannot be evaluated on their value: each is that
assertion's failure with both values and their types, never an exception out of check()."""
from __future__ import annotations

import math
from typing import Any

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec
from orchestrator.run.assertions import check

HERE = Location("plan.yaml", 7, 9)


def run(kind: str, value: Any, fields: dict[str, Any], action: str = "call", on: str | None = None):
    return check(AssertionSpec(kind, value, HERE, on), action, fields, {})


@pytest.mark.parametrize("expected, actual", [
    (1, True), (0, False), (True, 1), (False, 0), (1.0, True), (True, 1.0),
    ([1, 0], [True, False]), ({"a": 1}, {"a": True}), ([True], [1]), ({"ok": False}, {"ok": 0}),
])
def test_equals_never_takes_a_boolean_for_a_number(expected: Any, actual: Any) -> None:
    result = run("equals", expected, {"output": actual})
    assert not result.passed
    assert "(boolean)" in result.message or "true" in result.message or "false" in result.message


def test_equals_1_on_true_says_both_types() -> None:
    result = run("equals", 1, {"output": True})
    assert result.message == "expected 1 (integer), got true (boolean); a boolean is never equal to a number"


@pytest.mark.parametrize("expected, actual", [(1, 1), (1, 1.0), (2.5, 2.5), (True, True), (None, None),
                                              ([1, True], [1.0, True]), ({"a": [False]}, {"a": [False]})])
def test_equals_still_holds_for_equal_values_of_the_same_kind(expected: Any, actual: Any) -> None:
    assert run("equals", expected, {"output": actual}).passed


@pytest.mark.parametrize("expected, text", [(4, "4"), (True, "true"), (2.5, "2.5"), (-3, "-3")])
def test_a_number_compared_with_text_output_compares_the_text(expected: Any, text: str) -> None:
    assert run("equals", expected, {"stdout": text}, action="exec").passed


def test_text_comparison_failure_suggests_quoting_when_yaml_changed_the_value() -> None:
    result = run("equals", True, {"stdout": "yes"}, action="exec")  # YAML: `equals: yes` is true
    assert not result.passed
    assert result.message.startswith("expected true (boolean), compared as the text 'true', got 'yes' (text)")
    assert 'quote it to compare text, e.g. equals: "yes"' in result.message
    octal = run("equals", 8, {"stdout": "010"}, action="exec")  # YAML 1.1: 010 is 8
    assert 'equals: "010"' in octal.message


def test_text_comparison_failure_points_at_the_newline() -> None:
    result = run("equals", 4, {"stdout": "4\n"}, action="exec")
    assert not result.passed
    assert "got '4\\n' (text)" in result.message and 'equals: "4\\n"' in result.message


def test_quoted_text_against_a_number_suggests_unquoting() -> None:
    result = run("equals", "1", {"output": 1})
    assert result.message == ("expected '1' (text), got 1 (integer); the plan's value is quoted text: "
                              "write equals: 1 without quotes")


def test_json_equals_is_strict_too() -> None:
    assert not run("json", {"path": "ok", "equals": 1}, {"output": '{"ok": true}'}).passed
    assert not run("json", {"path": "n", "equals": True}, {"output": '{"n": 1}'}).passed
    assert run("json", {"path": "n", "equals": 1}, {"output": '{"n": 1}'}).passed


@pytest.mark.parametrize("expected, actual, passed", [
    (True, [1], False), (False, [], False), (1, True, False), (0, False, False), ({"min": True}, [1], False),
    ({"max": False}, [], False), ("x", [1], False), (1, [1], True), ({"min": 1, "max": 2}, [1, 2], True),
    (1, math.nan, False), (1, math.inf, False), (3, "abc", False), (0, None, False), (2, 2.0, True), (1, -1, False),
])
def test_count_takes_whole_numbers_only(expected: Any, actual: Any, passed: bool) -> None:
    result = run("count", expected, {"output": actual})
    assert result.passed is passed, result.message
    if not passed and not isinstance(actual, list):
        assert "(" in result.message  # the value is shown with its type


def test_count_on_nan_is_a_failure_naming_it() -> None:
    result = run("count", 1, {"output": math.nan})
    assert result.message == ("nothing to count: expected a list, a mapping or a whole number, "
                              "got NaN (number)")
    assert result.actual == "NaN"  # JSON-safe in the results


@pytest.mark.parametrize("expected, actual, passed", [
    (0, 0, True), (True, 1, False), (False, 0, False), (1, True, False), ("0", 0, True), ("zero", 0, False),
    (0, None, False), (0.0, 0, True), (None, 0, False),
])
def test_exit_code_takes_whole_numbers_only(expected: Any, actual: Any, passed: bool) -> None:
    result = run("exit_code", expected, {"exit_code": actual}, action="exec")
    assert result.passed is passed, result.message


def test_exit_code_true_says_it_wants_a_number() -> None:
    assert run("exit_code", True, {"exit_code": 1}, action="exec").message == \
        "exit_code needs a whole number, got true (boolean)"


@pytest.mark.parametrize("expected, actual", [
    (100, "slow"), (100, None), (100, True), (True, 5), ("fast", 5), (100, math.nan), (100, [1]),
    ("nan", 5),
])
def test_max_ms_on_something_that_is_no_duration_fails_with_its_type(expected: Any, actual: Any) -> None:
    result = run("max_ms", expected, {"duration_ms": actual})
    assert not result.passed and "(" in result.message


def test_max_ms_on_a_string_says_so() -> None:
    result = run("max_ms", 5, {"t": "slow"}, on="t")
    assert result.message == "expected a duration in ms (a number), got 'slow' (text)"


def test_an_expr_producing_a_huge_integer_is_judged_and_shown_safely() -> None:
    result = run("expr", "(output | length + 1) ** 20000 == 0", {"output": "x"})
    assert not result.passed and result.message.startswith("was False")
    huge = run("expr", "(output | length + 1) ** 20000 > 0 and output == 'y'", {"output": "x"})
    assert not huge.passed


@pytest.mark.parametrize("kind, value", [
    ("contains", "x"), ("equals", 1), ("matches", "x"), ("starts_with", "1"), ("is_json", False),
    ("json", {"path": "a", "equals": 1}), ("count", 1), ("max_ms", 1), ("icontains", "x"), ("exit_code", 0),
])
def test_a_huge_integer_in_the_result_never_escapes_check(kind: str, value: Any) -> None:
    result = run(kind, value, {"output": 10 ** 5000, "duration_ms": 10 ** 5000, "exit_code": 10 ** 5000})
    assert not result.passed
    assert isinstance(result.actual, (str, type(None)))  # never the int itself: the results stay writable


def test_comparing_incomparable_values_is_a_failure_not_a_crash() -> None:
    result = run("expr", "output > 3", {"output": "text"})
    assert not result.passed and "TypeError" in result.message
    broken = run("expr", "output.boom()", {"output": Exploding()})
    assert not broken.passed


class Exploding:
    def boom(self) -> None:
        raise RuntimeError("boom")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


def test_contains_on_a_list_does_not_take_true_for_1() -> None:
    assert not run("contains", 1, {"output": [True]}).passed
    assert run("contains", 1, {"output": [1, 2]}).passed


def test_a_list_or_mapping_compared_with_json_text_compares_the_parsed_value() -> None:
    assert run("equals", {"a": 1}, {"stdout": '{"a": 1}\n'}, action="exec").passed
    assert run("equals", [1, 2], {"stdout": "[1,2]"}, action="exec").passed
    assert not run("equals", [1, 0], {"stdout": "[true, false]"}, action="exec").passed
    assert not run("equals", {"a": 1}, {"stdout": "a: 1"}, action="exec").passed


def test_max_ms_takes_a_limit_given_as_text_as_a_var_gives_it() -> None:
    assert run("max_ms", "100", {"duration_ms": 5}).passed
    assert not run("max_ms", "2.5", {"duration_ms": 5}).passed
    huge = run("max_ms", 100, {"duration_ms": 10 ** 5000})
    assert not huge.passed and huge.message.startswith("took <integer of about 5001 digits> ms")
