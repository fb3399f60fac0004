"""The journal's start line: the run as it starts, every selected case as not yet run.

Format 2 lists those cases compactly: what they all share once (`same`: the status and message
of a case not run, no attempts, and any field alike in every case: the plan, often the file,
priority, tags...), and per case only the other fields, as an array in the order `fields`
names them. `read_run` builds each case back from its row exactly as it reads a case written
whole (format 1, still read). One C encoder call per slice of rows, no record writer per case:
~2.5 -> ~0.9 ms at 1,000 cases (a seventh of the bytes), 25 -> 15 ms at 10,000.

A run whose cases do not all share those fields (no run of ours starts so) gets a format 1 line.
"""
from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from itertools import repeat
from operator import attrgetter, is_
from typing import Any, Callable, Iterator, cast

from orchestrator.result.model import CaseResult, RunResult
from orchestrator.result.store import encode

FORMAT = 2
SAME = ("status", "message", "attempts")  # alike in every case not yet run
ROW_FIELDS = tuple(f.name for f in fields(CaseResult) if f.name not in SAME)
_CASE_FIELDS = tuple(f.name for f in fields(CaseResult))
_ROWS_AT_ONCE = 1024  # rows encoded at once: ~90 KB of text
_encoder = json.JSONEncoder(ensure_ascii=True, allow_nan=False)  # what a field json cannot take: format 1


def start_line(start: RunResult) -> Iterator[str]:
    """The start line's text (with its newline), in pieces: at 10,000 cases it is ~1 MB."""
    marker = f"cases-go-here-{os.urandom(16).hex()}"  # not uuid: it imports platform (~3 ms)
    run_head, _, run_tail = encode(replace(start, cases=cast(Any, marker))).partition(json.dumps(marker))
    cases = start.cases
    rows = _rows(cases)
    if rows is None:
        yield '{"journal": 1, "run": ' + run_head + "["
        for n in range(0, len(cases), _ROWS_AT_ONCE):  # a list's text is its items' joined by ", ",
            listed = encode(list(cases[n:n + _ROWS_AT_ONCE]))  # as `encode(start)` writes them
            yield (", " if n else "") + listed[1:-1]
        yield "]" + run_tail + "}\n"
        return
    shared, names, texts = rows
    yield (f'{{"journal": {FORMAT}, "run": ' + run_head + "[]" + run_tail + ', "not_run": {"same": ' + shared
           + ', "fields": ' + json.dumps(names) + ', "rows": [')
    yield from texts
    yield "]}}\n"


def _rows(cases: tuple[CaseResult, ...]) -> tuple[str, list[str], list[str]] | None:
    """The text of what the cases share (SAME, and the fields alike in all of them), the names
    of the others, and the text of their rows, a slice at a time; None when the cases do not
    all share SAME (with no attempts), or a field is what json cannot take as it is."""
    same: dict[str, Any] = {}
    varying = list(ROW_FIELDS)
    if cases:
        varying = []
        for name in _CASE_FIELDS:
            value = getattr(cases[0], name)
            if _alike(cases, name, value) and (name != "attempts" or value == ()):
                same[name] = value
            elif name in SAME:
                return None
            else:
                varying.append(name)
    row: Callable[[CaseResult], Any] = attrgetter(*varying) if len(varying) > 1 else (
        (lambda c: (getattr(c, varying[0]),)) if varying else (lambda c: ()))
    try:
        texts = [_encoder.encode(list(map(row, cases[n:n + _ROWS_AT_ONCE])))[1:-1]
                 for n in range(0, len(cases), _ROWS_AT_ONCE)]
    except (TypeError, ValueError):
        return None
    return encode(same), varying, [(", " if n else "") + text for n, text in enumerate(texts)]


def _alike(cases: tuple[CaseResult, ...], name: str, value: Any) -> bool:
    """Every case's field `name` is written as `value` is: the very same object (the plan's
    name, a default, the empty tuple), or text equal to it. (Equal is not enough elsewhere:
    0 and -0.0, 1 and true are equal and written differently.)"""
    get = attrgetter(name)
    if all(map(is_, map(get, cases), repeat(value))):
        return True
    if type(value) is not str:
        return False
    column = list(map(get, cases))
    return column.count(value) == len(column) and all(map(is_, map(type, column), repeat(str)))


def not_run(listed: Any) -> list[dict[str, Any]]:
    """The cases of a format 2 start line's `not_run`, as the JSON of each case written whole."""
    same, names, rows = listed["same"], listed["fields"], listed["rows"]
    if not isinstance(same, dict) or not isinstance(names, list) or not isinstance(rows, list):
        raise TypeError("not_run: 'same' must be an object, 'fields' and 'rows' lists")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(names):
            raise ValueError(f"not_run: a row of {len(row) if isinstance(row, list) else 'no'} values "
                             f"for {len(names)} fields")
        own = dict(zip(names, row))
        out.append({name: own[name] if name in own else same[name]
                    for name in _CASE_FIELDS if name in own or name in same})
    return out
