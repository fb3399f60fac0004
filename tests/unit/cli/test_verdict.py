"""One place turns what a command ended with into its exit code; the most severe code wins."""
from __future__ import annotations

import pytest

from orchestrator.cli.verdict import Outcome, exit_code


@pytest.mark.parametrize(("outcome", "code"), [
    (Outcome(gate_passed=True), 0),
    (Outcome(gate_passed=False), 1),
    (Outcome(gate_passed=True, unwritten=1), 3),
    (Outcome(gate_passed=False, interrupted=True), 130),
    (Outcome(gate_passed=True, interrupted=True, stop_code=124), 124),  # --timeout, not 130
    (Outcome(gate_passed=False, interrupted=True, unwritten=2, stop_code=143), 143),  # SIGTERM over all
])
def test_the_most_severe_code_wins(outcome: Outcome, code: int) -> None:
    assert exit_code(outcome) == code
