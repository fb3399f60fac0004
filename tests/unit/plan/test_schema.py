"""The shipped JSON Schema: valid draft 2020-12, strict, helpful to editors, and agreeing with the loader."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator

from orchestrator.plan.schema import describe, plan_schema
from orchestrator.plan.suggest import did_you_mean
from orchestrator.plan.yaml_load import load_yaml

ROOT = Path(__file__).resolve().parents[3]
FREE_FORM = {"vars", "config", "options", "context", "requirements", "json", "env", "headers", "matrix"}


def mappings(node: Any, key: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield key, node
        for k, v in node.items():
            yield from mappings(v, k if k not in ("properties", "$defs", "additionalProperties") else key)
    elif isinstance(node, list):
        for item in node:
            yield from mappings(item, key)


def test_schema_is_valid_draft_2020_12_and_cached() -> None:
    schema = plan_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert plan_schema() is schema


def test_every_format_mapping_is_closed() -> None:
    for key, node in mappings(plan_schema()):
        if "properties" in node:
            assert node.get("additionalProperties") is False, key


def test_editor_help_is_there() -> None:
    defs = plan_schema()["$defs"]
    assert defs["provider"]["properties"]["mode"]["default"] == "persistent"
    assert defs["case"]["properties"]["priority"]["enum"] == ["P0", "P1", "P2", "P3"]
    assert "examples" in defs["duration"] and defs["step"]["description"]
    assert set(defs["step"]["properties"]) >= {"call", "exec", "spawn", "signal", "wait", "sleep", "processes",
                                               "load", "http", "parallel", "name", "as", "expect", "timeout",
                                               "always", "if"}


def test_good_plans_are_valid_for_editors_too() -> None:
    validator = Draft202012Validator(plan_schema())
    # our loader keeps `on:` a string key, as YAML 1.2 editors do (PyYAML's safe_load makes it True)
    data = load_yaml(str(ROOT / "tests/fixtures/good_plans/full.yaml"))[0].data
    assert list(validator.iter_errors(data)) == []


def test_describe_and_suggest() -> None:
    assert describe({"type": "integer", "minimum": 1}) == "an integer >= 1"
    assert describe({"enum": ["low", "high"]}) == "one of low, high"
    assert did_you_mean("promt", ["prompt", "vars"]) == " (did you mean 'prompt'?)"
    assert did_you_mean("zzz", ["prompt"]) == ""
