from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]


def orchestrator(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the CLI the way a user does, in its own process."""
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "NO_COLOR": "1"})


def poll(condition: Callable[[], bool], within: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def worker_pids() -> set[int]:
    """Every live orchestrator worker process on the machine (not zombies)."""
    found = set()
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["status"] != psutil.STATUS_ZOMBIE and any(part.endswith("worker_main.py") for part in cmdline):
            found.add(proc.pid)
    return found


@pytest.fixture
def no_new_workers() -> Iterator[None]:
    """Fails the test if it leaves a worker process behind."""
    before = worker_pids()
    yield
    assert poll(lambda: not (worker_pids() - before), within=3), f"workers left behind: {worker_pids() - before}"
