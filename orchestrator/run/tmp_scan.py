"""Whether a case's attempt needs a `tmp` folder: only when a template it is made of names `tmp`.

Making and removing the folder cost ~0.35 ms a case; the scan that decides runs for every
attempt, so it is a loop over a per-class table, with the last case's and each plan's answer kept.
"""
from __future__ import annotations

import weakref
from keyword import iskeyword
from dataclasses import fields, is_dataclass
from operator import attrgetter
from typing import Any, Callable, Mapping

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
_LEAF, _TEXT, _MAPPING, _SEQUENCE, _DATACLASS = range(5)
# A dataclass's scanner: (object, push) -> whether one of its strings is a template naming
# `tmp`; what holds more (a container, another dataclass) is pushed for the loop to look at.
Scanner = Callable[[Any, Callable[[Any], None]], bool]
# A class's kind, and for a dataclass its scanner (locations aside), worked out once per class:
# the scan then costs a dict look-up and one call per object.
_KINDS: dict[type, tuple[int, Scanner | None]] = {str: (_TEXT, None)}


def _kind(cls: type) -> tuple[int, Scanner | None]:
    known = _KINDS.get(cls)
    if known is None:
        if issubclass(cls, str):
            known = (_TEXT, None)
        elif issubclass(cls, Mapping):
            known = (_MAPPING, None)
        elif issubclass(cls, (list, tuple)):
            known = (_SEQUENCE, None)
        elif is_dataclass(cls):
            names = tuple(f.name for f in fields(cls) if f.name != "location")
            known = (_DATACLASS, _scanner(cls, names))
        else:
            known = (_LEAF, None)
        _KINDS[cls] = known
    return known


def _scanner(cls: type, names: tuple[str, ...]) -> Scanner:
    """The fields' strings looked at in place, field by field, without a tuple of their values."""
    if not all(name.isidentifier() and not iskeyword(name) for name in names):
        get = attrgetter(*names) if len(names) > 1 else None

        def generic(item: Any, push: Callable[[Any], None]) -> bool:
            parts = get(item) if get is not None else tuple(getattr(item, n) for n in names)
            return _parts_name_tmp(parts, push)
        return generic
    lines = ["def scan(o, push):"]
    for name in names:
        lines += [f"    x = o.{name}", "    t = type(x)", "    if t is str:",
                  "        if 'tmp' in x and has_template(x):", "            return True",
                  "    elif t not in scalars:", "        push(x)"]
    lines.append("    return False")
    scope: dict[str, Any] = {"has_template": has_template, "scalars": _SCALARS}
    exec(compile("\n".join(lines) + "\n", f"<tmp scan of {cls.__qualname__}>", "exec"), scope)
    scan: Scanner = scope["scan"]
    return scan


_SCALARS = frozenset({type(None), bool, int, float})


def _parts_name_tmp(parts: Any, push: Callable[[Any], None]) -> bool:
    for part in parts:
        part_kind = type(part)
        if part_kind is str:
            if "tmp" in part and has_template(part):
                return True
        elif part_kind not in _SCALARS:
            push(part)
    return False


def _names_tmp(value: Any) -> bool:
    """A template string holding the word `tmp` anywhere in `value` (locations and paths aside).
    A loop over a stack, not recursion: it runs for every case (the loader refuses cycles). An
    object's strings and scalars are looked at in place; only what holds more is stacked."""
    stack = [value]
    pop, push, kinds = stack.pop, stack.append, _KINDS
    while stack:
        item = pop()
        kind, scan = kinds.get(type(item)) or _kind(type(item))
        if kind == _DATACLASS:
            if scan(item, push):  # type: ignore[misc]  # a dataclass always has its scanner
                return True
            continue
        if kind == _SEQUENCE:
            parts: Any = item
        elif kind == _MAPPING:
            parts = (*item.keys(), *item.values())
        elif kind == _TEXT:
            if "tmp" in item and has_template(item):
                return True
            continue
        else:
            continue
        if _parts_name_tmp(parts, push):
            return True
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
