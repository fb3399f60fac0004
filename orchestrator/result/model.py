"""The result model: what happened. Reports read only this, never the plan model.

Everything here round-trips through JSON (`result.store` writes it, `result.decode` reads it back)
so that reports can be rebuilt from `results.json` without re-running (`orchestrator report`).
"""
from __future__ import annotations

from dataclasses import field
from enum import Enum
from typing import Any, Mapping

from orchestrator.records import record
from orchestrator.result.step_fields import StepFields, step_fields

# 2: `complete` (the completion mark), non-finite numbers as strings. Format 1 files are still
# read; they have no completion mark, so they are never taken for a complete run.
RESULTS_FORMAT = 2
READABLE_FORMATS = (1, 2)


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"  # an assertion did not hold
    ERROR = "error"  # the step could not run: timeout, crash, startup failure, leak
    SKIPPED = "skipped"
    XFAILED = "xfailed"  # expected to fail, and did
    XPASSED = "xpassed"  # expected to fail, but passed
    FLAKY = "flaky"  # attempts disagreed
    INTERRUPTED = "interrupted"  # the run was stopped before the case finished

    def __bool__(self) -> bool:
        return self in (Status.PASSED, Status.XFAILED, Status.XPASSED, Status.FLAKY)

    @property
    def ran(self) -> bool:
        return self not in (Status.SKIPPED, Status.INTERRUPTED)


@record
class ErrorInfo:
    type: str  # "ValueError", "TimeoutError", "WorkerCrashed", "ImportError", "TemplateError" ...
    message: str
    traceback: str = ""


@record
class AssertionResult:
    kind: str
    passed: bool
    expected: Any
    actual: Any  # JSON-safe, possibly shortened for display
    on: str  # the field that was read
    message: str = ""  # why it failed (or "" when it passed)
    line: int | None = None

    @property
    def label(self) -> str:
        """'equals on output'; just 'exit_code' when the kind reads the field of its own name."""
        return self.kind if self.kind == self.on else f"{self.kind} on {self.on}"


@record
class InnerTest:
    """One test of a suite an `exec` step ran, read from the JUnit file its command wrote."""

    name: str  # as the runner names it within the file: "test_upper", "TestCase::test_x[1]"
    status: Status  # passed, failed, error or skipped
    duration_s: float = 0.0
    classname: str = ""  # as the runner wrote it
    file: str = ""  # shown like the plan file: relative to the current folder when that was
    line: int | None = None  # 1-based
    message: str = ""  # one line: why it failed, errored or was skipped
    details: str = ""  # the runner's failure text (assertion, traceback)


@record
class StepResult:
    index: int
    title: str
    action: str
    status: Status
    duration_s: float
    assertions: tuple[AssertionResult, ...] = ()
    error: ErrorInfo | None = None
    fields: StepFields = field(default_factory=StepFields)  # what the step measured, JSON-safe
    line: int | None = None
    tests: tuple[InnerTest, ...] = ()  # an exec's `junit:` file, one per test it reported

    def __post_init__(self) -> None:
        record = step_fields(self.action, self.fields)  # the action's record, also for a plain mapping
        if record is not self.fields:
            object.__setattr__(self, "fields", record)


@record
class Attempt:
    """One execution of a case; a case has several with `repeat` or `retries`."""

    status: Status
    duration_s: float
    message: str = ""
    steps: tuple[StepResult, ...] = ()
    stdout: str = ""  # what providers and processes printed during the attempt
    stderr: str = ""
    started_at: float = 0.0  # unix time
    job: int = 0  # which parallel job ran it
    peak_rss_bytes: int | None = None


@record
class CaseResult:
    id: str
    name: str
    plan: str  # the plan's `name`
    file: str  # the plan file, as given on the command line
    line: int
    status: Status
    message: str  # one line: why it failed/errored/was skipped; "" when passed
    duration_s: float
    attempts: tuple[Attempt, ...] = ()
    priority: str = "P2"
    level: str | None = None
    tags: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    description: str = ""

    @property
    def final(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def steps(self) -> tuple[StepResult, ...]:
        return self.final.steps if self.final else ()

    @property
    def inner_tests(self) -> tuple[InnerTest, ...]:
        """The tests the final attempt's exec steps reported in their `junit:` files."""
        return tuple(t for s in self.steps for t in s.tests)

    @property
    def failed_step(self) -> StepResult | None:
        """The first step of the final attempt that failed, errored or was interrupted."""
        return next((s for s in self.steps if s.status in (Status.FAILED, Status.ERROR, Status.INTERRUPTED)), None)


@record
class GateRule:
    rule: str  # "pass_rate[P0] >= 100%", "max_flaky <= 0", "covered AC-1", "no failures"
    passed: bool
    detail: str  # "3/3 passed (100%)"
    # False: this run could not judge the rule (its cases were not selected, or are in another
    # shard); it does not fail the gate, and reports show it as not judged rather than passed.
    judged: bool = True


@record
class GateResult:
    passed: bool
    rules: tuple[GateRule, ...] = ()
    # The selection the run was limited to ("--priority P0"), "" for a full gate: a gate over
    # part of a plan is not the plan's release gate, and every report says so.
    selection: str = ""

    @property
    def scope(self) -> str:
        """'' for a full gate, else what every report prints beside the verdict."""
        return f"not a full gate: only the cases selected by {self.selection} ran" if self.selection else ""


@record
class RecordedGate:
    """A plan's gate as written, as the results file records it, so that `merge` and `report`
    can judge the gate again from the cases (orchestrator/run/gate.py makes and judges it)."""

    pass_rate: Mapping[str, float] = field(default_factory=dict)  # priority -> fraction 0..1
    max_flaky: int | None = None
    require_covered: tuple[str, ...] = ()


@record
class RiskInfo:
    """A risk the plan names (`risks:`), for the traceability reports."""

    title: str = ""
    likelihood: str | None = None  # low, medium, high
    impact: str | None = None


@record
class PlanInfo:
    name: str
    title: str
    file: str
    requirements: Mapping[str, str] = field(default_factory=dict)
    risks: Mapping[str, RiskInfo] = field(default_factory=dict)
    # What `orchestrator merge` needs to rebuild one run from shards: the plan's gate as written
    # (None without a gate) and the ids of every selected case in plan order (all shards together).
    gate: RecordedGate | None = None
    case_ids: tuple[str, ...] = ()
    # What coverage rules need beyond the cases: requirement/risk keys covered by cases the
    # selection left out, and by cases of other shards (judged by `merge`, not by one shard).
    not_selected_covers: tuple[str, ...] = ()
    other_shards_cover: tuple[str, ...] = ()


@record
class WorkerStats:
    provider: str
    index: int
    pid: int | None
    calls: int
    restarts: int
    restart_reasons: tuple[str, ...] = ()
    peak_rss_bytes: int | None = None
    cold_start_ms: float | None = None


@record
class ProviderLeak:
    """A process a provider's call (or worker) started and left running; killed by the run."""

    provider: str
    pid: int
    cmdline: str
    plan: str
    case: str | None = None  # the calling case's id, when a call started it


@record
class RunResult:
    plans: tuple[PlanInfo, ...]
    cases: tuple[CaseResult, ...]
    gate: GateResult
    started_at: float
    duration_s: float
    interrupted: bool = False
    version: str = ""
    command: str = ""
    workers: tuple[WorkerStats, ...] = ()
    format: int = RESULTS_FORMAT
    # True only in the results the run wrote as it ended (interrupted or not): live rewrites and
    # a killed run's leftovers lack it, and readers then treat the run as incomplete.
    complete: bool = False
    provider_leaks: tuple[ProviderLeak, ...] = ()
    deadline: str | None = None  # the run's own --timeout ("30m") when that is what stopped it

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for case in self.cases:
            out[case.status.value] += 1
        return out


_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(value: Any) -> tuple[str, ...] | None:
    """The field names of a dataclass instance, in order (cached per class); None for anything else."""
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None and hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        names = _FIELD_NAMES.setdefault(cls, tuple(value.__dataclass_fields__))
    return names


def to_jsonable(value: Any) -> Any:
    # Dispatch on the exact type first: isinstance against typing.Mapping costs ~2 us a call,
    # which was most of writing results.json at 10,000 cases.
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls is tuple or cls is list:
        return [to_jsonable(v) for v in value]
    if cls is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    names = field_names(value)
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value
