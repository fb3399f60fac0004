"""How many cores this process may use, and how many processes want one right now."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

_loadavg = -2  # an fd on /proc/loadavg, opened on first use (-1: none to be had)


def usable() -> int:
    """The cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def runnable_now() -> int | None:
    """The processes runnable right now, the caller included (the kernel's count in
    /proc/loadavg; ~0.6 us: the file stays open); None where that cannot be read."""
    global _loadavg
    if _loadavg == -2:
        try:
            _loadavg = os.open("/proc/loadavg", os.O_RDONLY)
        except OSError:
            _loadavg = -1
    if _loadavg < 0:
        return None
    try:  # "0.52 0.58 0.59 2/345 12345": runnable/total
        return int(os.pread(_loadavg, 128, 0).split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def children_start_here() -> Iterator[None]:
    """While the block runs, this thread may run only on the core it is on, and so may the
    processes it starts: a started process then runs at once in the core its parent leaves
    while it waits for the exec (vfork). Placed by the kernel it can queue for ~7 ms behind a
    process booting on the other core of a two-core machine (a worker that just started).
    The child inherits the narrow affinity: it widens its own (watchdog_main)."""
    try:
        allowed = os.sched_getaffinity(0)
        here = _current_core()
    except (AttributeError, OSError, ValueError, IndexError):  # no affinity or no /proc here
        allowed, here = set(), -1
    if here not in allowed or len(allowed) < 2 or not _set_cores({here}):
        yield
        return
    try:
        yield
    finally:
        _set_cores(allowed)


def _set_cores(cores: set[int]) -> bool:
    """This thread's affinity; False where it may not be changed (a sandbox, a cpuset that just
    shrank): the spawn then goes where the kernel puts it, as before."""
    try:
        os.sched_setaffinity(0, cores)
    except OSError:
        return False
    return True


def _current_core() -> int:
    """The core this thread runs on (field 39 of its stat line, after the parenthesised name)."""
    with open("/proc/thread-self/stat", "rb") as fh:
        return int(fh.read().rpartition(b")")[2].split()[36])
