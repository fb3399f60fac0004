"""Whether a case's attempt needs a `tmp` folder: only when a template it is made of names `tmp`.

Making and removing the folder cost ~0.35 ms a case; the scan that decides runs for every
attempt, so it is a loop over a per-class table, with the last case's and each plan's answer kept.
"""
from __future__ import annotations

import weakref
from dataclasses import fields, is_dataclass
from typing import Any, Mapping

from orchestrator.evaluation.templating import has_template
from orchestrator.plan.model import CaseSpec, Plan


def may_read_tmp(plan: Plan, case: CaseSpec) -> bool:
    """False only when no template the case is made of names `tmp`: Jinja2 offers no way to read
    a variable without naming it. (The plan's vars and env are rendered with the case's
    variables too.)"""
    global _LAST_CASE
    known = _LAST_CASE  # retries and repeats run the same case again: scan it once
    if known[0] is not case:
        known = _LAST_CASE = (case, _names_tmp((case.steps, case.vars, case.lock)))
    return known[1] or _plan_names_tmp(plan)


_LAST_CASE: tuple[CaseSpec | None, bool] = (None, False)
_LEAF, _MAPPING, _SEQUENCE, _DATACLASS = range(4)
_KINDS: dict[type, tuple[int, tuple[str, ...]]] = {}  # a class's kind (and fields), worked out once


def _kind(cls: type) -> tuple[int, tuple[str, ...]]:
    known = _KINDS.get(cls)
    if known is None:
        if issubclass(cls, Mapping):
            known = (_MAPPING, ())
        elif issubclass(cls, (list, tuple)):
            known = (_SEQUENCE, ())
        elif is_dataclass(cls):
            known = (_DATACLASS, tuple(f.name for f in fields(cls) if f.name != "location"))
        else:
            known = (_LEAF, ())
        _KINDS[cls] = known
    return known


def _names_tmp(value: Any) -> bool:
    """A template string holding the word `tmp` anywhere in `value` (locations and paths aside).
    A loop over a stack, not recursion: it runs for every case (the loader refuses cycles)."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        if isinstance(item, str):
            if "tmp" in item and has_template(item):
                return True
            continue
        kind, names = _kind(type(item))
        if kind == _MAPPING:
            for key, inner in item.items():
                push(key)
                push(inner)
        elif kind == _SEQUENCE:
            stack.extend(item)
        elif kind == _DATACLASS:
            for name in names:
                push(getattr(item, name))
    return False


# By id, with a weak reference that tells whether the id is still that plan's: holding the plan
# itself kept every case's spec alive while the reports were written (~10 MB at 10,000 cases).
_PLANS_NAMING_TMP: dict[int, tuple[weakref.ref[Plan], bool]] = {}


def _plan_names_tmp(plan: Plan) -> bool:
    known = _PLANS_NAMING_TMP.get(id(plan))
    if known is None or known[0]() is not plan:
        known = _PLANS_NAMING_TMP[id(plan)] = (weakref.ref(plan), _names_tmp((plan.vars, plan.env)))
    return known[1]


def forget_case(case: CaseSpec) -> None:
    """Its attempts are over: the memo must not keep its spec alive (the engine drops specs as
    their cases are journaled, so that 10,000 cases' specs do not stay beside their results)."""
    global _LAST_CASE
    if _LAST_CASE[0] is case:
        _LAST_CASE = (None, False)
