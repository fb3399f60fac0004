"""What the HTML report shows when a case is opened: its attempts, steps and assertions, as JSON.

`details_json` writes each case's JSON text as it goes: building a dict per case, attempt, step
and assertion and then encoding them was most of writing the HTML at 10,000 cases.
tests/unit/report/test_html_details.py holds the same details as data (the shape the page's
script reads) and checks that this text is what a JSON encoder makes of them.
"""
from __future__ import annotations

import json
import time
from json.encoder import encode_basestring as _json_str
from typing import Any, Mapping

from orchestrator.report.sanitize import clean, display_json, show_value, xml_safe
from orchestrator.result.model import Attempt, CaseResult, Status, StepResult, to_jsonable
from orchestrator.result.nonfinite import finite
from orchestrator.result.step_fields import WorkerRef

FIELDS_LIMIT = 8 * 1024
# Compact, and valid for JSON.parse: NaN and Infinity are written as strings (result/nonfinite).
_DETAILS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=repr, allow_nan=False)


def browser_json(encoder: json.JSONEncoder, data: Any) -> str:
    """JSON.parse rejects NaN and Infinity: those are written as strings (result/nonfinite)."""
    try:
        return encoder.encode(data)
    except ValueError:
        return encoder.encode(finite(to_jsonable(data)))


_INFINITY = float("inf")


def fmt_seconds(value: float) -> str:
    if value != value or value < 0 or value == _INFINITY:  # not a duration (a clock went backwards, a hand-edited file)
        return "–"
    if value < 60:
        return f"{value:.2f}s"
    minutes, seconds = divmod(value, 60)
    if minutes < 60:
        return f"{int(minutes)}m {seconds:04.1f}s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)}h {int(minutes):02d}m"


def when(unix: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(unix))  # 4x cheaper than datetime's
    except (OverflowError, OSError, ValueError):
        return ""


def mib(n: int | None) -> str:
    return "" if n is None else f"{n / 2**20:.1f} MiB"


def step_worker(worker: WorkerRef | None) -> str:
    if worker is None:
        return ""
    pid, index, calls, restarts = worker.pid, worker.pool_index, worker.calls, worker.restarts
    parts = []
    if pid is not None:
        parts.append(f"pid {pid}")
    if index is not None:
        parts.append(f"index {index}")
    if calls is not None:
        parts.append(f"calls {calls}")
    if restarts is not None:
        parts.append(f"restarts {restarts}")
    text = " · ".join(parts)
    # Numbers and " · " need no sanitising (as_worker reads only ints): anything else does.
    return text if all(type(v) is int or v is None for v in worker) else xml_safe(text)


def _fields(fields: Mapping[str, Any]) -> str:
    if not fields:
        return ""
    try:
        # Compact (the C encoder): the page pretty-prints it when opened, which is where time is cheap.
        text = display_json(fields)
    except (TypeError, ValueError):
        text = repr(fields)
    return clean(text, FIELDS_LIMIT)


def _int(value: object) -> str:
    """An int field (line, job, index): an int or None, or whatever a hand-edited file holds."""
    if type(value) is int:
        return str(value)
    if value is None:
        return "null"
    return browser_json(_DETAILS_JSON, value)


def _bool(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return browser_json(_DETAILS_JSON, value)


def _strs(values: Any) -> str:
    return "[" + ",".join([_json_str(xml_safe(v)) for v in values]) + "]"


def details_json(case: CaseResult, limit: int) -> str:
    """The case as the page's details show it: compact JSON, every text XML-safe and cut to its
    limit (`limit` for the case's and attempts' output)."""
    attempts = ",".join([_attempt_json(a, limit) for a in case.attempts])
    return (f'{{"id":{_json_str(xml_safe(case.id))},"name":{_json_str(clean(case.name, 500))},'
            f'"status":{_STATUS[case.status]},"message":{_json_str(clean(case.message, limit))},'
            f'"description":{_json_str(clean(case.description, 4000))},'
            f'"where":{_json_str(xml_safe(f"{case.file}:{case.line}"))},"covers":{_strs(case.covers)},'
            f'"attempts":[{attempts}]}}')


def _attempt_json(a: Attempt, limit: int) -> str:
    workers: set[str] = set()
    steps = ",".join([_step_json(s, workers) for s in a.steps])
    return (f'{{"status":{_STATUS[a.status]},"duration":{_json_str(fmt_seconds(a.duration_s))},'
            f'"message":{_json_str(clean(a.message, 4000))},"job":{_int(a.job)},'
            f'"started":{_json_str(when(a.started_at) if a.started_at else "")},'
            f'"rss":{_json_str(mib(a.peak_rss_bytes))},"workers":{_strs(sorted(workers))},'
            f'"stdout":{_json_str(clean(a.stdout, limit))},"stderr":{_json_str(clean(a.stderr, limit))},'
            f'"steps":[{steps}]}}')


def _step_json(s: StepResult, workers: set[str]) -> str:
    worker = step_worker(s.fields.worker)
    if worker:
        workers.add(worker)
    error = s.error
    error_text = "null" if error is None else (
        f'{{"type":{_json_str(xml_safe(error.type))},"message":{_json_str(clean(error.message, 4000))},'
        f'"traceback":{_json_str(clean(error.traceback, 32 * 1024))}}}')
    assertions = ",".join([
        f'{{"kind":{_json_str(xml_safe(a.kind))},"on":{_json_str(xml_safe(a.on))},'
        f'"passed":{_bool(a.passed)},"expected":{_json_str(show_value(a.expected))},'
        f'"actual":{_json_str(show_value(a.actual, 4000))},"message":{_json_str(clean(a.message, 2000))},'
        f'"line":{_int(a.line)}}}' for a in s.assertions]) if s.assertions else ""
    tests = ",".join([
        f'{{"name":{_json_str(clean(t.name, 500))},"status":{_STATUS[t.status]},'
        f'"duration":{_json_str(fmt_seconds(t.duration_s))},'
        f'"where":{_json_str(xml_safe(f"{t.file}:{t.line}" if t.line else t.file))},'
        f'"message":{_json_str(clean(t.message, 500))},'
        f'"details":{_json_str(clean(t.details, 8000) if t.status in (Status.FAILED, Status.ERROR) else "")}}}'
        for t in s.tests]) if s.tests else ""
    index, line = s.index, s.line
    return (f'{{"index":{str(index) if type(index) is int else _int(index)},"title":{_json_str(clean(s.title, 500))},'
            f'"action":{_json_str(xml_safe(s.action))},"status":{_STATUS[s.status]},'
            f'"duration":{_json_str(fmt_seconds(s.duration_s))},'
            f'"line":{str(line) if type(line) is int else _int(line)},'
            f'"worker":{_json_str(worker)},"error":{error_text},"assertions":[{assertions}],'
            f'"fields":{_json_str(_fields(s.fields.as_json()))},"tests":[{tests}]}}')


# A status as its JSON string (Status.value goes through the enum's descriptor: slow in bulk).
_STATUS = {status: _json_str(status.value) for status in Status}


__all__ = ["FIELDS_LIMIT", "browser_json", "details_json", "fmt_seconds", "mib", "step_worker",
           "when"]
