"""Which value a name means in a step's `expect` (its `expr:` and templates), once the step ran.

Highest precedence first:
1. the step's own fields, measured by the orchestrator (`output`, `error`, `duration_ms`,
   `worker`, `stdout`, `exit_code`, ... and, for a call, `result`);
2. variables: plan, case and matrix `vars`, `--var`, `as:` names, `plan_dir`, `env`, `providers`;
3. every other key a provider returned, by its bare name; all of them are also `result.KEY`.

So a provider can add names but never change what a name the plan relies on means: with
`vars: {expected: good}` a provider returning `{"expected": "bad"}` leaves `expected` good
(its value is `result.expected`), and the step's result carries a note saying so.
"""
from __future__ import annotations

from typing import Any, Collection, Mapping

from orchestrator.plan.fields import ALTERNATIVE_MAIN, CALL_FIELDS, NOTES, STEP_FIELDS
from orchestrator.evaluation.templating import GLOBAL_NAMES

# Functions every expression may call (len, min, int, ...): above what a provider returns, too.
_GLOBALS = GLOBAL_NAMES
__all__ = ["ALTERNATIVE_MAIN", "CALL_FIELDS", "NOTES", "STEP_FIELDS", "returned_names", "shadow_notes", "step_scope"]


def returned_names(returned: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The keys of a provider's answer that are not fields the orchestrator measures itself
    (`output`, `error`, and an embedding/classification main field count as the step's own)."""
    if not returned:
        return ()
    return tuple(k for k in returned if k not in _MEASURED)


_MEASURED = frozenset(CALL_FIELDS) | frozenset(ALTERNATIVE_MAIN)


def step_scope(fields: Mapping[str, Any], variables: Mapping[str, Any],
               returned: Collection[str] = ()) -> dict[str, Any]:
    """The names an assertion of the step reads, by the precedence in the module docstring.
    `returned`: the names among `fields` that a provider returned (see returned_names)."""
    hidden = set(returned)
    theirs = {k: fields[k] for k in returned if k in fields and k not in _GLOBALS}
    own = {k: v for k, v in fields.items() if k not in hidden}
    return {**theirs, **variables, **own}


def shadow_notes(returned: Mapping[str, Any] | None, variables: Mapping[str, Any]) -> list[str]:
    """A note for each key a provider returned that a variable or a measured field hides."""
    notes = []
    for key in returned or {}:
        if key in ("output", "error") or key in ALTERNATIVE_MAIN:
            continue
        if key in CALL_FIELDS:
            notes.append(f"the provider returned '{key}', which is a field the orchestrator measures: "
                         f"'{key}' is the measured value, the provider's is result.{key}")
        elif key in variables:
            notes.append(f"the provider returned '{key}', which is also a variable: '{key}' in expr and "
                         f"templates is the variable, the provider's value is result.{key}")
        elif key in _GLOBALS:
            notes.append(f"the provider returned '{key}', which is also a function of expressions: '{key}' "
                         f"stays the function, the provider's value is result.{key}")
    return notes
