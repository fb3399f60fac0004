from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec
from orchestrator.run.assertions import check

HERE = Location("plan.yaml", 7, 9)


def run(kind: str, value: Any, fields: dict[str, Any], action: str = "call", on: str | None = None,
        variables: dict[str, Any] | None = None):
    return check(AssertionSpec(kind, value, HERE, on), action, fields, variables or {})


@pytest.mark.parametrize("kind, value, fields, passed", [
    ("contains", "Hello", {"output": "Echo: Hello"}, True),
    ("contains", "Bye", {"output": "Echo: Hello"}, False),
    ("not_contains", "Bye", {"output": "Echo: Hello"}, True),
    ("icontains", "hello", {"output": "Echo: HELLO"}, True),
    ("equals", "Done", {"output": "Done"}, True),
    ("equals", "Done", {"output": "Done "}, False),
    ("equals", 4, {"output": "4"}, True),
    ("matches", r"^Call #\d+$", {"output": "Call #12"}, True),
    ("matches", r"^Call #\d+$", {"output": "call 12"}, False),
    ("starts_with", "Echo", {"output": "Echo: x"}, True),
    ("is_json", True, {"output": '{"a": [1]}'}, True),
    ("is_json", True, {"output": "{a"}, False),
    ("json", {"path": "a.b[1]", "equals": 2}, {"output": '{"a": {"b": [1, 2]}}'}, True),
    ("json", {"path": "a.c", "equals": 2}, {"output": '{"a": {"b": [1, 2]}}'}, False),
    ("error", "ValueError", {"error": {"type": "ValueError", "message": "x"}}, True),
    ("error", "ValueError", {"error": {"type": "KeyError", "message": "x"}}, False),
    ("error", True, {"error": None}, False),
    ("no_error", True, {"error": None}, True),
    ("no_error", True, {"error": {"type": "ValueError", "message": "boom"}}, False),
    ("max_ms", 100, {"duration_ms": 12.5}, True),
    ("max_ms", 10, {"duration_ms": 12.5}, False),
])
def test_each_kind_passes_and_fails(kind: str, value: Any, fields: dict[str, Any], passed: bool) -> None:
    result = run(kind, value, fields)
    assert result.passed is passed
    assert (result.message == "") is passed


def test_failed_assertion_records_expected_actual_and_why() -> None:
    result = run("contains", "Success", {"output": "Failure: nope"})
    assert (result.expected, result.actual, result.on, result.line) == ("Success", "Failure: nope", "output", 7)
    assert result.message == "'Success' not found"


def test_exec_steps_read_stdout_and_exit_code() -> None:
    fields = {"stdout": "8\n", "exit_code": 0}
    assert run("contains", "8", fields, action="exec").on == "stdout"
    assert run("exit_code", 0, fields, action="exec").passed
    assert not run("exit_code", 1, fields, action="exec").passed


def test_on_reads_a_nested_field() -> None:
    result = run("equals", "ValueError", {"error": {"type": "ValueError"}}, on="error.type")
    assert result.passed and result.on == "error.type"


def test_missing_field_fails_with_its_name() -> None:
    result = run("equals", 1, {"output": "x"}, on="nope")
    assert not result.passed and result.message == "the result has no field 'nope'"


def test_expr_sees_result_fields_and_earlier_results() -> None:
    fields = {"output": "Call #2", "count": 2}
    ok = run("expr", "output == 'Call #2' and count == first.count + 1", fields, variables={"first": {"count": 1}})
    assert ok.passed and ok.actual == {"output": "Call #2", "count": 2, "first.count": 1}
    bad = run("expr", "count == 3", fields)
    assert not bad.passed and bad.message == "was False where count=2"


def test_expr_shows_the_dotted_values_it_read_from_earlier_results_and_live_stats() -> None:
    class Stats:  # like `providers.<id>`: an object, not data
        restarts = 2
        restart_reasons = ["killed by SIGKILL"]

    result = run("expr", "providers.chaos.restarts == 1 and 'SIGKILL' in providers.chaos.restart_reasons[0]",
                 {"output": "x"}, variables={"providers": {"chaos": Stats()}})
    assert not result.passed
    assert result.actual == {"providers.chaos.restarts": 2, "providers.chaos.restart_reasons": ["killed by SIGKILL"]}
    assert result.message == ("was False where providers.chaos.restarts=2, "
                              "providers.chaos.restart_reasons=['killed by SIGKILL']")


def test_expr_undefined_name_is_a_failure_with_a_hint() -> None:
    result = run("expr", "cuont == 2", {"count": 2})
    assert not result.passed
    assert result.message == "undefined variable 'cuont' (did you mean 'count'?)"


def test_expr_is_sandboxed() -> None:
    result = run("expr", "output.__class__.__mro__", {"output": "x"})
    assert not result.passed and "unsafe" in result.message


def test_values_are_templates() -> None:
    assert run("equals", "Hello {{ who }}", {"output": "Hello Ada"}, variables={"who": "Ada"}).passed


def test_count_range_and_exact() -> None:
    assert run("count", {"min": 1, "max": 4}, {"count": 3}, action="processes").passed
    assert not run("count", 0, {"count": 3}, action="processes").passed


def test_equals_file_compares_exactly_and_says_where(tmp_path) -> None:
    golden = tmp_path / "hello.out"
    golden.write_text("Hello\nHello\n", encoding="utf-8")
    assert run("equals_file", str(golden), {"stdout": "Hello\nHello\n"}, action="exec").passed
    result = run("equals_file", str(golden), {"stdout": "Hello\nHallo\n"}, action="exec")
    assert not result.passed and result.message == "differs from hello.out at line 2: 'Hallo' != 'Hello'"


def test_long_actual_values_are_shortened_for_reports() -> None:
    result = run("contains", "needle", {"output": "x" * 10_000})
    assert len(result.actual) < 2100 and result.actual.endswith("[8000 more characters]")


@pytest.mark.parametrize("pattern, text", [(r"^(a|a)+$", "a" * 40 + "b"), (r"^(a|aa)+$", "a" * 60 + "b")])
def test_a_catastrophic_regex_fails_its_assertion_within_the_time_limit(
        pattern: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from orchestrator.run import assertions

    monkeypatch.setattr(assertions, "MATCH_TIMEOUT_S", 0.3)
    started = time.monotonic()
    result = run("matches", pattern, {"output": text})
    assert time.monotonic() - started < 1.5
    assert not result.passed
    assert "gave up after 0.3s" in result.message and "catastrophic backtracking" in result.message


def test_a_regex_inside_a_json_assertion_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.run import assertions

    monkeypatch.setattr(assertions, "MATCH_TIMEOUT_S", 0.3)
    result = run("json", {"path": "a", "matches": "^(a|a)+$"}, {"output": '{"a": "' + "a" * 40 + 'b"}'})
    assert not result.passed and "gave up" in result.message


@pytest.mark.parametrize("pattern, why", [
    ("(a{10000}){10000}", "its repeats expand to 100,000,000 items (limit 200,000)"),
    ("a{4294967295}", "the repetition number is too large"),
    ("(" * 1000 + ")" * 1000, "maximum recursion depth exceeded"),
])
def test_a_pattern_too_large_to_compile_is_an_invalid_regex_at_once(pattern: str, why: str) -> None:
    import time

    started = time.monotonic()
    result = run("matches", pattern, {"output": "aaa"})
    assert time.monotonic() - started < 0.5
    assert not result.passed and why in result.message and result.message.startswith("invalid regex /")


def test_a_regex_never_outlives_the_case_deadline() -> None:
    import time

    from orchestrator.sandbox_limits import case_deadline

    started = time.monotonic()
    with case_deadline(started + 0.3):
        result = run("matches", r"^(a|a)+$", {"output": "a" * 40 + "b"})
    assert time.monotonic() - started < 1.0
    assert not result.passed and "gave up after 0.3s" in result.message
