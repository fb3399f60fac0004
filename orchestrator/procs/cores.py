"""How many cores this process may use, and how many processes want one right now."""
from __future__ import annotations

import os

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
