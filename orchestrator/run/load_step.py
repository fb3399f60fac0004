"""The `load` step: many calls to one provider from `concurrency` callers, then statistics.

    load: {call: PROVIDER, prompt, requests, duration, concurrency, warmup, vars, options, session}

`prompt`, `vars` and `session` are rendered per request with `i` (the request's index, counting
warm-up requests first) in scope. `warmup` requests run first and are not counted. The step runs
`requests` calls, or calls for `duration`, whichever ends first. Latency is measured by the
caller around the whole call, so time spent queueing for a busy pool counts.

Correlation: every request carries a unique token in `context["request_id"]`. A provider that
echoes it back (a `request_id` key in its answer) proves each answer belongs to its request; an
answer with somebody else's token is an error of type "CorrelationError". Independently of
that, the pool matches every answer to its call by the protocol's call id (a mismatch there is
a ProtocolError and the worker is replaced), so a worker can never hand over a stale answer.
"""
from __future__ import annotations

import bisect
import math
import threading
import time
import uuid
from collections import Counter
from typing import Any, Mapping

from orchestrator.errors import ErrorKind
from orchestrator.plan.model import StepSpec
from orchestrator.plan.step_args import LoadArgs
from orchestrator.procs.api import CallOutcome
from orchestrator.result.model import ErrorInfo
from orchestrator.run.promptfoo_call import UsageTally, call_options
from orchestrator.run.steps import CaseContext, StepAction, StepOutput, effective_timeout, provider_request, seconds
from orchestrator.evaluation.values import whole
from orchestrator.evaluation.templating import render

MAX_CONCURRENCY = 1000  # callers (threads) of one load step; documented in the plan schema
_SAMPLES = 5


class _Tally:
    """What the callers found, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.checked = 0
        self.pids: set[int] = set()

    def add(self, latency_ms: float, error: tuple[str, str] | None, checked: bool, pid: int | None) -> None:
        with self.lock:
            self.latencies.append(latency_ms)
            if checked:
                self.checked += 1
            if pid is not None:
                self.pids.add(pid)
            if error is not None:
                self.errors[error[0]] += 1
                if len(self.samples) < _SAMPLES:
                    self.samples.append(f"{error[0]}: {error[1]}")


def run_load(step: StepSpec, ctx: CaseContext) -> StepOutput:
    args = step.args_as(LoadArgs)
    provider_id = str(render(args.call, ctx.variables))
    pool = ctx.pools.get(provider_id)
    if pool is None:
        return StepOutput({"requests": 0}, ErrorInfo(ErrorKind.UNSUPPORTED_PROVIDER,
                          f"provider '{provider_id}' cannot be loaded in this version (no worker pool)"))
    spec = ctx.plan.providers[provider_id]
    # rendered now; prompt, vars and session per request (they may read `i`)
    given_requests, given_concurrency, given_warmup, given_options = (
        render(v, ctx.variables) for v in (args.requests, args.concurrency, args.warmup, args.options))
    try:
        requests = None if given_requests is None else whole(given_requests, "load requests", 0)
        concurrency = max(1, whole(given_concurrency, "load concurrency"))
        warmup = max(0, whole(given_warmup, "load warmup"))
    except ValueError as exc:
        return StepOutput({"requests": 0}, ErrorInfo(ErrorKind.INVALID_STEP, str(exc)))
    duration = seconds(args.duration, ctx)
    if requests is None and duration is None:
        return StepOutput({"requests": 0}, ErrorInfo(ErrorKind.INVALID_STEP, "load needs 'requests' or 'duration'"))
    if concurrency > MAX_CONCURRENCY:
        return StepOutput({"requests": 0}, ErrorInfo(ErrorKind.INVALID_STEP, f"load concurrency {concurrency} is over "
                          f"the limit of {MAX_CONCURRENCY} callers (each is a thread)"))
    options = call_options(spec, ctx.plan, dict(given_options or {}))
    limit = effective_timeout(step, ctx)
    began = time.monotonic()
    hard_stop = None if limit is None else began + limit
    prefix = uuid.uuid4().hex[:12]
    usage = UsageTally()

    def one(i: int, tally: _Tally | None) -> None:
        scope = {**ctx.variables, "i": i}
        prompt, call_vars, session = (render(v, scope) for v in (args.prompt, args.vars, args.session))
        token = f"{prefix}-{i}"
        call_timeout = spec.timeout_s if hard_stop is None else max(0.001, min(spec.timeout_s, hard_stop - time.monotonic()))
        request = provider_request(ctx, options, prompt, call_vars or {},
                                   {"request_id": token}, call_timeout, session)
        started = time.perf_counter()
        outcome = pool.call(request)
        latency = (time.perf_counter() - started) * 1000
        usage.add(outcome.result)
        if tally is not None:
            error, checked = _judge(outcome, token)
            tally.add(latency, error, checked, outcome.worker.pid if outcome.worker else None)

    counter = _Counter()
    tally = _Tally()
    measured_from = time.perf_counter()
    try:
        if warmup:
            _drive(one, counter, warmup, None, concurrency, None, ctx, hard_stop)
        measured_from = time.perf_counter()
        end = None if duration is None else time.monotonic() + duration
        _drive(one, counter, requests, end, concurrency, tally, ctx, hard_stop)
    except LoadCallersFailed as exc:
        fields = _fields(tally, time.perf_counter() - measured_from, concurrency, warmup)
        return StepOutput(fields, ErrorInfo(ErrorKind.RESOURCE_LIMIT, str(exc)))
    wall_s = time.perf_counter() - measured_from
    fields = {**_fields(tally, wall_s, concurrency, warmup), **usage.fields(provider_id)}
    if ctx.stop.is_set():  # cut short: its figures are not the load it describes (the case is interrupted)
        return StepOutput(fields, ErrorInfo(ErrorKind.INTERRUPTED, f"the run was interrupted during the load "
                                                                   f"({fields.get('requests', 0)} request(s) made)"))
    return StepOutput(fields)


class LoadCallersFailed(RuntimeError):
    """The load step could not start all its callers (the ones started were stopped)."""


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def take(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value


def _drive(one: Any, counter: _Counter, count: int | None, end: float | None, concurrency: int,
           tally: _Tally | None, ctx: CaseContext, hard_stop: float | None) -> None:
    """`concurrency` callers issue requests until `count` were issued, `end` passed, or the case stops."""
    issued = 0
    lock = threading.Lock()
    failure: list[BaseException] = []

    def caller() -> None:
        nonlocal issued
        while not ctx.stop.is_set() and not failure:
            now = time.monotonic()
            if (end is not None and now >= end) or (hard_stop is not None and now >= hard_stop):
                return
            with lock:
                if count is not None and issued >= count:
                    return
                issued += 1
            try:
                one(counter.take(), tally)
            except BaseException as exc:  # a template error etc.: stop everyone, report it once
                failure.append(exc)

    started: list[threading.Thread] = []
    for n in range(concurrency):
        thread = threading.Thread(target=caller, name=f"load-{n}", daemon=True)
        try:
            thread.start()
        except RuntimeError as exc:  # "can't start new thread": stop the callers already running
            failure.append(LoadCallersFailed(f"could not start load caller {n + 1} of {concurrency}: {exc}"))
            break
        started.append(thread)
    for thread in started:
        thread.join()
    if failure:
        raise failure[0]


def _judge(outcome: CallOutcome, token: str) -> tuple[tuple[str, str] | None, bool]:
    """(error type and message or None, whether the answer's request_id was checked)."""
    if outcome.error is not None:
        return (outcome.error.type, outcome.error.message), False
    result: Mapping[str, Any] = outcome.result or {}
    if result.get("error"):
        return (ErrorKind.PROVIDER, str(result["error"])), False
    if "request_id" in result:
        if result["request_id"] != token:
            return (ErrorKind.CORRELATION, f"request {token} got the answer for {result['request_id']}"), True
        return None, True
    return None, False


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# Upper bounds of the latency histogram's buckets (ms), 1-2.5-5 steps over five decades.
HISTOGRAM_BOUNDS_MS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


def histogram(ordered: list[float]) -> dict[str, list[float] | list[int]]:
    """{"bounds_ms": [...], "counts": [...]}: counts[k] latencies <= bounds_ms[k] (and above the
    previous bound); one more count than bounds when some exceed the last. Empty buckets
    before the first and after the last latency are left out."""
    counts = [0] * (len(HISTOGRAM_BOUNDS_MS) + 1)
    for value in ordered:
        counts[bisect.bisect_left(HISTOGRAM_BOUNDS_MS, value)] += 1
    used = [k for k, c in enumerate(counts) if c]
    if not used:
        return {"bounds_ms": [], "counts": []}
    first, last = used[0], used[-1]
    return {"bounds_ms": list(HISTOGRAM_BOUNDS_MS[first:last + 1]), "counts": counts[first:last + 1]}


def _fields(tally: _Tally, wall_s: float, concurrency: int, warmup: int) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    n = len(ordered)
    failed = sum(tally.errors.values())
    latency: dict[str, float | None] = dict.fromkeys(("min", "mean", "p50", "p95", "p99", "max"))
    if ordered:
        values = {"min": ordered[0], "mean": sum(ordered) / n, "p50": percentile(ordered, 50),
                  "p95": percentile(ordered, 95), "p99": percentile(ordered, 99), "max": ordered[-1]}
        latency = {k: round(v, 3) for k, v in values.items()}
    return {
        "requests": n,
        "errors": failed,  # a count, so that `expr: "errors == 0"` says what it reads
        "errors_by_type": dict(sorted(tally.errors.items())),
        "failed": failed,
        "success_rate": round((n - failed) / n, 6) if n else 0.0,
        "rps": round(n / wall_s, 3) if wall_s > 0 else 0.0,
        "latency_ms": latency,
        "histogram": histogram(ordered),
        "duration_ms": round(wall_s * 1000, 3),
        "concurrency": concurrency,
        "warmup": warmup,
        "correlation": {"checked": tally.checked, "mismatched": tally.errors.get(ErrorKind.CORRELATION, 0)},
        "workers": sorted(tally.pids),
        "error_samples": list(tally.samples),
    }


LOAD_ACTIONS: dict[str, StepAction] = {"load": run_load}

__all__ = ["LOAD_ACTIONS", "histogram", "percentile", "run_load"]
