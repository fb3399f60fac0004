"""Helpers every test folder shares: poll a condition with a deadline, ask if a pid lives,
list the processes a test started (and only those: other tests' browsers are not its leaks)."""
from __future__ import annotations

import time
from typing import Callable

import psutil


def poll(condition: Callable[[], bool], within: float, every: float = 0.02) -> bool:
    """True as soon as `condition()` holds; False if it still does not after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def gone(pid: int) -> bool:
    """Exited (reaped or a zombie)."""
    return not alive(pid)


def live_descendants() -> list[psutil.Process]:
    """This test process's descendants that still run."""
    return [child for child in psutil.Process().children(recursive=True) if alive(child.pid)]


def started_since(before: set[int]) -> list[psutil.Process]:
    """Live descendants that were not among `before` (a `live_descendants()` snapshot's pids)."""
    return [child for child in live_descendants() if child.pid not in before]


def describe(procs: list[psutil.Process]) -> list[str]:
    out = []
    for proc in procs:
        try:
            out.append(f"{proc.pid} {' '.join(proc.cmdline())}")
        except psutil.Error:
            out.append(f"{proc.pid} (exited)")
    return out
