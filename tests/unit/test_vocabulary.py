"""Vocabularies are defined once, in the plan schema; code takes them from there."""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from orchestrator import vocabulary
from orchestrator.report.html_sections import regression_matrix
from orchestrator.plan.model import ParallelArgs
from orchestrator.plan.step_args import ARGS_TYPES, CallArgs, ReadyArgs, Selector
from orchestrator.result.model import Status
from orchestrator.run.actions import ACTIONS
from tests.unit.report.factory import _case

SCHEMA = json.loads((Path(vocabulary.__file__).parent / "schema" / "plan-v1.json").read_text(encoding="utf-8"))


def test_levels_and_priorities_are_the_schema_enums() -> None:
    case = SCHEMA["$defs"]["case"]["properties"]
    assert vocabulary.LEVELS == tuple(case["level"]["enum"])
    assert vocabulary.PRIORITIES == tuple(case["priority"]["enum"])
    assert SCHEMA["properties"]["defaults"]["properties"]["level"]["enum"] == case["level"]["enum"]


def test_every_schema_step_action_has_an_implementation_and_no_other() -> None:
    assert set(ACTIONS) | {"parallel"} == set(vocabulary.STEP_ACTIONS)  # parallel: run/case.py nests steps


def _given(cls: type) -> set[str]:
    """The fields of an argument type a plan writes (not those the loader works out)."""
    return {f.name for f in fields(cls) if not f.metadata.get("derived")}


def test_every_step_action_has_an_argument_type_with_the_schema_keys_and_no_other() -> None:
    step = SCHEMA["$defs"]["step"]
    assert set(ARGS_TYPES) | {"parallel"} == set(vocabulary.STEP_ACTIONS)
    assert _given(ParallelArgs) == {"steps"} and step["properties"]["parallel"]["type"] == "array"
    for action, cls in ARGS_TYPES.items():
        if cls is CallArgs:  # `call: ID` and its sibling keys, which only a call step may have
            keys = {"provider"} | set(step["dependentRequired"])
        else:
            definition = step["properties"][action]
            definition = SCHEMA["$defs"][definition["$ref"].split("/")[-1]] if "$ref" in definition else definition
            keys = set(definition["properties"]) if "properties" in definition else {"duration"}  # sleep: DURATION
        assert _given(cls) == keys, action
    assert _given(ReadyArgs) == set(step["properties"]["spawn"]["properties"]["ready"]["properties"])
    assert _given(Selector) == set(SCHEMA["$defs"]["selector"]["properties"])


def test_the_html_matrix_orders_levels_as_the_schema_does_and_invents_none() -> None:
    levels = ["load", *reversed(vocabulary.LEVELS), "component"]  # two the schema lacks
    cases = [_case(f"C{i}", "c", Status.PASSED, level=level) for i, level in enumerate(levels)]
    rows = [row["level"] for row in regression_matrix(cases)["rows"]]
    assert rows == [*vocabulary.LEVELS, "component", "load"]
