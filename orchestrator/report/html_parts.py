"""The HTML report's heaviest parts as text: the case table's rows, the timeline's bars and the
packed per-case details (`PARTS`, by the name the page (html_page) gives them; all three come
last in the page). `orchestrator report` has another process make the
details while it writes JUnit and the rest of the page.
"""
from __future__ import annotations

import json
from itertools import islice
from typing import Any, Callable, Iterable

from orchestrator.report import html_sections as sections
from orchestrator.report.html_details import browser_json, packed_details
from orchestrator.report.html_sections import VALUE
from orchestrator.report.sanitize import clean, first_line, xml_safe
from orchestrator.result.model import CaseResult, RunResult

# Inside <script>, only these can end the element or break a JS string; JSON keeps them as escapes.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})


def rows_text(run: RunResult) -> str:
    return _script_list(_row(c) for c in run.cases)  # no list of the rows themselves


def timeline_text(run: RunResult) -> str:
    return script_text(sections.timeline(run))


# What the page takes as they are (Markup: escaped here, for a <script>), by name.
PARTS: dict[str, Callable[[RunResult], str]] = {"rows": rows_text, "timeline": timeline_text, "data": packed_details}


def script_text(data: Any) -> str:
    """`data` as JSON that is safe to place verbatim between <script> and </script>.

    A list (also as a value of a dict) is encoded a slice at a time, to the same text: the
    encoder's pieces of a whole 10,000-row list, the list and the text were ~5 MB at once.
    """
    if type(data) is dict and all(type(k) is str for k in data):
        return "{" + ",".join([_script_item(k) + ":" + (_script_list(v) if type(v) is list else _script_item(v))
                               for k, v in data.items()]) + "}"
    return _script_list(data) if type(data) is list else _script_item(data)


def _script_list(items: Iterable[Any]) -> str:
    pieces: list[str] = []
    rest = iter(items)
    while True:
        chunk = list(islice(rest, _SLICE))
        if not chunk:
            return "[" + ",".join(pieces) + "]"
        pieces.append(_script_item(chunk)[1:-1])  # "[a,b]" -> "a,b": compact separators


_SLICE = 500


def _script_item(data: Any) -> str:
    return browser_json(_SCRIPT_JSON, data).translate(_SCRIPT_ESCAPES)


_SCRIPT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=repr, allow_nan=False)


def _row(case: CaseResult) -> list[Any]:
    """One table row, compact: [status, id, name, why, priority, level, tags, seconds, plan, covers]."""
    seconds = case.duration_s if case.duration_s == case.duration_s else -1.0  # NaN is not JSON
    name, message = case.name, case.message
    return [VALUE[case.status], _safe(case.id),
            name if type(name) is str and len(name) <= 500 and name.isascii() and name.isprintable() else clean(name, 500),
            "" if message == "" and type(message) is str else first_line(message, 300),
            _safe(case.priority), _safe(case.level or ""), [_safe(t) for t in case.tags],
            round(seconds, 4), _safe(case.plan), [_safe(c) for c in case.covers]]


def _safe(text: str) -> str:
    """xml_safe(text), without its call for plain ASCII (nearly every id, tag and priority)."""
    return text if type(text) is str and text.isascii() and text.isprintable() else xml_safe(text)


__all__ = ["PARTS", "packed_details", "rows_text", "script_text", "timeline_text"]
