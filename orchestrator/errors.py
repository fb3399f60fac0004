"""Exit codes and the two kinds of error: the user's (one line, no traceback) and ours."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    GATE_PASSED = 0
    GATE_FAILED = 1
    USAGE = 2  # invalid plan or command line
    INTERNAL = 3
    INTERRUPTED = 130


def most_severe(*codes: int) -> int:
    """The exit code when several apply. The documented precedence — a signal's 128 + N, then
    124 (`run --timeout`), then 3 (internal error or an unwritten report), 2, 1, 0 — is the
    numeric order of the codes, so the most severe is the largest."""
    return max((int(c) for c in codes), default=int(ExitCode.GATE_PASSED))


@dataclass(frozen=True)
class Location:
    """A place in a plan file; line and col are 1-based as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
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


class InternalError(Exception):
    """A bug of ours; the CLI exits 3."""
