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
