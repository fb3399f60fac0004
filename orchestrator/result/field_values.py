"""What step records (result/step_fields.py) are made of: `Field`, a typed attribute over a
stored value, the readers that type the values, and `StepFields`, what any step may carry.

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


def as_any(value: Any) -> Any:
    return value


def as_str(value: Any) -> str | None:
    return value if type(value) is str else None


def as_int(value: Any) -> int | None:
    return value if type(value) is int else None


def as_float(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None


def as_bool(value: Any) -> bool | None:
    return value if type(value) is bool else None


def as_ints(value: Any) -> tuple[int, ...]:
    return tuple(v for v in value if type(v) is int) if type(value) is list else ()


def as_strs(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if type(v) is str) if type(value) is list else ()


def as_mapping(value: Any) -> Mapping[str, Any]:
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


def as_worker(value: Any) -> WorkerRef | None:
    if not value or (type(value) is not dict and not isinstance(value, Mapping)):
        return None
    get = value.get
    return WorkerRef(as_int(get("pid")), as_int(get("index")), as_int(get("calls")), as_int(get("restarts")))


class FieldError(NamedTuple):
    """A step's `error` field: what `error:` / `no_error:` assertions read."""

    type: str
    message: str
    traceback: str = ""


def as_error(value: Any) -> FieldError | None:
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


def as_counts(value: Any) -> TestCounts | None:
    if not isinstance(value, Mapping):
        return None
    return TestCounts(*(as_int(value.get(k)) or 0 for k in ("total", "passed", "failed", "errors", "skipped")))


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

    reason = Field(as_str)  # why a skipped step did not run ("skipped: if 'x' was false")
    stdout = Field(as_str)  # what the step's process printed (an exec; a provider may return one)
    stderr = Field(as_str)
    worker = Field(as_worker)  # the worker that served a call

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
