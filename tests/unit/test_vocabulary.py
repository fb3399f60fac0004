"""Vocabularies are defined once, in the plan schema; code takes them from there."""
from __future__ import annotations

import json
from pathlib import Path

from orchestrator import vocabulary
from orchestrator.report.html_sections import regression_matrix
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


def test_the_html_matrix_orders_levels_as_the_schema_does_and_invents_none() -> None:
    levels = ["load", *reversed(vocabulary.LEVELS), "component"]  # two the schema lacks
    cases = [_case(f"C{i}", "c", Status.PASSED, level=level) for i, level in enumerate(levels)]
    rows = [row["level"] for row in regression_matrix(cases)["rows"]]
    assert rows == [*vocabulary.LEVELS, "component", "load"]
