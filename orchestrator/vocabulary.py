"""The plan format's vocabularies, read from its JSON Schema (`schema/plan-v1.json`): one home.

Step actions, assertion kinds, priorities and levels are defined once, in the schema; the loader,
`--priority`/`--level`, the scheduler, the gate and the HTML report take them from here, so no
layer keeps a copy that could drift (the HTML report once ordered levels the schema lacked).
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def plan_schema_document() -> dict[str, Any]:
    """The plan format's JSON Schema, parsed once."""
    try:  # beside this module, as it is installed; not importlib.resources: ~10 ms to import
        with open(os.path.join(os.path.dirname(__file__), "schema", "plan-v1.json"), encoding="utf-8") as handle:
            text = handle.read()
    except OSError:  # a package that is not a folder (a zip): its loader reads it
        from importlib import resources

        text = resources.files("orchestrator").joinpath("schema/plan-v1.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _one_of_keys(definition: str) -> tuple[str, ...]:
    """The keys of a `oneOf: [{required: [KEY]}, ...]` definition (steps, assertions), in order."""
    return tuple(branch["required"][0] for branch in plan_schema_document()["$defs"][definition]["oneOf"])


def _case_enum(key: str) -> tuple[str, ...]:
    return tuple(plan_schema_document()["$defs"]["case"]["properties"][key]["enum"])


PRIORITIES: tuple[str, ...] = _case_enum("priority")  # most urgent first
LEVELS: tuple[str, ...] = _case_enum("level")  # unit first, as reports list them
STEP_ACTIONS: tuple[str, ...] = _one_of_keys("step")
# Assertion kinds of the spec; `type:` (promptfoo) names are normalised to these by the loader.
ASSERTION_KINDS: tuple[str, ...] = tuple(k for k in _one_of_keys("assertion") if k != "type")
