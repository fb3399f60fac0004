"""Flake rates, derived from the attempts every case keeps (nothing extra is stored).

A case's flake rate is its attempts that did not pass over all its attempts; the run's is the
same over every attempt of every case that ran more than once (repeat, retries, `--repeat`).
"""
from __future__ import annotations

from typing import Any, Iterable

from orchestrator.result.model import CaseResult, RunResult, Status


def failed_attempts(case: CaseResult) -> int:
    return sum(1 for a in case.attempts if a.status not in (Status.PASSED, Status.SKIPPED))


def repeated(cases: Iterable[CaseResult]) -> list[CaseResult]:
    return [c for c in cases if len(c.attempts) >= 2]


def flake_summary(run: RunResult) -> dict[str, Any]:
    """{attempts, failed_attempts, rate, flaky, cases: {id: {attempts, failed, rate}}} over repeated cases."""
    cases = repeated(run.cases)
    attempts = sum(len(c.attempts) for c in cases)
    failed = sum(failed_attempts(c) for c in cases)
    return {
        "attempts": attempts,
        "failed_attempts": failed,
        "rate": failed / attempts if attempts else 0.0,
        "flaky": [c.id for c in run.cases if c.status is Status.FLAKY],
        "cases": {c.id: {"attempts": len(c.attempts), "failed": failed_attempts(c),
                         "rate": failed_attempts(c) / len(c.attempts)} for c in cases},
    }


def flake_line(run: RunResult) -> str | None:
    """'Flake rate: 3/40 attempts failed (7.5%) over 4 repeated cases; flaky: X' or None."""
    summary = flake_summary(run)
    if not summary["attempts"]:
        return None
    line = (f"Flake rate: {summary['failed_attempts']}/{summary['attempts']} attempts did not pass "
            f"({summary['rate'] * 100:.1f}%) over {len(summary['cases'])} repeated case(s)")
    if summary["flaky"]:
        line += "; flaky: " + ", ".join(summary["flaky"][:10])
    return line
