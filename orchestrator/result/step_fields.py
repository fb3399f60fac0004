"""What a step measured, as one typed record per action: the reports read these by attribute.

Each action's record (`CallFields`, `ExecFields`, `LoadFields`, ...) declares that action's fields
(the vocabulary of `plan/fields.STEP_FIELDS`; tests/unit/report/test_step_fields.py keeps the
two equal) as typed attributes, on top of what any step may carry (`reason`, `stdout`,
`stderr`, `worker`). A value of the wrong type (a hand-edited results.json) reads as None.

The record keeps the values as the step produced them, in their order: that is its
results.json form (`as_json`, unchanged by the records) and the read-only name lookup that
assertions and `expr` use (`record["stdout"]`, `result.KEY`): a call's provider may return keys
of its own, which no record can declare (`CallFields.returned`).
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from orchestrator.result.field_values import (
    NOTES, Field, FieldError, StepFields, TestCounts, WorkerRef, as_any, as_bool, as_counts, as_error, as_float,
    as_int, as_ints, as_mapping, as_str, as_strs, finite,
)

PERCENTILES = ("min", "mean", "p50", "p95", "p99", "max")  # what a load step's latency_ms holds


class CallFields(StepFields):
    action = "call"
    output = Field(as_any)  # the provider's main answer
    error = Field(as_error)
    duration_ms = Field(as_float)
    notes = Field(as_strs, NOTES)
    provider = Field(as_str)  # which provider answered (usage totals are per provider)

    @property
    def returned(self) -> Mapping[str, Any]:
        """The keys the provider returned beyond the fields above, in its order."""
        return {k: v for k, v in self._values.items() if k not in _CALL_OWN}


class ExecFields(StepFields):
    action = "exec"
    exit_code = Field(as_int)
    signal = Field(as_str)  # "SIGKILL" when a signal ended it
    timed_out = Field(as_bool)
    duration_ms = Field(as_float)
    pid = Field(as_int)
    tests = Field(as_counts)  # its `junit:` file's counts
    error = Field(as_error)


class SpawnFields(StepFields):
    action = "spawn"
    pid = Field(as_int)
    name = Field(as_str)
    ready_ms = Field(as_float)
    error = Field(as_error)


class SignalFields(StepFields):
    action = "signal"
    pids = Field(as_ints)
    signal = Field(as_str)
    error = Field(as_error)


class ProcessesFields(StepFields):
    action = "processes"
    count = Field(as_int)
    pids = Field(as_ints)
    zombies = Field(as_int)
    rss_bytes = Field(as_int)
    cmdlines = Field(as_strs)
    error = Field(as_error)


class WaitFields(ProcessesFields):
    action = "wait"
    exit_code = Field(as_int)
    signal = Field(as_str)
    waited_ms = Field(as_float)


class SleepFields(StepFields):
    action = "sleep"
    duration_ms = Field(as_float)


class HttpFields(StepFields):
    action = "http"
    status = Field(as_int)
    headers = Field(as_mapping)
    json = Field(as_any)  # the body parsed as JSON, None when it is not JSON
    text = Field(as_str)
    duration_ms = Field(as_float)
    error = Field(as_error)


class LoadSummary(NamedTuple):
    """What the HTML report draws of a load step; a number that cannot be drawn is None."""

    requests: float | None
    errors: float | None  # `failed` when present, else `errors`
    rps: float | None
    success_rate: float | None
    latency_ms: tuple[tuple[str, float | None], ...]  # (percentile, ms) in PERCENTILES order
    histogram: tuple[tuple[str, float], ...]  # (bucket label, count)


class LoadFields(StepFields):
    action = "load"
    requests = Field(as_int)
    errors = Field(as_int)
    errors_by_type = Field(as_mapping)
    failed = Field(as_int)
    success_rate = Field(as_float)
    rps = Field(as_float)
    latency_ms = Field(as_mapping)  # PERCENTILES -> ms
    histogram = Field(as_any)  # a shape `histogram_buckets` reads
    duration_ms = Field(as_float)
    concurrency = Field(as_int)
    warmup = Field(as_int)
    correlation = Field(as_mapping)  # {checked, mismatched}
    workers = Field(as_ints)  # the pids that served it
    error_samples = Field(as_any)
    provider = Field(as_str)
    calls = Field(as_int)
    tokenUsage = Field(as_mapping)  # noqa: N815 (the promptfoo name plans read)
    cost = Field(as_float)

    @property
    def summary(self) -> LoadSummary | None:
        """None when the step has no latency figures (it never ran its requests)."""
        values = self._values
        latency = values.get("latency_ms")
        if not isinstance(latency, Mapping):
            return None
        return LoadSummary(
            requests=finite(values.get("requests")), errors=finite(values.get("failed", values.get("errors"))),
            rps=finite(values.get("rps")), success_rate=finite(values.get("success_rate")),
            latency_ms=tuple((k, finite(latency.get(k))) for k in PERCENTILES),
            histogram=histogram_buckets(values.get("histogram")))


def histogram_buckets(raw: Any) -> tuple[tuple[str, float], ...]:
    """(label, count) buckets from the shapes a load step may use.

    Accepted: {"bucket label": count}, [[upper_ms, count], ...], [{"le"|"upper_ms"|"ms"|"bucket": x,
    "count": n}, ...] and {"bounds_ms": [...], "counts": [...]}.
    """
    pairs: list[tuple[str, Any]] = []
    if isinstance(raw, Mapping) and isinstance(raw.get("counts"), list):
        bounds = raw.get("bounds_ms") or raw.get("bounds") or raw.get("buckets") or []
        labels = [f"≤ {b}" for b in bounds] if isinstance(bounds, list) else []
        for n, count in enumerate(raw["counts"]):
            pairs.append((labels[n] if n < len(labels) else f"> {bounds[-1]}" if labels else str(n), count))
    elif isinstance(raw, Mapping):
        pairs = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((f"≤ {item[0]}", item[1]))
            elif isinstance(item, Mapping):
                bound = next((item[k] for k in ("le", "upper_ms", "ms", "bucket", "label") if k in item), "?")
                pairs.append((f"≤ {bound}" if not isinstance(bound, str) else bound, item.get("count", 0)))
    return tuple((label, finite(count) or 0.0) for label, count in pairs)


class SubStepFields(StepFields):
    """One sub-step of a `parallel` step: its title and status beside its own fields."""

    title = Field(as_str)
    status = Field(as_str)


def _sub_steps(value: Any) -> tuple[SubStepFields, ...]:
    if type(value) is not list:
        return ()
    return tuple(SubStepFields(v) for v in value if isinstance(v, Mapping))


class ParallelFields(StepFields):
    action = "parallel"
    steps = Field(_sub_steps)
    duration_ms = Field(as_float)


def declared(record: type[StepFields]) -> dict[str, str]:
    """{attribute: stored key} of every field a record class declares, inherited ones included."""
    names: dict[str, str] = {}
    for cls in reversed(record.__mro__):
        names.update({name: f.key for name, f in vars(cls).items() if isinstance(f, Field)})
    return names


RECORDS: dict[str, type[StepFields]] = {cls.action: cls for cls in (
    CallFields, ExecFields, SpawnFields, SignalFields, ProcessesFields, WaitFields, SleepFields, HttpFields,
    LoadFields, ParallelFields)}
# The call's own fields (not the provider's): what it declares, and the worker that served it.
_CALL_OWN = frozenset([*(f.key for f in vars(CallFields).values() if isinstance(f, Field)), "worker"])


def step_fields(action: str, values: Mapping[str, Any] | None = None) -> StepFields:
    """The record of an `action` step's fields (the base record for a step that is no action of a
    plan: `vars`, `leak-check`, `internal`)."""
    record = RECORDS.get(action, StepFields)
    if type(values) is record:
        return values
    return record(values.as_json() if isinstance(values, StepFields) else values)


def read_fields(action: str, values: Any) -> StepFields:
    """The record of fields read back from results.json (a dict no one else holds: not copied)."""
    if type(values) is dict:
        return RECORDS.get(action, StepFields).wrap(values)
    if isinstance(values, StepFields):
        return step_fields(action, values)
    raise TypeError(f"a step's fields must be an object, not {type(values).__name__}")


__all__ = ["FieldError", "LoadSummary", "PERCENTILES", "RECORDS", "StepFields", "TestCounts", "WorkerRef",
           "declared", "finite", "histogram_buckets", "read_fields", "step_fields"]
