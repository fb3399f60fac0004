"""Helpers every test folder shares: poll a condition with a deadline, ask if a pid lives,
list the processes a test started (and only those: other tests' browsers are not its leaks).

What is the suite's: every process carrying this test process's mark (`ORCHESTRATOR_TEST_SUITE`,
set in os.environ on import, so every process it starts inherits it however it detaches),
or descending from the test process without any suite mark (one that scrubbed its
environment). Another orchestrator run on the same host (or one a test starts with another
mark, to play that part) is never counted; nor are run watchdogs, which exit on their own.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import TYPE_CHECKING, Callable

import psutil

if TYPE_CHECKING:
    import pytest

from orchestrator.procs.markers import environ_of

SUITE_VAR = "ORCHESTRATOR_TEST_SUITE"
# Made afresh in each test process, never inherited: pytest-xdist's controller loads the
# conftests too, and its workers shared its mark, so one worker's leak checks counted the
# processes another worker's tests had just started.
SUITE_MARK = os.environ[SUITE_VAR] = uuid.uuid4().hex
_WATCHDOG_VAR = b"ORCHESTRATOR_WATCHDOG="


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


def is_ours(pid: int, descendant: bool) -> bool:
    """Does this process belong to this test suite (see the module docstring)?"""
    raw = environ_of(pid)
    if raw is None:  # gone, or a zombie: nothing to say about it
        return descendant
    entries = raw.split(b"\0")
    if any(e.startswith(_WATCHDOG_VAR) for e in entries):
        return False
    marks = [e for e in entries if e.startswith(SUITE_VAR.encode() + b"=")]
    if marks:
        return marks[0] == f"{SUITE_VAR}={SUITE_MARK}".encode()
    return descendant


def suite_processes() -> list[psutil.Process]:
    """Every live process of this suite, wherever it is in the process table."""
    me = os.getpid()
    descendants = {c.pid for c in psutil.Process().children(recursive=True)}
    out = []
    for pid in psutil.pids():
        if pid != me and is_ours(pid, pid in descendants) and alive(pid):
            try:
                out.append(psutil.Process(pid))
            except psutil.Error:
                continue
    return out


def live_descendants() -> list[psutil.Process]:
    """This suite's processes that still run (this test process's descendants and whatever
    carries the suite's mark: a daemon that detached is still the suite's)."""
    return suite_processes()


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


def count_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every `os.fork` from now on, counted (one item each) while the test runs."""
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()
    monkeypatch.setattr(os, "fork", counting_fork)
    return forks
