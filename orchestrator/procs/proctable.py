"""The process table read straight from /proc on Linux; through psutil elsewhere.

A clean run (workers that exit when asked, nothing left behind) looks at the process table
several times (dead runs' leftovers at the start, each worker's tree and marked leftovers at
the close, the end-of-run sweep) and finds nothing; importing psutil (~10-13 ms of CPU) cost
more than all of those reads together. So the questions asked of every process (which pids
exist, a process's parent, session, start time and state, its children) are answered here
from /proc, and psutil is imported only where a process was found that must be described,
signalled or waited for, or where there is no /proc.

A process may end between the listing and the read: it then reads as gone (None, or absent).
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Iterable, NamedTuple

LINUX = sys.platform.startswith("linux") and os.path.exists("/proc/self/stat")
_CHILDREN_LISTED = LINUX and os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
_TICKS = os.sysconf("SC_CLK_TCK") if LINUX else 100


class Stat(NamedTuple):
    """The fields of /proc/PID/stat that the run uses."""

    state: str  # R, S, D, Z, T...
    ppid: int
    session: int
    start_ticks: int  # clock ticks after boot: with the pid, who the process is

    @property
    def zombie(self) -> bool:
        return self.state == "Z"


def read(path: str) -> bytes:
    """A small /proc file in three system calls (open() adds an fstat, an lseek and a buffer);
    b"" when it cannot be read (gone, or not ours to read)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""
    finally:
        os.close(fd)


def pids() -> list[int]:
    """Every process on the machine now."""
    if LINUX:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    import psutil

    return list(psutil.pids())


def stat(pid: int) -> Stat | None:
    """`pid`'s state, parent, session and start (None when it is gone). Linux only."""
    text = read(f"/proc/{pid}/stat")
    try:
        # after "pid (comm) ": the command name may hold spaces and parentheses
        fields = text[text.rindex(b")") + 2:].split(None, 20)
        return Stat(fields[0].decode("ascii", "replace"), int(fields[1]), int(fields[3]), int(fields[19]))
    except (ValueError, IndexError):
        return None


def boot_time() -> float:
    """Seconds since the epoch at boot, read each time as psutil does (the clock may be set)."""
    if LINUX:
        for line in read("/proc/stat").splitlines():
            if line.startswith(b"btime"):
                return float(line.split()[1])
    import psutil

    return float(psutil.boot_time())


def create_time(pid: int) -> float | None:
    """`psutil.Process(pid).create_time()`, computed as psutil computes it on Linux (start time
    in clock ticks after boot, plus the boot time); None when the process is gone."""
    if LINUX:
        found = stat(pid)
        return None if found is None else found.start_ticks / _TICKS + boot_time()
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def children(pid: int) -> list[int]:
    """`pid`'s direct children (empty when it is gone)."""
    if _CHILDREN_LISTED:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return []
        found: list[int] = []
        for thread in threads:
            found.extend(int(child) for child in read(f"/proc/{pid}/task/{thread}/children").split())
        return found
    if LINUX:
        return [child for child, parent in _parents().items() if parent == pid]
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=False)]
    except psutil.Error:
        return []


def descendants(roots: Iterable[int]) -> set[int]:
    """The descendants of `roots` (not the roots themselves, unless one descends from another)."""
    roots = list(roots)
    if not LINUX:
        import psutil

        out: set[int] = set()
        for root in roots:
            try:
                out.update(child.pid for child in psutil.Process(root).children(recursive=True))
            except psutil.Error:
                pass
        return out
    below: Callable[[int], list[int]] = children
    if not _CHILDREN_LISTED:
        table: dict[int, list[int]] = {}
        for child, parent in _parents().items():
            table.setdefault(parent, []).append(child)
        below = lambda pid: table.get(pid, [])  # noqa: E731  (one pass over the table, not one a process)
    found: set[int] = set()
    todo = [child for root in roots for child in below(root)]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(below(pid))
    return found


def _parents() -> dict[int, int]:
    """pid -> parent pid, for every process (Linux without the kernel's children lists)."""
    table = {}
    for pid in pids():
        found = stat(pid)
        if found is not None:
            table[pid] = found.ppid
    return table


def session_members(sids: Iterable[int]) -> set[int]:
    """Every process whose session id is one of `sids`: one getsid(2) per process, no file read
    (Linux never recycles a pid that is still some session's id)."""
    sids = set(sids)
    found: set[int] = set()
    if not sids:
        return found
    for pid in pids():
        try:
            if os.getsid(pid) in sids:
                found.add(pid)
        except OSError:
            continue
    return found


def ancestors(pid: int) -> list[int]:
    """`pid`'s parent, its parent's parent, ... up to the first process (empty if it is gone)."""
    if not LINUX:
        import psutil

        try:
            return [parent.pid for parent in psutil.Process(pid).parents()]
        except psutil.Error:
            return []
    out: list[int] = []
    seen = {pid}
    while True:
        found = stat(pid)
        if found is None or found.ppid <= 0 or found.ppid in seen:
            return out
        pid = found.ppid
        seen.add(pid)
        out.append(pid)


def zombie_or_gone(pid: int) -> bool:
    """Has `pid` exited (a zombie, or gone)?"""
    if LINUX:
        found = stat(pid)
        return found is None or found.zombie
    import psutil

    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return True
