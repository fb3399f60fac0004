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
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Mapping, Optional

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from orchestrator.report import html_sections as sections
from orchestrator.report.html_details import fmt_seconds, mib, when
from orchestrator.report.html_parts import PARTS
from orchestrator.report.sanitize import clean, xml_safe
from orchestrator.result.usage import usage_lines
from orchestrator.result.model import RunResult, Status, WorkerStats
from orchestrator.result.store import PathLike, atomic_writer

TEMPLATES = Path(__file__).parent / "templates"



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


# Parts of the page (html_parts.PARTS) made elsewhere: each asked for when the template reaches
# it (None: it was not made after all, and is made here).
Elsewhere = Mapping[str, Callable[[], Optional[str]]]


def loaded_template() -> Template:
    """The page's template, compiled or read from its bytecode cache the first time."""
    return _environment().get_template("report.html.j2")


def write_html(run: RunResult, path: PathLike, elsewhere: Elsewhere | None = None) -> None:
    """Write the run as one offline HTML file (atomically), streamed: at 10,000 cases the
    whole page as one string, then as bytes, was two more copies of ~16 MB at the run's peak.
    `elsewhere`: the page's parts made by someone else meanwhile (`orchestrator report` has
    the case details made by another process), asked for only where the page needs them."""
    template = loaded_template()
    with atomic_writer(path) as fh:
        write_html_to(fh, run, elsewhere, template)


def write_html_to(fh: BinaryIO, run: RunResult, elsewhere: Elsewhere | None = None,
                  template: Template | None = None) -> None:
    """The page, streamed into an open file (`write_html` without the temporary file and rename)."""
    template = template or loaded_template()
    for chunk in template.generate(**_context(run, elsewhere)):
        # backslashreplace is a last line of defence: every string is already sanitised.
        fh.write(chunk.encode("utf-8", "backslashreplace"))


def render_html(run: RunResult) -> str:
    return _environment().get_template("report.html.j2").render(**_context(run))


def unpack_json(text: str) -> Any:
    """The inverse of `packed_json` (for tests and tools that read a report's details)."""
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def _context(run: RunResult, elsewhere: Elsewhere | None = None) -> dict[str, Any]:
    counts = run.counts()
    titles = [p.title or p.name for p in run.plans]
    given = elsewhere or {}
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
        **{name: _Later(run, make, given.get(name)) for name, make in PARTS.items()},  # rows, timeline, data
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "js": Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
    }


class _Later:
    """A part of the page made when the template reaches it (autoescape takes `__html__` as
    markup, as it takes a Markup): the page's text before it is written meanwhile."""

    def __init__(self, run: RunResult, make: Callable[[RunResult], str], given: Callable[[], str | None] | None) -> None:
        self._run, self._make, self._given = run, make, given

    def __html__(self) -> str:
        text = self._given() if self._given is not None else None
        return self._make(self._run) if text is None else text


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


def _worker(w: WorkerStats) -> dict[str, Any]:
    return {
        "provider": xml_safe(w.provider), "index": w.index, "pid": "" if w.pid is None else w.pid,
        "calls": w.calls, "restarts": w.restarts,
        "reasons": [clean(r, 500) for r in w.restart_reasons],
        "rss": mib(w.peak_rss_bytes),
        "cold": "" if w.cold_start_ms is None else f"{w.cold_start_ms:.0f} ms",
    }
