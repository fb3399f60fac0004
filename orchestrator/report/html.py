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
import time
import zlib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from orchestrator.report import html_sections as sections
from orchestrator.report.sanitize import clean, display_json, first_line, show_value, xml_safe
from orchestrator.result.usage import usage_lines
from orchestrator.result.model import Attempt, CaseResult, RunResult, Status, StepResult, WorkerStats, to_jsonable
from orchestrator.result.nonfinite import finite
from orchestrator.result.step_fields import WorkerRef
from orchestrator.result.store import PathLike, atomic_writer

TEMPLATES = Path(__file__).parent / "templates"
STREAM_LIMIT = 64 * 1024
MIN_STREAM_LIMIT = 2 * 1024
OUTPUT_BUDGET = 60 * 2**20  # keep the file openable in a browser with 10,000 chatty cases
FIELDS_LIMIT = 8 * 1024

# Inside <script>, only these can end the element or break a JS string; JSON keeps them as escapes.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, bytecode_cache=_bytecode_cache(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["seconds"] = _fmt_seconds
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


def write_html(run: RunResult, path: PathLike) -> None:
    """Write the run as one offline HTML file (atomically), streamed: at 10,000 cases the
    whole page as one string, then as bytes, was two more copies of ~16 MB at the run's peak."""
    template = _environment().get_template("report.html.j2")
    with atomic_writer(path) as fh:
        for chunk in template.generate(**_context(run)):
            # backslashreplace is a last line of defence: every string is already sanitised.
            fh.write(chunk.encode("utf-8", "backslashreplace"))


def render_html(run: RunResult) -> str:
    return _environment().get_template("report.html.j2").render(**_context(run))


def script_json(data: Any) -> Markup:
    """`data` as JSON that is safe to place verbatim between <script> and </script>."""
    return Markup(_browser_json(_SCRIPT_JSON, data).translate(_SCRIPT_ESCAPES))


_SCRIPT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=repr, allow_nan=False)
_DETAILS_JSON = _SCRIPT_JSON


def _browser_json(encoder: json.JSONEncoder, data: Any) -> str:
    """JSON.parse rejects NaN and Infinity: those are written as strings (result/nonfinite)."""
    try:
        return encoder.encode(data)
    except ValueError:
        return encoder.encode(finite(to_jsonable(data)))


def packed_json(items: Iterable[Any]) -> Markup:
    """A JSON list of `items`, deflated and base64-encoded, for the page to unpack
    (DecompressionStream).

    The per-case details are the bulk of a big report and compress ~15x (14 MB -> 1 MB at
    10,000 cases): the file loads that much sooner. Items are encoded and compressed one at a
    time, so neither the whole list's JSON text nor (with a generator) the list itself is ever
    in memory. Base64 cannot end a <script> either.
    """
    packer = zlib.compressobj(3)
    chunks = [packer.compress(b"[")]
    for n, item in enumerate(items):
        text = ("," if n else "") + _browser_json(_DETAILS_JSON, item)
        chunks.append(packer.compress(text.encode("utf-8", "backslashreplace")))
    chunks.append(packer.compress(b"]"))
    chunks.append(packer.flush())
    return Markup(base64.b64encode(b"".join(chunks)).decode("ascii"))


def unpack_json(text: str) -> Any:
    """The inverse of `packed_json` (for tests and tools that read a report's details)."""
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def _fmt_seconds(value: float) -> str:
    if value != value or value < 0:  # NaN or negative: a clock went backwards
        return "–"
    if value < 60:
        return f"{value:.2f}s"
    minutes, seconds = divmod(value, 60)
    if minutes < 60:
        return f"{int(minutes)}m {seconds:04.1f}s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)}h {int(minutes):02d}m"


def _when(unix: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(unix))  # 4x cheaper than datetime's
    except (OverflowError, OSError, ValueError):
        return ""


def _mib(n: int | None) -> str:
    return "" if n is None else f"{n / 2**20:.1f} MiB"


def _context(run: RunResult) -> dict[str, Any]:
    counts = run.counts()
    titles = [p.title or p.name for p in run.plans]
    limit = max(MIN_STREAM_LIMIT, min(STREAM_LIMIT, OUTPUT_BUDGET // (3 * max(1, len(run.cases)))))
    return {
        "title": xml_safe(" · ".join(titles) if titles else "Test run"),
        "started": _when(run.started_at),
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
        "rows": script_json([_row(c) for c in run.cases]),
        "timeline": script_json(sections.timeline(run)),
        "data": packed_json(_details(c, limit) for c in run.cases),
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "js": Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
    }


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
    return [case.status.value, xml_safe(case.id), clean(case.name, 500), first_line(case.message, 300),
            xml_safe(case.priority), xml_safe(case.level or ""), [xml_safe(t) for t in case.tags],
            round(seconds, 4), xml_safe(case.plan), [xml_safe(c) for c in case.covers]]


def _worker(w: WorkerStats) -> dict[str, Any]:
    return {
        "provider": xml_safe(w.provider), "index": w.index, "pid": "" if w.pid is None else w.pid,
        "calls": w.calls, "restarts": w.restarts,
        "reasons": [clean(r, 500) for r in w.restart_reasons],
        "rss": _mib(w.peak_rss_bytes),
        "cold": "" if w.cold_start_ms is None else f"{w.cold_start_ms:.0f} ms",
    }


def _details(case: CaseResult, limit: int) -> dict[str, Any]:
    return {
        "id": xml_safe(case.id),
        "name": clean(case.name, 500),
        "status": case.status.value,
        "message": clean(case.message, limit),
        "description": clean(case.description, 4000),
        "where": xml_safe(f"{case.file}:{case.line}"),
        "covers": [xml_safe(c) for c in case.covers],
        "attempts": [_attempt(a, limit) for a in case.attempts],
    }


def _attempt(a: Attempt, limit: int) -> dict[str, Any]:
    steps = [_step(s) for s in a.steps]
    return {
        "status": a.status.value,
        "duration": _fmt_seconds(a.duration_s),
        "message": clean(a.message, 4000),
        "job": a.job,
        "started": _when(a.started_at) if a.started_at else "",
        "rss": _mib(a.peak_rss_bytes),
        "workers": sorted({s["worker"] for s in steps if s["worker"]}),
        "stdout": clean(a.stdout, limit),
        "stderr": clean(a.stderr, limit),
        "steps": steps,
    }


def _step(s: StepResult) -> dict[str, Any]:
    return {
        "index": s.index,
        "title": clean(s.title, 500),
        "action": xml_safe(s.action),
        "status": s.status.value,
        "duration": _fmt_seconds(s.duration_s),
        "line": s.line,
        "worker": _step_worker(s.fields.worker),
        "error": None if s.error is None else {
            "type": xml_safe(s.error.type), "message": clean(s.error.message, 4000),
            "traceback": clean(s.error.traceback, 32 * 1024)},
        "assertions": [{"kind": xml_safe(a.kind), "on": xml_safe(a.on), "passed": a.passed,
                        "expected": show_value(a.expected), "actual": show_value(a.actual, 4000),
                        "message": clean(a.message, 2000), "line": a.line} for a in s.assertions],
        "fields": _fields(s.fields.as_json()),
        "tests": [{"name": clean(t.name, 500), "status": t.status.value, "duration": _fmt_seconds(t.duration_s),
                   "where": xml_safe(f"{t.file}:{t.line}" if t.line else t.file), "message": clean(t.message, 500),
                   "details": clean(t.details, 8000) if t.status in (Status.FAILED, Status.ERROR) else ""}
                  for t in s.tests],
    }


def _step_worker(worker: WorkerRef | None) -> str:
    if worker is None:
        return ""
    parts = [f"{name} {value}" for name, value in (("pid", worker.pid), ("index", worker.index),
                                                   ("calls", worker.calls), ("restarts", worker.restarts))
             if value is not None]
    return xml_safe(" · ".join(parts))


def _fields(fields: Mapping[str, Any]) -> str:
    if not fields:
        return ""
    try:
        # Compact (the C encoder): the page pretty-prints it when opened, which is where time is cheap.
        text = display_json(fields)
    except (TypeError, ValueError):
        text = repr(fields)
    return clean(text, FIELDS_LIMIT)
