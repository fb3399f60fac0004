"""Warnings for variables named like a step's own fields.

In a step's `expect`, the step's fields outrank variables (orchestrator.run.scope): a variable
`output` is not what `expr: "output == output_wanted"` reads in a call step. The plan is valid,
but the author most likely meant something else, so `validate` (and `run`) say so.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from orchestrator.errors import Problem
from orchestrator.plan.yaml_load import NodePath, Source
from orchestrator.run.scope import STEP_FIELDS


def actions_in(steps: Iterable[Any]) -> set[str]:
    found: set[str] = set()
    for step in steps:
        if not isinstance(step, dict):
            continue
        found |= {a for a in step if a in STEP_FIELDS}
        if isinstance(step.get("parallel"), list):
            found |= actions_in(step["parallel"])
    return found


# The fields every reader knows (plan-v1 names them): warned about even in a plan whose steps
# do not have them yet, since the next call or exec step added would hide the variable.
ALWAYS = ("call", "exec")


def field_names(actions: Iterable[str]) -> dict[str, str]:
    """field name -> the first action (in STEP_FIELDS order) that has it."""
    wanted = set(actions) | set(ALWAYS)
    out: dict[str, str] = {}
    for action, fields in STEP_FIELDS.items():
        if action in wanted:
            for name in fields:
                out.setdefault(name, action)
    return out


def warnings_for(names: Mapping[str, tuple[Source, NodePath]], actions: Iterable[str], what: str) -> list[Problem]:
    """A warning for each of `names` (name -> where it is written) that is a field of `actions`."""
    fields = field_names(actions)
    out = []
    for name, (source, path) in names.items():
        if name in fields:
            action = fields[name]
            out.append(Problem(source.key_at(path), f"warning: {what} '{name}' has the name of a field of "
                                                    f"{action} steps: in their expect, '{name}' is the step's "
                                                    f"field, not this {what}"))
    return out
