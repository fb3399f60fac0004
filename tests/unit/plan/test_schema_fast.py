"""The compiled schema check (plan/schema_fast) must agree with jsonschema on every plan: a plan
it passes is never checked again, so a disagreement would let an invalid plan through."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from orchestrator.plan import schema as plan_schema
from orchestrator.plan.schema_fast import Unsupported, compile_schema
from orchestrator.plan.yaml_load import load_yaml

ROOT = Path(__file__).resolve().parents[3]
PLANS = sorted(p for folder in ("plans", "tests/fixtures", "scenarios") for p in (ROOT / folder).rglob("*.y*ml"))


def _both(data: Any, included: bool = False) -> tuple[bool, bool]:
    fast = plan_schema._fast_check(included)
    assert fast is not None, "the plan schema uses a keyword schema_fast does not compile"
    slow = Draft202012Validator(plan_schema._checked_schema())
    errors = [e for e in slow.iter_errors(data)
              if not (included and e.validator == "required" and not e.absolute_path)]
    return fast(data), not errors


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(ROOT)))
def test_agrees_with_jsonschema_on_every_shipped_plan_and_fixture(path: Path) -> None:
    source, _ = load_yaml(str(path))
    if source.data is None:
        pytest.skip("not a mapping")
    for included in (False, True):
        fast, slow = _both(source.data, included)
        assert fast == slow


def test_there_are_plans_of_both_kinds() -> None:
    verdicts = set()
    for path in PLANS:
        source, _ = load_yaml(str(path))
        if source.data is not None:
            verdicts.add(_both(source.data)[1])
    assert verdicts == {True, False}


BASE = {"version": 1, "name": "p", "providers": {"echo": {"python": "echo.py", "workers": 2}},
        "cases": [{"id": "C-1", "steps": [{"call": "echo", "prompt": "x", "expect": [{"contains": "x"}]}]}]}


@pytest.mark.parametrize("change", [
    lambda p: p.update(version=True),  # true is not 1 to JSON Schema
    lambda p: p.update(version=1.0),  # but 1.0 is
    lambda p: p.update(version=2),
    lambda p: p["providers"]["echo"].update(workers=0),
    lambda p: p["providers"]["echo"].update(workers=2.0),
    lambda p: p["providers"]["echo"].update(workers=True),
    lambda p: p["providers"]["echo"].update(workers="2"),
    lambda p: p["providers"].update({"9bad name": {"python": "x.py"}}),
    lambda p: p["cases"][0].update(id=""),
    lambda p: p["cases"][0].update(bogus=1),
    lambda p: p["cases"][0]["steps"].append({"call": "echo", "parallel": [{"sleep": "1s"}]}),
    lambda p: p["cases"][0]["steps"][0].update(prompt=None),
    lambda p: p["cases"][0]["steps"][0]["expect"].append({"contains": 3}),
    lambda p: p.update(secrets=["A", "A"]),
    lambda p: p.update(secrets=["A", "B"]),
    lambda p: p.update(cases=[]),
    lambda p: p.pop("name"),
], ids=lambda f: "")
def test_agrees_on_variants(change: Any) -> None:
    import copy

    plan = copy.deepcopy(BASE)
    change(plan)
    fast, slow = _both(plan)
    assert fast == slow


def test_an_unknown_keyword_is_refused_not_ignored() -> None:
    with pytest.raises(Unsupported):
        compile_schema({"type": "string", "format": "email"})
    with pytest.raises(Unsupported):
        compile_schema({"properties": {"a": {"if": {"type": "string"}}}})


def test_a_valid_plan_does_not_import_jsonschema_to_validate() -> None:
    plan_schema._validator.cache_clear()
    source, _ = load_yaml(str(PLANS[0]))
    source.data = {**BASE}
    assert plan_schema.validate(source) == []
    assert plan_schema._validator.cache_info().currsize == 0  # jsonschema's validator never built
