"""promptfoo's deterministic assertion types, `{type, value, threshold}`, with promptfoo's semantics."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec
from orchestrator.plan.promptfoo_types import OWN, kind_of
from orchestrator.run.assertions import check

AT = Location("plan.yaml", 3, 9)


def run(kind: str, value: Any, output: Any, threshold: float | None = None, **fields: Any) -> tuple[bool, str]:
    spec = AssertionSpec(kind=kind_of(kind), value=value, location=AT, threshold=threshold)
    result = check(spec, "call", {"output": output, "duration_ms": 40.0, **fields}, {})
    return result.passed, result.message


@pytest.mark.parametrize("kind, value, output, passed", [
    ("equals", "Hello", "Hello", True),
    ("not-equals", "Hello", "Hello", False),
    ("not-equals", "Hello", "hello", True),
    ("not-equals", {"a": 1}, '{"a": 1}', False),  # an object value compares with the parsed output
    ("not-icontains", "WORLD", "hello world", False),
    ("not-icontains", "moon", "hello world", True),
    ("not-starts-with", "hello", "hello world", False),
    ("not-regex", r"\d{3}", "call 555", False),
    ("not-regex", r"\d{3}", "no digits", True),
    ("contains-any", ["cat", "dog"], "a dog barks", True),
    ("contains-any", "cat, dog", "a Dog barks", False),  # comma-separated string, case-sensitive
    ("icontains-any", "cat, dog", "a Dog barks", True),
    ("not-contains-any", ["cat", "dog"], "a bird", True),
    ("contains-all", ["a", "b"], "a and b", True),
    ("contains-all", ["a", "z"], "a and b", False),
    ("icontains-all", ["A", "B"], "a and b", True),
    ("not-contains-all", ["a", "z"], "a and b", True),
    ("not-icontains-all", ["A", "B"], "a and b", False),
    ("is-json", None, '{"a": 1}', True),
    ("is-json", None, "not json", False),
    ("not-is-json", None, "not json", True),
    ("is-json", {"type": "object", "required": ["name"]}, '{"a": 1}', False),  # a schema is checked, not ignored
    ("is-json", "type: object\nrequired: [a]", '{"a": 1}', True),  # a YAML schema, as promptfoo reads it
    ("contains-json", None, 'Here: {"a": [1, 2]} done', True),
    ("contains-json", None, "no json {here", False),
    ("contains-json", {"required": ["b"]}, 'x {"a": 1} y {"b": 2}', True),
    ("not-contains-json", None, "plain", True),
    ("levenshtein", "kitten", "sitting", True),  # distance 3 <= default 5
])
def test_promptfoo_semantics(kind: str, value: Any, output: Any, passed: bool) -> None:
    assert run(kind, value, output)[0] is passed


def test_levenshtein_threshold_and_its_negation() -> None:
    assert run("levenshtein", "kitten", "sitting", threshold=2) == (False,
                                                                     "Levenshtein distance 3 is greater than threshold 2")
    assert run("not-levenshtein", "kitten", "sitting", threshold=2)[0] is True
    assert run("levenshtein", "abc", "abc", threshold=0)[0] is True


def test_latency_reads_the_returned_latencyMs_else_the_measured_duration() -> None:
    assert run("latency", None, "x", threshold=50) == (True, "")  # duration_ms 40
    assert run("latency", None, "x", threshold=30) == (False, "Latency 40ms is greater than threshold 30ms")
    assert run("latency", None, "x", threshold=30, latencyMs=12)[0] is True  # what promptfoo's latency reads
    assert run("not-latency", None, "x", threshold=30)[0] is True


def test_max_ms_still_reads_what_was_measured_whatever_the_provider_claims() -> None:
    spec = AssertionSpec(kind="max_ms", value=30, location=AT)
    assert not check(spec, "call", {"output": "x", "duration_ms": 40.0, "latencyMs": 1}, {}).passed


def test_cost_needs_a_returned_cost() -> None:
    assert run("cost", None, "x", threshold=0.01, cost=0.002)[0] is True
    assert run("cost", None, "x", threshold=0.001, cost=0.002) == (False, "Cost 0.002 is greater than threshold 0.001")
    assert run("cost", None, "x", threshold=0.01) == (False, "the provider returned no cost")
    assert run("cost", None, "x", threshold=0.01, cost=True)[0] is False  # a boolean is not an amount


def test_values_promptfoo_would_refuse_fail_with_a_reason() -> None:
    assert run("contains-any", 5, "5") == (False, "'contains-any' needs a list of strings (or a comma-separated "
                                                   "string), got 5")
    assert run("not-regex", "(", "x")[1].startswith("invalid regex /(/")
    assert run("not-regex", "(", "x")[0] is False  # not-X of an invalid X does not pass
    assert run("is-json", "- a list", '{"a": 1}')[1].startswith("the JSON schema must be a mapping")


def test_every_own_type_has_a_check() -> None:
    for kind in OWN:
        spec = AssertionSpec(kind=kind, value="a", location=AT, threshold=1.0)
        assert check(spec, "call", {"output": "a", "duration_ms": 0.5, "cost": 0.1}, {}).kind == kind


BAD = """version: 1
name: pf
providers:
  echo: {{python: "{echo}"}}
cases:
  - id: A
    name: a
    steps:
      - call: echo
        prompt: x
        expect:
          - {{type: llm-rubric, value: "is polite"}}
          - {{type: not-webhook, value: "http://x"}}
          - {{type: latency}}
          - {{type: contains, value: x, threshold: 2}}
          - {{type: contains-anything, value: x}}
          - {{type: contains-all}}
"""


def test_refused_and_malformed_promptfoo_assertions_get_one_line_each(tmp_path: Path) -> None:
    from orchestrator.errors import PlanErrors
    from orchestrator.plan.load import load_plans

    echo = Path(__file__).resolve().parents[3] / "scenarios" / "providers" / "echo.py"
    (tmp_path / "p.yaml").write_text(BAD.format(echo=echo), encoding="utf-8")
    with pytest.raises(PlanErrors) as raised:
        load_plans([str(tmp_path / "p.yaml")])
    lines = [str(p) for p in raised.value.problems]
    assert any(":12:20: promptfoo assertion type 'llm-rubric' is not supported: it asks a model to grade" in ln
               for ln in lines), lines
    assert any(":13:20: promptfoo assertion type 'not-webhook' is not supported: it posts the output" in ln
               for ln in lines), lines
    assert any(":14:20: 'latency' needs a threshold (milliseconds)" in ln for ln in lines), lines
    assert any(":15:51: promptfoo's 'contains' has no threshold" in ln for ln in lines), lines
    assert any(":16:20: unknown assertion type 'contains-anything' (did you mean 'contains-any'?)" in ln
               for ln in lines), lines
    assert any(":17:20: 'contains-all' needs a value" in ln for ln in lines), lines
    assert len(lines) == 6, lines
