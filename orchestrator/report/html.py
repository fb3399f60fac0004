"""The HTML report: one self-contained file (inline CSS and JS, no URL of any kind).

The case table is rendered by Jinja2 (autoescaped); the per-case details are embedded once as
JSON and turned into DOM nodes only when a row is opened, so 10,000 cases stay light. Every
string goes through the sanitiser first: control characters become visible escapes and lone
surrogates (which cannot be encoded as UTF-8) cannot crash the writer.
"""
from __future__ import annotations

import base64
import json
import os
import sys
import zlib
from collections import Counter
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from orchestrator.report import html_sections as sections
from orchestrator.report.html_sections import VALUE
from orchestrator.report.html_details import (browser_json, details_limit, fmt_seconds, mib, packed_details,
                                              when)
from orchestrator.report.sanitize import clean, first_line, xml_safe
from orchestrator.result.usage import usage_lines
from orchestrator.result.model import CaseResult, RunResult, Status, WorkerStats
from orchestrator.result.store import PathLike, atomic_writer

TEMPLATES = Path(__file__).parent / "templates"

# Inside <script>, only these can end the element or break a JS string; JSON keeps them as escapes.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, bytecode_cache=_bytecode_cache(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["seconds"] = fmt_seconds
    return env


def _bytecode_cache() -> BytecodeCache | None:
    """The compiled template kept beside it, as Python keeps .pyc files (and under the same rule:
    not with PYTHONDONTWRITEBYTECODE): compiling it cost every run ~30 ms. Jinja2 checks the
    template's checksum before using it, so an edited template is compiled again."""
    if sys.dont_write_bytecode:
        return None
    folder = TEMPLATES / "__pycache__"
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return FileSystemBytecodeCache(str(folder), "%s.jinja2.cache")


Details = Callable[[], Optional[str]]  # `packed_details(run)` worked out elsewhere (None: it was not)


def write_html(run: RunResult, path: PathLike, details: Details | None = None) -> None:
    """Write the run as one offline HTML file (atomically), streamed: at 10,000 cases the
    whole page as one string, then as bytes, was two more copies of ~16 MB at the run's peak.
    `details`, if given, is asked for the cases' packed details when they are needed
    (`orchestrator report` has them made by another process meanwhile)."""
    template = _environment().get_template("report.html.j2")
    with atomic_writer(path) as fh:
        for chunk in template.generate(**_context(run, details)):
            # backslashreplace is a last line of defence: every string is already sanitised.
            fh.write(chunk.encode("utf-8", "backslashreplace"))


def render_html(run: RunResult) -> str:
    return _environment().get_template("report.html.j2").render(**_context(run))


def script_json(data: Any) -> Markup:
    """`data` as JSON that is safe to place verbatim between <script> and </script>.

    A list (also as a value of a dict) is encoded a slice at a time, to the same text: the
    encoder's pieces of a whole 10,000-row list, the list and the text were ~5 MB at once.
    """
    if type(data) is dict and all(type(k) is str for k in data):
        return Markup("{" + ",".join([_script_item(k) + ":" + (_script_list(v) if type(v) is list else _script_item(v))
                                      for k, v in data.items()]) + "}")
    return Markup(_script_list(data) if type(data) is list else _script_item(data))


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


def unpack_json(text: str) -> Any:
    """The inverse of `packed_json` (for tests and tools that read a report's details)."""
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def _context(run: RunResult, details: Details | None = None) -> dict[str, Any]:
    counts = run.counts()
    titles = [p.title or p.name for p in run.plans]
    limit = details_limit(run)
    return {
        "title": xml_safe(" · ".join(titles) if titles else "Test run"),
        "started": when(run.started_at),
        "duration": run.duration_s,
        "interrupted": run.interrupted,
        "version": xml_safe(run.version),
        "command": clean(run.command, 2000),
        "plans": [{"name": xml_safe(p.name), "file": xml_safe(p.file)} for p in run.plans],
        "gate": {"passed": run.gate.passed, "scope": clean(run.gate.scope, 2000),
                 "rules": [{"rule": xml_safe(r.rule), "passed": r.passed, "judged": r.judged,
                            "detail": clean(r.detail, 2000)}
                           for r in run.gate.rules]},
        "counts": [(s.value, counts[s.value]) for s in Status if counts[s.value]],
        "total": len(run.cases),
        "options": _options(run),
        "matrix": sections.regression_matrix(run.cases),
        "trace": sections.traceability(run),
        "ranking": sections.duration_ranking(run.cases),
        "load": sections.load_steps(run.cases),
        "workers": [_worker(w) for w in run.workers],
        "usage": [xml_safe(line.strip()) for line in usage_lines(run)],
        "provider_leaks": [{"provider": xml_safe(p.provider), "plan": xml_safe(p.plan), "pid": p.pid,
                            "cmdline": clean(p.cmdline, 500), "case": xml_safe(p.case or "")}
                           for p in run.provider_leaks],
        "rows": Markup(_script_list(_row(c) for c in run.cases)),  # no list of the rows themselves
        "timeline": script_json(sections.timeline(run)),
        "data": Markup(_packed(run, details)),
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "js": Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
    }


def _packed(run: RunResult, details: Details | None) -> str:
    packed = details() if details is not None else None
    return packed_details(run) if packed is None else packed


def _options(run: RunResult) -> dict[str, list[str]]:
    """The values offered by the priority, level, tag and plan filters; none for a filter that
    would show every case whatever is chosen (one plan ran, every case is P1, ...)."""
    def offered(per_case: Iterable[Iterable[str]]) -> list[str]:
        having = Counter(v for values in per_case for v in set(values) if v)
        if all(n == len(run.cases) for n in having.values()):
            return []
        return sorted({xml_safe(v) for v in having})
    return {
        "priority": offered((c.priority,) for c in run.cases),
        "level": offered((c.level or "",) for c in run.cases),
        "tag": offered(c.tags for c in run.cases),
        "plan": offered((c.plan,) for c in run.cases),
    }


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


def _worker(w: WorkerStats) -> dict[str, Any]:
    return {
        "provider": xml_safe(w.provider), "index": w.index, "pid": "" if w.pid is None else w.pid,
        "calls": w.calls, "restarts": w.restarts,
        "reasons": [clean(r, 500) for r in w.restart_reasons],
        "rss": mib(w.peak_rss_bytes),
        "cold": "" if w.cold_start_ms is None else f"{w.cold_start_ms:.0f} ms",
    }
