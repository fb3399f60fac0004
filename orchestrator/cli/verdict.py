"""The one place an outcome becomes an exit code (`run`, `report`, `merge`).

Exceptions become exit codes in `cli/entry.py` (plan and usage errors 2, internal errors 3);
everything a command finishes with goes through `exit_code`. When several codes apply the most
severe wins (errors.most_severe): a signal's 128 + N, then 124 (`run --timeout`), 3 (a report
named as not written), 2, 1 (gate failed), 0.
"""
from __future__ import annotations


from orchestrator.errors import ExitCode, most_severe
from orchestrator.records import record


@record
class Outcome:
    gate_passed: bool
    unwritten: int = 0  # reports that could not be written
    interrupted: bool = False  # the run (or a merged shard) did not end by itself: 130 ...
    stop_code: int | None = None  # ... unless a signal (128 + N) or --timeout (124) says which


def exit_code(outcome: Outcome) -> int:
    return most_severe(
        outcome.stop_code or 0,
        ExitCode.INTERRUPTED if outcome.interrupted and outcome.stop_code is None else 0,
        ExitCode.INTERNAL if outcome.unwritten else 0,
        ExitCode.GATE_PASSED if outcome.gate_passed else ExitCode.GATE_FAILED,
    )
