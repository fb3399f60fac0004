"""What a step measured, as one typed record per action: the reports read these by attribute.

Each action's record (`CallFields`, `ExecFields`, `LoadFields`, ...) declares that action's fields
(the vocabulary of `plan/fields.STEP_FIELDS`; tests/unit/report/test_step_fields.py keeps the
two equal) as typed attributes, on top of what any step may carry (`reason`, `stdout`,
`stderr`, `worker`). A value of the wrong type (a hand-edited results.json) reads as None.

The record keeps the values as the step produced them, in their order: that is its
results.json form (`as_json`, unchanged by the records) and the read-only name lookup that
assertions and `expr` use (`record["stdout"]`, `result.KEY`): a call's provider may return keys
of its own, which no record can declare (`CallFields.returned`).

The small values the records decode (WorkerRef, LoadSummary...) are NamedTuples rather than
frozen dataclasses: they are made on every read (a frozen dataclass's __init__ is a setattr
call per field) and this module is on every command's import path (a dataclass costs ~1 ms to
define, a NamedTuple ~0.15 ms).
"""
from __future__ import annotations

import math
from typing import Any, Callable, ClassVar, Generic, Iterator, Mapping, NamedTuple, TypeVar, overload

T = TypeVar("T")
NOTES = "orchestrator_notes"  # the orchestrator's notes about the values (plan/fields.NOTES)
PERCENTILES = ("min", "mean", "p50", "p95", "p99", "max")  # what a load step's latency_ms holds


class Field(Generic[T]):
    """A typed attribute of a record: the value stored under `key` (the attribute's own name
    unless given), read with `read`."""

    __slots__ = ("key", "read")

    def __init__(self, read: Callable[[Any], T], key: str = "") -> None:
        self.read = read
        self.key = key

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = self.key or name

    @overload
    def __get__(self, record: None, owner: type) -> Field[T]: ...

    @overload
    def __get__(self, record: StepFields, owner: type) -> T: ...

    def __get__(self, record: StepFields | None, owner: type) -> Field[T] | T:
        if record is None:
            return self
        return self.read(record._values.get(self.key))


def _any(value: Any) -> Any:
    return value


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def _float(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None


def _bool(value: Any) -> bool | None:
    return value if type(value) is bool else None


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(v for v in value if type(v) is int) if type(value) is list else ()


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if type(v) is str) if type(value) is list else ()


def _mapping(value: Any) -> Mapping[str, Any]:
    """A mapping whose keys the action does not fix (HTTP headers, error types)."""
    return value if isinstance(value, Mapping) else {}


def finite(value: Any) -> float | None:
    """A number that can be drawn: not a bool, not NaN or infinite (those are stored as text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


class WorkerRef(NamedTuple):
    """The provider worker that served a call."""

    pid: int | None = None
    pool_index: int | None = None  # its place in the pool (stored as `index`: a tuple has an index())
    calls: int | None = None
    restarts: int | None = None


def _worker(value: Any) -> WorkerRef | None:
    if not value or (type(value) is not dict and not isinstance(value, Mapping)):
        return None
    get = value.get
    return WorkerRef(_int(get("pid")), _int(get("index")), _int(get("calls")), _int(get("restarts")))


class FieldError(NamedTuple):
    """A step's `error` field: what `error:` / `no_error:` assertions read."""

    type: str
    message: str
    traceback: str = ""


def _error(value: Any) -> FieldError | None:
    if not isinstance(value, Mapping):
        return None
    return FieldError(str(value.get("type", "")), str(value.get("message", "")), str(value.get("traceback") or ""))


class TestCounts(NamedTuple):
    """An exec's `junit:` file in numbers (`tests.failed` in an expr)."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0


def _counts(value: Any) -> TestCounts | None:
    if not isinstance(value, Mapping):
        return None
    return TestCounts(*(_int(value.get(k)) or 0 for k in ("total", "passed", "failed", "errors", "skipped")))


class StepFields(Mapping[str, Any]):
    """A step's fields: what any step may carry; each action's record adds its own."""

    __slots__ = ("_values",)
    action: ClassVar[str] = ""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = {} if values is None else dict(values)

    @classmethod
    def wrap(cls, values: dict[str, Any]) -> StepFields:
        """The record over `values` itself, not a copy (reading results.json: it is not shared)."""
        record = cls.__new__(cls)
        record._values = values
        return record

    reason = Field(_str)  # why a skipped step did not run ("skipped: if 'x' was false")
    stdout = Field(_str)  # what the step's process printed (an exec; a provider may return one)
    stderr = Field(_str)
    worker = Field(_worker)  # the worker that served a call

    def as_json(self) -> dict[str, Any]:
        """The fields as stored in results.json, in the order the step produced them. Not a copy:
        read it, do not change it."""
        return self._values

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def get(self, name: str, default: Any = None) -> Any:  # Mapping's own goes through __getitem__
        return self._values.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StepFields):
            return self._values == other._values
        return isinstance(other, Mapping) and self._values == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._values!r})"


class CallFields(StepFields):
    action = "call"
    output = Field(_any)  # the provider's main answer
    error = Field(_error)
    duration_ms = Field(_float)
    notes = Field(_strs, NOTES)
    provider = Field(_str)  # which provider answered (usage totals are per provider)

    @property
    def returned(self) -> Mapping[str, Any]:
        """The keys the provider returned beyond the fields above, in its order."""
        return {k: v for k, v in self._values.items() if k not in _CALL_OWN}


class ExecFields(StepFields):
    action = "exec"
    exit_code = Field(_int)
    signal = Field(_str)  # "SIGKILL" when a signal ended it
    timed_out = Field(_bool)
    duration_ms = Field(_float)
    pid = Field(_int)
    tests = Field(_counts)  # its `junit:` file's counts
    error = Field(_error)


class SpawnFields(StepFields):
    action = "spawn"
    pid = Field(_int)
    name = Field(_str)
    ready_ms = Field(_float)
    error = Field(_error)


class SignalFields(StepFields):
    action = "signal"
    pids = Field(_ints)
    signal = Field(_str)
    error = Field(_error)


class ProcessesFields(StepFields):
    action = "processes"
    count = Field(_int)
    pids = Field(_ints)
    zombies = Field(_int)
    rss_bytes = Field(_int)
    cmdlines = Field(_strs)
    error = Field(_error)


class WaitFields(ProcessesFields):
    action = "wait"
    exit_code = Field(_int)
    signal = Field(_str)
    waited_ms = Field(_float)


class SleepFields(StepFields):
    action = "sleep"
    duration_ms = Field(_float)


class HttpFields(StepFields):
    action = "http"
    status = Field(_int)
    headers = Field(_mapping)
    json = Field(_any)  # the body parsed as JSON, None when it is not JSON
    text = Field(_str)
    duration_ms = Field(_float)
    error = Field(_error)


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
    requests = Field(_int)
    errors = Field(_int)
    errors_by_type = Field(_mapping)
    failed = Field(_int)
    success_rate = Field(_float)
    rps = Field(_float)
    latency_ms = Field(_mapping)  # PERCENTILES -> ms
    histogram = Field(_any)  # a shape `histogram_buckets` reads
    duration_ms = Field(_float)
    concurrency = Field(_int)
    warmup = Field(_int)
    correlation = Field(_mapping)  # {checked, mismatched}
    workers = Field(_ints)  # the pids that served it
    error_samples = Field(_any)
    provider = Field(_str)
    calls = Field(_int)
    tokenUsage = Field(_mapping)  # noqa: N815 (the promptfoo name plans read)
    cost = Field(_float)

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

    title = Field(_str)
    status = Field(_str)


def _sub_steps(value: Any) -> tuple[SubStepFields, ...]:
    if type(value) is not list:
        return ()
    return tuple(SubStepFields(v) for v in value if isinstance(v, Mapping))


class ParallelFields(StepFields):
    action = "parallel"
    steps = Field(_sub_steps)
    duration_ms = Field(_float)


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
