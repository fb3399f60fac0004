"""Polling a worker's pipe for a while before sleeping on it, where that pays.

Waking a sleeping process costs ~30-80 us on a VM, more than a trivial call, and the waker
pays it inside its write. At `-j 1` with a core to spare the controller polls for a call's
answer, and asks the worker to poll for the next call, up to SPIN_S before either sleeps
(procs/worker.py, worker_main.py); each yields the core at every poll to anyone who wants it.
"""
from __future__ import annotations

import os
import select
import time
from functools import lru_cache

from orchestrator.procs import cores

SPIN_S = 0.0003  # see spin_budget
SPIN_US = int(SPIN_S * 1e6)  # as the worker is asked for it


def spin_budget(calls_at_once: int) -> float:
    """How long a caller and its worker poll the pipe before they sleep: SPIN_S when one call
    runs at a time and this process may use two cores (the controller's and the worker's), else
    0. Waking a sleeping process costs ~30-80 us on a VM, more than a trivial call; polling
    costs at most SPIN_S of CPU per call on each side, and only while no other process waits
    for a core (checked at each call). With calls in parallel the cores are taken, and a
    spinning thread would hold the GIL the other callers need."""
    if calls_at_once != 1:
        return 0.0
    return SPIN_S if cores.usable() >= 2 else 0.0


def no_one_waits_for_a_core() -> bool:
    """No more processes are runnable right now than there are cores: polling then takes a
    core nobody else wants (the caller and its polling worker fill two). True where unknown."""
    runnable = cores.runnable_now()
    return runnable is None or runnable <= _cores_at_start()


@lru_cache(maxsize=1)
def _cores_at_start() -> int:
    return cores.usable()  # a syscall: not at every call


def poll_until_ready(poller: select.poll, spin_s: float) -> None:
    """Poll without sleeping for up to `spin_s` (or until something is ready)."""
    poll, clock, yield_cpu = poller.poll, time.perf_counter, getattr(os, "sched_yield", _nothing)
    until = clock() + spin_s
    while not poll(0) and clock() < until:
        yield_cpu()  # to whoever else wants this core: the spin is for an idle one


def _nothing() -> None:
    pass
