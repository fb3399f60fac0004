from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from tests.support import poll, suite_processes

REPO = Path(__file__).resolve().parents[2]


def orchestrator(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the CLI the way a user does, in its own process."""
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "NO_COLOR": "1"})


def worker_pids() -> set[int]:
    """Every live orchestrator worker process of this test suite (not zombies; not the
    workers of another orchestrator run on the same host)."""
    found = set()
    for proc in suite_processes():
        try:
            cmdline = proc.cmdline()
        except psutil.Error:
            continue
        if any(part.endswith("worker_main.py") for part in cmdline):
            found.add(proc.pid)
    return found


@pytest.fixture
def no_new_workers() -> Iterator[None]:
    """Fails the test if it leaves a worker process behind."""
    before = worker_pids()
    yield
    assert poll(lambda: not (worker_pids() - before), within=3), f"workers left behind: {worker_pids() - before}"
