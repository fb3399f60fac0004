"""Selections that cannot be what the user meant: a typo must never become an empty, green run.

`--priority p0` and `--level E2E` are read case-insensitively; a value that is no priority or
level at all is an error with a did-you-mean. A `run` whose selection matches no case, or an
`--id` or `--tag` value that matches no case, is an error (exit 2) naming the selection and what the plans have,
as pytest exits 5 when it collects nothing and 4 when a named test is not found.
"""
from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Iterable, Sequence

from orchestrator.errors import UserError
from orchestrator.plan.model import CaseSpec, Plan
from orchestrator.plan.select import Selection, select
from orchestrator.plan.suggest import did_you_mean
from orchestrator.vocabulary import LEVELS, PRIORITIES

_SHOWN = 8  # values listed in a message before "…"


def normalised(selection: Selection) -> Selection:
    """Priorities and levels spelt as the plan format does (P0, e2e); raises UserError for others."""
    return replace(selection, priorities=_vocabulary("--priority", selection.priorities, PRIORITIES),
                   levels=_vocabulary("--level", selection.levels, LEVELS))


def _vocabulary(option: str, values: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    by_lower = {k.lower(): k for k in known}
    out: list[str] = []
    for value in values:
        match = by_lower.get(value.lower())
        if match is None:
            raise UserError(f"{option} {value}: no such value{did_you_mean(value, known)}; "
                            f"use {', '.join(known)}")
        out.append(match)
    return tuple(dict.fromkeys(out))


def describe(selection: Selection) -> str:
    """The selection as options: "--priority P0 --tag smoke -k 'not slow'"."""
    parts: list[str] = []
    if selection.k:
        parts.append(f"-k {shlex.quote(selection.k)}")
    for option, values in (("--tag", selection.tags), ("--priority", selection.priorities),
                           ("--level", selection.levels)):
        if values:
            parts.append(f"{option} {','.join(values)}")
    parts.extend(f"--id {shlex.quote(i)}" for i in selection.ids)
    return " ".join(parts)


def check_selected(plans: Sequence[Plan], selection: Selection, written: Selection | None = None) -> None:
    """Raise UserError when the selection (or one --id or --tag value) matches no case of `plans`.
    `written`: the selection as the user spelt it (`--priority p3`), for the message."""
    if selection.empty:
        return
    written = written or selection
    cases = [c for p in plans for c in p.cases]
    where = "the plan" if len(plans) == 1 else "the plans"
    for pattern in selection.ids:
        if not _matches(plans, Selection(ids=(pattern,))):
            hint = did_you_mean(pattern, [c.id for c in cases])
            raise UserError(f"--id {pattern} matched no case{hint}; {_ids(cases, where)}")
    known_tags = {t for c in cases for t in c.tags}
    for tag in selection.tags:  # tags have no vocabulary: one no case carries is a typo
        if tag not in known_tags:
            raise UserError(f"--tag {tag} matched no case{did_you_mean(tag, sorted(known_tags))}; "
                            + _exists(Selection(tags=(tag,)), cases, where))
    if _matches(plans, selection):
        return
    alone = [(s, text) for (s, _), (_, text) in zip(_filters(selection), _filters(written))
             if not _matches(plans, s)]
    if alone:
        shown = "; ".join(f"{text} matched no case" for _, text in alone)
        hints = "; ".join(dict.fromkeys(_exists(s, cases, where) for s, _ in alone))
        raise UserError(f"{shown}; {hints}")
    raise UserError(f"{describe(written)} matched no case (each option matches cases on its own, "
                    f"but no case matches all of them); {_ids(cases, where)}")


def _matches(plans: Sequence[Plan], selection: Selection) -> bool:
    return select(plans, selection).count > 0


def _filters(selection: Selection) -> list[tuple[Selection, str]]:
    """Each given filter alone, with how it was written."""
    out: list[tuple[Selection, str]] = []
    if selection.k:
        out.append((Selection(k=selection.k), f"-k {shlex.quote(selection.k)}"))
    if selection.tags:
        out.append((Selection(tags=selection.tags), f"--tag {','.join(selection.tags)}"))
    if selection.priorities:
        out.append((Selection(priorities=selection.priorities), f"--priority {','.join(selection.priorities)}"))
    if selection.levels:
        out.append((Selection(levels=selection.levels), f"--level {','.join(selection.levels)}"))
    return out


def _exists(selection: Selection, cases: Sequence[CaseSpec], where: str) -> str:
    if selection.priorities:
        return f"priorities in {where}: {_listed(c.priority for c in cases)}"
    if selection.levels:
        levels = [c.level for c in cases if c.level]
        return f"levels in {where}: {_listed(levels)}" if levels else f"no case in {where} has a level"
    if selection.tags:
        tags = [t for c in cases for t in c.tags]
        return f"tags in {where}: {_listed(tags)}" if tags else f"no case in {where} has a tag"
    return f"-k matches words in case ids, names and tags; {_ids(cases, where)}"


def _ids(cases: Sequence[CaseSpec], where: str) -> str:
    return f"ids in {where}: {_listed((c.id for c in cases), ordered=False)}"


def _listed(values: Iterable[str], ordered: bool = True) -> str:
    unique = list(dict.fromkeys(values))
    if not unique:
        return "none"
    if ordered:
        unique.sort(key=_order)
    more = f" … ({len(unique)} in all)" if len(unique) > _SHOWN else ""
    return ", ".join(unique[:_SHOWN]) + more


def _order(text: str) -> tuple[int, str]:
    for vocabulary in (PRIORITIES, LEVELS):
        if text in vocabulary:
            return (vocabulary.index(text), text)
    return (len(LEVELS), text)

