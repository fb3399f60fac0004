"""The kernel's count of runnable processes, read from /proc/loadavg."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.procs import cores


@pytest.mark.parametrize("line, expected", [
    ("0.50 0.40 0.30 2/345 12345\n", 2),
    ("3.10 2.00 1.00 17/345 12345\n", 17),
    ("garbage\n", None),
])
def test_the_runnable_count_is_read_from_loadavg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str,
                                                 expected: int | None) -> None:
    path = tmp_path / "loadavg"
    path.write_text(line)
    fd = os.open(path, os.O_RDONLY)
    monkeypatch.setattr(cores, "_loadavg", fd)
    try:
        assert cores.runnable_now() == expected
    finally:
        os.close(fd)


def test_this_machine_s_count_is_read() -> None:
    if not os.path.exists("/proc/loadavg"):
        pytest.skip("no /proc/loadavg on this platform")
    count = cores.runnable_now()
    assert count is not None and count >= 1  # this test's own process is running
    assert cores.usable() >= 1
