"""The result model rebuilt from its JSON form (results.json, journal lines).

Each JSON object becomes its model object in place: its values are converted where the model's
type differs from JSON's (statuses, nested objects, tuples, "NaN" numbers, a step's typed
fields), then the dict itself becomes the object's attribute dict (a slotted class's values go
straight into its slots). Nothing is copied, and no second tree is built and thrown away: at
10,000 cases (~80,000 objects) that halves reading. Each class's reader is generated once.
Missing fields take their defaults (older formats); unknown keys are dropped.
"""
from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, Callable

from orchestrator.result.model import (
    AssertionResult, Attempt, CaseResult, ErrorInfo, GateResult, GateRule, InnerTest, PlanInfo, ProviderLeak,
    RecordedGate, RiskInfo, RunResult, Status, StepResult, WorkerStats,
)
from orchestrator.result.nonfinite import NAMES as _NONFINITE
from orchestrator.result.nonfinite import number_back as _number
from orchestrator.result.step_fields import read_fields

_STATUS = {s.value: s for s in Status}
_new = object.__new__
_set = object.__setattr__  # the classes are frozen: their own __setattr__ refuses
_REQUIRED = object()


def _status(value: Any) -> Status:
    try:
        return _STATUS[value]
    except (KeyError, TypeError):
        return Status(value)  # words a bad value: "'x' is not a valid Status"


def _tuple(value: Any) -> Any:
    return tuple(value) if type(value) is list else value


class _Shape:
    """How one class is read: its field names, defaults and the converters of fields that need one."""

    def __init__(self, cls: Any, convert: dict[str, Callable[[Any], Any]]) -> None:
        self.cls = cls
        self.order = tuple(f.name for f in fields(cls))
        self.names = frozenset(self.order)
        self.defaults: dict[str, Any] = {f.name: _REQUIRED if f.default is MISSING else f.default for f in fields(cls)}
        self.factories: dict[str, Callable[[], Any]] = {
            f.name: f.default_factory for f in fields(cls) if f.default_factory is not MISSING}
        self.convert = tuple(convert.items())
        self.slotted = "__slots__" in cls.__dict__
        self.read = self._reader()

    def complete(self, data: dict[str, Any]) -> None:
        """Defaults for missing fields, unknown keys dropped, the fields in their declared order
        (`store.encode` writes an object's fields in its attribute dict's order): the slow path,
        for older or newer files. (A file with exactly the fields, in another order, is taken
        as it is: no writer of ours makes one, and the order of JSON keys means nothing.)"""
        for name, default in self.defaults.items():
            if name in data:
                continue
            if name in self.factories:
                data[name] = self.factories[name]()
            elif default is _REQUIRED:
                raise TypeError(f"{self.cls.__name__} is missing '{name}'")
            else:
                data[name] = default
        values = [data[name] for name in self.order]
        data.clear()
        data.update(zip(self.order, values))

    def _reader(self) -> Callable[[dict[str, Any]], Any]:
        """`read` for this class, generated once (as dataclasses generates `__init__`): the field
        names are constants of its code, the common converters (statuses, tuples, numbers) are
        written out in it, and a slotted class's fields are set through their slot descriptors
        directly, not by name one `object.__setattr__` at a time."""
        lines = ["def read(data):",
                 "    if data.keys() != names:",
                 "        complete(data)"]
        scope: dict[str, Any] = {"names": self.names, "complete": self.complete, "new": _new, "cls": self.cls,
                                 "STATUS": _STATUS, "status": _status, "number": _number, "NAMES": _NONFINITE}
        converters = dict(self.convert)
        values = []
        for n, name in enumerate(self.order):
            convert = converters.get(name)
            key = repr(name)
            if convert is None:
                values.append(f"data[{key}]")
                continue
            lines.append(f"    v = data[{key}]")
            if convert is _status:  # a Status, whatever the value (a bad one: status() words the error)
                lines.append("    v = STATUS[v] if type(v) is str and v in STATUS else status(v)")
            elif convert is _tuple:
                lines.append("    if type(v) is list:\n        v = tuple(v)")
            elif convert is _number:  # "NaN" and the infinities back to floats
                lines.append("    if type(v) is str and v in NAMES:\n        v = NAMES[v]")
            else:
                scope[f"convert{n}"] = convert
                lines.append(f"    v = convert{n}(v)")
            lines.append(f"    v{n} = v" if self.slotted else f"    data[{key}] = v")
            values.append(f"v{n}")
        lines.append("    obj = new(cls)")
        if self.slotted:  # no attribute dict to hand over (records.record)
            for n, (name, value) in enumerate(zip(self.order, values)):
                scope[f"set{n}"] = self.cls.__dict__[name].__set__
                lines.append(f"    set{n}(obj, {value})")
        else:
            scope["set"] = _set
            lines.append("    set(obj, '__dict__', data)")
        lines.append("    return obj")
        exec("\n".join(lines), scope)  # noqa: S102 - built from the model's own field names
        reader: Callable[[dict[str, Any]], Any] = scope["read"]
        return reader


def _many(shape: _Shape) -> Callable[[Any], tuple[Any, ...]]:
    read = shape.read

    def many(values: Any) -> tuple[Any, ...]:
        return tuple([read(v) for v in values]) if values else ()
    return many


def _one(shape: _Shape) -> Callable[[Any], Any]:
    read = shape.read

    def one(value: Any) -> Any:
        return None if value is None else read(value)
    return one


_ERROR = _Shape(ErrorInfo, {})
_ASSERTION = _Shape(AssertionResult, {"expected": _tuple, "actual": _tuple})
_INNER = _Shape(InnerTest, {"status": _status, "duration_s": _number})
_STEP = _Shape(StepResult, {"status": _status, "duration_s": _number, "assertions": _many(_ASSERTION),
                            "error": _one(_ERROR), "tests": _many(_INNER)})
_ATTEMPT = _Shape(Attempt, {"status": _status, "duration_s": _number, "started_at": _number})
_CASE = _Shape(CaseResult, {"status": _status, "duration_s": _number, "tags": _tuple, "covers": _tuple})
_RULE = _Shape(GateRule, {})
_GATE = _Shape(GateResult, {"rules": _many(_RULE)})
_RISK = _Shape(RiskInfo, {})
_RECORDED_GATE = _Shape(RecordedGate, {"require_covered": _tuple})
_PLAN = _Shape(PlanInfo, {"risks": lambda risks: {key: _RISK.read(risk) for key, risk in risks.items()},
                          "gate": _one(_RECORDED_GATE),
                          "case_ids": _tuple, "not_selected_covers": _tuple, "other_shards_cover": _tuple})
_WORKER = _Shape(WorkerStats, {"restart_reasons": _tuple, "cold_start_ms": _number})
_LEAK = _Shape(ProviderLeak, {})
_RUN = _Shape(RunResult, {"plans": _many(_PLAN), "gate": _GATE.read, "started_at": _number,
                          "duration_s": _number, "workers": _many(_WORKER), "provider_leaks": _many(_LEAK)})


def _step(data: dict[str, Any]) -> StepResult:
    if "action" in data:  # without one the step is malformed: `read` says so
        data["fields"] = read_fields(data["action"], data.get("fields", {}))
    step: StepResult = _STEP.read(data)
    return step


def _attempt(data: dict[str, Any]) -> Attempt:
    if "steps" in data:
        data["steps"] = tuple([_step(s) for s in data["steps"]])
    attempt: Attempt = _ATTEMPT.read(data)
    return attempt


def case_from_json(data: dict[str, Any]) -> CaseResult:
    """One case (a results.json entry, a journal line); `data` becomes the case."""
    if "attempts" in data:
        data["attempts"] = tuple([_attempt(a) for a in data["attempts"]])
    case: CaseResult = _CASE.read(data)
    return case


def run_from_json(data: dict[str, Any]) -> RunResult:
    """The run of a parsed results.json; `data` and everything in it becomes the run (not copied).
    A malformed file raises KeyError, TypeError, ValueError or AttributeError."""
    if "cases" in data:
        data["cases"] = tuple([case_from_json(c) for c in data["cases"]])
    run: RunResult = _RUN.read(data)
    return run


__all__ = ["case_from_json", "run_from_json"]
