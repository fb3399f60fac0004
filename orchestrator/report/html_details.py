"""What the HTML report shows when a case is opened: its attempts, steps and assertions, as JSON.

`details_json` writes each case's JSON text as it goes: building a dict per case, attempt, step
and assertion and then encoding them was most of writing the HTML at 10,000 cases.
tests/unit/report/test_html_details.py holds the same details as data (the shape the page's
script reads) and checks that this text is what a JSON encoder makes of them.
"""
from __future__ import annotations

import base64
import json
import time
import zlib
from json.encoder import encode_basestring as _json_str
from typing import Any, Iterable, Mapping

from orchestrator.report.sanitize import clean, display_json, show_value, xml_safe
from orchestrator.result.field_values import as_worker
from orchestrator.result.model import (AssertionResult, Attempt, CaseResult, RunResult, Status, StepResult,
                                       to_jsonable)
from orchestrator.result.nonfinite import finite
from orchestrator.result.step_fields import WorkerRef

FIELDS_LIMIT = 8 * 1024
STREAM_LIMIT = 64 * 1024
MIN_STREAM_LIMIT = 2 * 1024
OUTPUT_BUDGET = 60 * 2**20  # keep the file openable in a browser with 10,000 chatty cases
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
    text = _worker_words(worker.pid, worker.pool_index, worker.calls, worker.restarts)
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


class _SafeJson(dict):  # type: ignore[type-arg]
    """`_json_str(xml_safe(text))` of the short strings that repeat from step to step (actions,
    assertion kinds, what they check, step titles), each computed once: two calls a string
    were a good part of the details' time. Only ever indexed by a str."""

    LONGEST = 200  # cut to at most 500 anywhere here: a memoised text is never truncated
    MOST = 20_000  # distinct texts kept at once (a run's titles may all differ)

    def __missing__(self, text: str) -> str:
        out: str = _json_str(xml_safe(text))
        if len(text) <= self.LONGEST:
            if len(self) >= self.MOST:
                self.clear()
            self[text] = out
        return out


_safe_json = _SafeJson()


def _text(value: object, limit: int) -> str:
    """`_json_str(clean(value, limit))`; plain ASCII that needs no cut without clean's call."""
    if type(value) is str and value.isascii() and value.isprintable() and len(value) <= limit:
        return _json_str(value)
    return _json_str(clean(value, limit))


def _shown(value: object, limit: int) -> str:
    """`_json_str(show_value(value, limit))`; a plain ASCII string without show_value's calls."""
    if type(value) is str and value.isascii() and value.isprintable():
        text = _json_str(value)  # what display_json makes of a str; plain ASCII stays XML-safe
        if len(text) <= limit:
            return _json_str(text)
    return _json_str(show_value(value, limit))


def details_limit(run: RunResult) -> int:
    """How much of each output the details keep: the run's share of the page's budget."""
    return max(MIN_STREAM_LIMIT, min(STREAM_LIMIT, OUTPUT_BUDGET // (3 * max(1, len(run.cases)))))


def packed_details(run: RunResult) -> str:
    """Every case's details (`details_json`), packed for the page (`packed_json`)."""
    limit = details_limit(run)
    return packed_json(details_json(c, limit) for c in run.cases)


def packed_json(items: Iterable[str]) -> str:
    """A JSON list of `items` (each one JSON text), deflated and base64-encoded, for the page to
    unpack (DecompressionStream).

    The per-case details are the bulk of a big report and compress ~15x (14 MB -> 1 MB at
    10,000 cases): the file loads that much sooner. Items are encoded and compressed one at a
    time, so neither the whole list's JSON text nor (with a generator) the list itself is ever
    in memory. Base64 cannot end a <script> either.
    """
    packer = zlib.compressobj(3)
    chunks = [packer.compress(b"[")]
    for n, item in enumerate(items):
        text = ("," if n else "") + item
        chunks.append(packer.compress(text.encode("utf-8", "backslashreplace")))
    chunks.append(packer.compress(b"]"))
    chunks.append(packer.flush())
    return base64.b64encode(b"".join(chunks)).decode("ascii")


def details_json(case: CaseResult, limit: int) -> str:
    """The case as the page's details show it: compact JSON, every text XML-safe and cut to its
    limit (`limit` for the case's and attempts' output)."""
    attempts = ",".join([_attempt_json(a, limit) for a in case.attempts])
    return (f'{{"id":{_json_str(xml_safe(case.id))},"name":{_text(case.name, 500)},'
            f'"status":{_STATUS[case.status]},"message":{_text(case.message, limit)},'
            f'"description":{_text(case.description, 4000)},'
            f'"where":{_json_str(xml_safe(f"{case.file}:{case.line}"))},"covers":{_strs(case.covers)},'
            f'"attempts":[{attempts}]}}')


def _attempt_json(a: Attempt, limit: int) -> str:
    workers: set[str] = set()
    steps = ",".join([_step_json(s, workers) for s in a.steps])
    return (f'{{"status":{_STATUS[a.status]},"duration":{_seconds(a.duration_s)},'
            f'"message":{_text(a.message, 4000)},"job":{str(a.job) if type(a.job) is int else _int(a.job)},'
            f'"started":{_json_str(when(a.started_at) if a.started_at else "")},'
            f'"rss":{_json_str(mib(a.peak_rss_bytes))},"workers":{_strs(sorted(workers))},'
            f'"stdout":{_text(a.stdout, limit)},"stderr":{_text(a.stderr, limit)},'
            f'"steps":[{steps}]}}')


def _assertion_json(a: AssertionResult) -> str:
    kind, on, line = a.kind, a.on, a.line
    return (f'{{"kind":{_safe_json[kind] if type(kind) is str else _json_str(xml_safe(kind))},'
            f'"on":{_safe_json[on] if type(on) is str else _json_str(xml_safe(on))},'
            f'"passed":{_bool(a.passed)},"expected":{_shown(a.expected, 2000)},'
            f'"actual":{_shown(a.actual, 4000)},"message":{_text(a.message, 2000)},'
            f'"line":{str(line) if type(line) is int else _int(line)}}}')


def _step_json(s: StepResult, workers: set[str]) -> str:
    values = s.fields.as_json()
    worker = _worker_text(values)
    if worker:
        workers.add(worker)
    error = s.error
    error_text = "null" if error is None else (
        f'{{"type":{_json_str(xml_safe(error.type))},"message":{_text(error.message, 4000)},'
        f'"traceback":{_text(error.traceback, 32 * 1024)}}}')
    assertions = ",".join([_assertion_json(a) for a in s.assertions]) if s.assertions else ""
    tests = ",".join([
        f'{{"name":{_text(t.name, 500)},"status":{_STATUS[t.status]},'
        f'"duration":{_seconds(t.duration_s)},'
        f'"where":{_json_str(xml_safe(f"{t.file}:{t.line}" if t.line else t.file))},'
        f'"message":{_text(t.message, 500)},'
        f'"details":{_text(t.details, 8000) if t.status in (Status.FAILED, Status.ERROR) else _EMPTY}}}'
        for t in s.tests]) if s.tests else ""
    index, line, title, action = s.index, s.line, s.title, s.action
    return (f'{{"index":{str(index) if type(index) is int else _int(index)},'
            f'"title":{_safe_json[title] if type(title) is str and len(title) <= 500 else _text(title, 500)},'
            f'"action":{_safe_json[action] if type(action) is str else _json_str(xml_safe(action))},'
            f'"status":{_STATUS[s.status]},"duration":{_seconds(s.duration_s)},'
            f'"line":{str(line) if type(line) is int else _int(line)},'
            f'"worker":{_json_str(worker)},"error":{error_text},"assertions":[{assertions}],'
            f'"fields":{_json_str(_fields(values))},"tests":[{tests}]}}')


def _worker_words(pid: object, index: object, calls: object, restarts: object) -> str:
    """`pid 1 · index 0 · calls 3 · restarts 0`, leaving out what is unknown (None)."""
    named = (("pid", pid), ("index", index), ("calls", calls), ("restarts", restarts))
    return " · ".join(f"{name} {value}" for name, value in named if value is not None)


def _worker_text(values: Mapping[str, Any]) -> str:
    """`step_worker(fields.worker)` (the worker as the page shows it) from the stored fields,
    without the record's reader and its tuple where the numbers are plain ints."""
    raw = values.get("worker")
    if type(raw) is dict:
        pid, index, calls, restarts = raw.get("pid"), raw.get("index"), raw.get("calls"), raw.get("restarts")
        if (pid is None or type(pid) is int) and (index is None or type(index) is int) \
                and (calls is None or type(calls) is int) and (restarts is None or type(restarts) is int):
            return _worker_words(pid, index, calls, restarts)
    return step_worker(as_worker(raw))


class _Seconds(dict):  # type: ignore[type-arg]
    """`_json_str(fmt_seconds(value))` per distinct float: durations repeat (0.00s, 0.01s ...)."""

    MOST = 20_000

    def __missing__(self, value: float) -> str:
        out: str = _json_str(fmt_seconds(value))
        if len(self) >= self.MOST:
            self.clear()
        self[value] = out
        return out


_seconds_memo = _Seconds()


def _seconds(value: object) -> str:
    if type(value) is float and value > 0:  # not NaN (never found again), nor -0.0 (== 0.0, but "-0.00s")
        return _seconds_memo[value]  # type: ignore[no-any-return]
    return _json_str(fmt_seconds(value))  # type: ignore[arg-type]


_EMPTY = _json_str("")


# A status as its JSON string (Status.value goes through the enum's descriptor: slow in bulk).
_STATUS = {status: _json_str(status.value) for status in Status}


__all__ = ["FIELDS_LIMIT", "browser_json", "details_json", "details_limit", "fmt_seconds", "mib", "packed_details",
           "packed_json", "step_worker", "when"]
