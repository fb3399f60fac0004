"""One describer of return codes: the long and short forms agree, and neither parses the other."""
from __future__ import annotations

import pytest

from orchestrator.procs.exits import exit_description, short_exit, signal_name


@pytest.mark.parametrize(("code", "long", "short"), [
    (0, "exited with code 0", "exit code 0"),
    (3, "exited with code 3", "exit code 3"),
    (-11, "was killed by signal SIGSEGV (11)", "signal SIGSEGV"),
    (-9, "was killed by signal SIGKILL (9)", "signal SIGKILL"),
])
def test_long_and_short_forms(code: int, long: str, short: str) -> None:
    assert exit_description(code) == long and short_exit(code) == short


def test_a_code_never_seen_and_a_normal_exit_have_no_signal() -> None:
    assert short_exit(None) == "unknown exit"
    assert signal_name(0) is None and signal_name(-15) == "SIGTERM"
