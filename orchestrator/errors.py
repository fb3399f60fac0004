"""Exit codes, error kinds, and the user's errors (one line, no traceback); any other exception is ours (exit 3)."""
from __future__ import annotations

from enum import Enum, IntEnum

from orchestrator.records import record


class ExitCode(IntEnum):
    GATE_PASSED = 0
    GATE_FAILED = 1
    USAGE = 2  # invalid plan or command line
    INTERNAL = 3
    INTERRUPTED = 130


class ErrorKind(str, Enum):
    """The error types the orchestrator itself reports (`ErrorInfo.type`, `CallError.type`).

    A provider's own exceptions keep their class name ("ValueError"), so the field stays a
    string; these values are what results.json, JUnit and HTML have always shown.
    """

    # a call, or a step's own deadline
    TIMEOUT = "TimeoutError"
    TEMPLATE = "TemplateError"
    EVALUATION = "EvaluationError"  # a step's results could not be checked
    INTERNAL = "InternalError"  # a bug of ours, caught around one step or case
    INTERRUPTED = "Interrupted"
    # steps
    INVALID_STEP = "InvalidStep"
    UNSUPPORTED_STEP = "UnsupportedStep"
    UNSUPPORTED_PROVIDER = "UnsupportedProvider"
    PROVIDER = "ProviderError"  # a provider answered with an error instead of a result
    INVALID_RESULT = "InvalidResult"  # a provider returned no output / error mapping
    CORRELATION = "CorrelationError"  # a `load` answer for another request
    RESOURCE_LIMIT = "ResourceLimit"
    PROCESS_EXITED = "ProcessExited"
    SPAWN_EXITED = "SpawnExited"
    PROCESS_LEAK = "ProcessLeak"
    # http
    INVALID_URL = "InvalidURL"
    CONNECTION = "ConnectionError"
    HTTP = "HTTPError"
    # provider pools
    IMPORT = "ImportError"  # the provider failed to import, or its interpreter to start
    STARTUP_TIMEOUT = "StartupTimeout"
    WORKER_CRASHED = "WorkerCrashed"
    PROTOCOL = "ProtocolError"
    POOL_BUSY = "PoolBusy"
    POOL_CLOSED = "PoolClosed"

    def __str__(self) -> str:  # the value, in f-strings too, on every Python version
        return str(self.value)


def most_severe(*codes: int) -> int:
    """The exit code when several apply. The documented precedence — a signal's 128 + N, then
    124 (`run --timeout`), then 3 (internal error or an unwritten report), 2, 1, 0 — is the
    numeric order of the codes, so the most severe is the largest."""
    return max((int(c) for c in codes), default=int(ExitCode.GATE_PASSED))


@record
class Location:
    """A place in a plan file; line and col are 1-based as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@record
class Problem:
    """One user error in a plan, printed as FILE:LINE:COL: message."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class UserError(Exception):
    """A mistake of the user's: the CLI prints it as one line and exits 2."""


class PlanErrors(UserError):
    """Every problem found in one or more plan files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location.file, p.location.line, p.location.col))
        super().__init__("\n".join(str(p) for p in self.problems))
