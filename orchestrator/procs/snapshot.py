"""The process table as the `processes` step and `wait: {processes: ...}` see it.

`count` and `pids` are the live processes; zombies (exited, not yet reaped) are counted apart
in `zombies`, so `count: 0` means "nothing of it is running any more".
"""
from __future__ import annotations

import os
from typing import Iterable

import psutil

from orchestrator.procs import markers, tree
from orchestrator.records import record


@record
class Snapshot:
    count: int
    pids: tuple[int, ...]
    zombies: int
    rss_bytes: int
    cmdlines: tuple[str, ...]

    def fields(self) -> dict[str, object]:
        return {"count": self.count, "pids": list(self.pids), "zombies": self.zombies,
                "rss_bytes": self.rss_bytes, "cmdlines": list(self.cmdlines)}


def tree_pids(roots: Iterable[int]) -> set[int]:
    """`roots`, their descendants, and the members of each root's session (which keeps the
    grandchildren of a root that has already exited, unless they called setsid)."""
    roots = set(roots)
    found: set[int] = set(roots)
    for root in roots:
        try:
            found.update(p.pid for p in psutil.Process(root).children(recursive=True))
        except psutil.Error:
            pass
    return found | session_members(roots)


def session_members(sids: Iterable[int]) -> set[int]:
    """Every process whose session id is one of `sids` (Linux never recycles a pid that is
    still some session's id, so this is safe after the session leader is gone)."""
    sids = set(sids)
    found: set[int] = set()
    if not sids:
        return found
    for pid in psutil.pids():
        try:
            if os.getsid(pid) in sids:
                found.add(pid)
        except OSError:
            continue
    return found


def run_pids() -> set[int]:
    """Every process the run started and still holds or that carries its marker, with
    descendants (`of: run`)."""
    return tree_pids(tree.registered_pids()) | marked_pids("run", markers.UNOWNED)


def cmdline_of(proc: psutil.Process) -> str:
    try:
        parts = proc.cmdline()
        return " ".join(parts) if parts else f"[{proc.name()}]"
    except psutil.Error:
        return "?"


def take(pids: Iterable[int] | None, *, cmdline: str | None = None, name: str | None = None) -> Snapshot:
    """The processes among `pids` (None: the whole machine) that match the filters."""
    me = os.getpid()
    candidates = psutil.pids() if pids is None else sorted(set(pids))
    live: list[tuple[int, str, int]] = []
    zombies = 0
    for pid in candidates:
        if pid == me:
            continue
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                status = proc.status()
                text = cmdline_of(proc)
                if name is not None and not _name_matches(proc, name):
                    continue
                if cmdline is not None and cmdline not in text:
                    continue
                if status == psutil.STATUS_ZOMBIE:
                    zombies += 1
                    continue
                live.append((pid, text, proc.memory_info().rss))
        except psutil.Error:
            continue
    return Snapshot(count=len(live), pids=tuple(p for p, _, _ in live), zombies=zombies,
                    rss_bytes=sum(r for _, _, r in live), cmdlines=tuple(c for _, c, _ in live))


def _name_matches(proc: psutil.Process, wanted: str) -> bool:
    if proc.name() == wanted:
        return True
    try:
        argv = proc.cmdline()
    except psutil.Error:
        return False
    return bool(argv) and os.path.basename(argv[0]) == wanted


def family_of(roots: Iterable[int]) -> set[int] | None:
    """`roots` and all their descendants, read from each process's own /proc/PID/task/*/children
    (Linux): a few reads for a small family where `children_by_parent` reads every process on
    the machine. None where the kernel does not list children (then use the process table)."""
    if not _CHILDREN_LISTED:
        return None
    family: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in family:
            continue
        family.add(pid)
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:  # gone meanwhile
            continue
        for thread in threads:
            text = _read_proc(f"/proc/{pid}/task/{thread}/children")
            if text:
                todo.extend(int(child) for child in text.split())
    return family


def rss_bytes(pid: int) -> int:
    """Resident bytes of one process (0 when it is gone): /proc/PID/statm on Linux, else psutil."""
    if _CHILDREN_LISTED:
        text = _read_proc(f"/proc/{pid}/statm")
        try:
            return int(text.split()[1]) * _PAGE_SIZE if text else 0
        except (IndexError, ValueError):
            return 0
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def _read_proc(path: str) -> bytes:
    """A small /proc file in three system calls (open() adds an fstat, an lseek and a buffer)."""
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


_CHILDREN_LISTED = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def children_by_parent() -> dict[int, list[int]]:
    """Parent pid -> its children's pids, for every process, from one pass over the process
    table: on Linux each /proc/PID/stat read directly (a quarter of psutil.process_iter's cost;
    the run's RSS sampler does this ten times a second), elsewhere through psutil."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        for proc in psutil.process_iter(["ppid"]):
            children.setdefault(proc.info["ppid"] or 0, []).append(proc.pid)
        return children
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split(None, 2)[1])  # after "pid (comm) state"
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
        children.setdefault(ppid, []).append(int(name))
    return children


def with_descendants(pids: Iterable[int]) -> set[int]:
    """`pids` and all their descendants, from one pass over the process table."""
    found = set(pids)
    children = children_by_parent()
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def marked_pids(scope: str, marker: str) -> set[int]:
    """Processes carrying this run's marker (markers.py), with their descendants.

    scope `run`: any value; `plan`: values of `marker`'s plan; `case`: `marker`'s case, also
    through its provider calls."""
    own = markers.Mark.parse(marker)
    found = set()
    for pid, value in markers.scan().items():
        mark = markers.Mark.parse(value)
        if scope == "run" or (mark.plan == own.plan and (scope == "plan" or mark.case == own.case)):
            found.add(pid)
    return with_descendants(found) if found else found
