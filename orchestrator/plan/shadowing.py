"""Warnings for variables named like a step's own fields.

In a step's `expect`, the step's fields outrank variables (orchestrator.run.scope): a variable
`output` is not what `expr: "output == output_wanted"` reads in a call step. The plan is valid,
but the author most likely meant something else, so `validate` (and `run`) say so.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from orchestrator.errors import Problem
from orchestrator.plan.yaml_load import NodePath, Source
from orchestrator.plan.fields import STEP_FIELDS

if TYPE_CHECKING:
    from orchestrator.plan.expand import Field


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


@lru_cache(maxsize=64)  # asked for every case; a plan's cases use a few sets of actions
def field_names(actions: frozenset[str]) -> Mapping[str, str]:
    """field name -> the first action (in STEP_FIELDS order) that has it (do not change it)."""
    wanted = actions | set(ALWAYS)
    out: dict[str, str] = {}
    for action, fields in STEP_FIELDS.items():
        if action in wanted:
            for name in fields:
                out.setdefault(name, action)
    return out


def warnings_for(names: Mapping[str, tuple[Source, NodePath]], actions: Iterable[str], what: str) -> list[Problem]:
    """A warning for each of `names` (name -> where it is written) that is a field of `actions`."""
    if not names:
        return []
    fields = field_names(frozenset(actions))
    out = []
    for name, (source, path) in names.items():
        if name in fields:
            action = fields[name]
            out.append(Problem(source.key_at(path), f"warning: {what} '{name}' has the name of a field of "
                                                    f"{action} steps: in their expect, '{name}' is the step's "
                                                    f"field, not this {what}"))
    return out


def case_warnings(keys: Mapping[str, "Field"], steps: "Field") -> tuple[set[str], list[Problem]]:
    """The actions a case's steps use, and a warning for each of its variables, matrix values and
    as: names that the fields of those steps hide."""
    actions = actions_in(steps.value)
    found: list[Problem] = []
    for key, what in (("vars", "variable"), ("matrix", "matrix variable")):
        if key in keys and isinstance(keys[key].value, dict):
            field = keys[key]
            names = {str(k): (field.source, field.path + (k,)) for k in field.value}
            found.extend(warnings_for(names, actions, what))
    bound = {str(s["as"]): (steps.source, steps.path + (i, "as")) for i, s in enumerate(steps.value)
             if isinstance(s, dict) and isinstance(s.get("as"), str)}
    found.extend(warnings_for(bound, actions, "as: name"))
    return actions, found
