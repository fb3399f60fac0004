"""The process table as the `processes` step and `wait: {processes: ...}` see it.

`count` and `pids` are the live processes; zombies (exited, not yet reaped) are counted apart
in `zombies`, so `count: 0` means "nothing of it is running any more".
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterable

from orchestrator.procs import markers, proctable, tree
from orchestrator.records import record

if TYPE_CHECKING:  # imported where a process must be described: a clean run never needs it
    import psutil


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
    return roots | proctable.descendants(roots) | proctable.session_members(roots)


def session_members(sids: Iterable[int]) -> set[int]:
    """Every process whose session id is one of `sids` (Linux never recycles a pid that is
    still some session's id, so this is safe after the session leader is gone)."""
    return proctable.session_members(sids)


def run_pids() -> set[int]:
    """Every process the run started and still holds or that carries its marker, with
    descendants (`of: run`)."""
    return tree_pids(tree.registered_pids()) | marked_pids("run", markers.UNOWNED)


def cmdline_of(proc: psutil.Process) -> str:
    import psutil

    try:
        parts = proc.cmdline()
        return " ".join(parts) if parts else f"[{proc.name()}]"
    except psutil.Error:
        return "?"


def take(pids: Iterable[int] | None, *, cmdline: str | None = None, name: str | None = None) -> Snapshot:
    """The processes among `pids` (None: the whole machine) that match the filters."""
    me = os.getpid()
    candidates = proctable.pids() if pids is None else sorted(set(pids))
    if proctable.LINUX:  # those already gone need no psutil to be left out (often all of them)
        candidates = [pid for pid in candidates if pid != me and proctable.stat(pid) is not None]
    live: list[tuple[int, str, int]] = []
    zombies = 0
    if candidates:
        import psutil
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
    import psutil

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
            text = proctable.read(f"/proc/{pid}/task/{thread}/children")
            if text:
                todo.extend(int(child) for child in text.split())
    return family


def rss_bytes(pid: int) -> int:
    """Resident bytes of one process (0 when it is gone): /proc/PID/statm on Linux, else psutil."""
    if _CHILDREN_LISTED:
        text = proctable.read(f"/proc/{pid}/statm")
        try:
            return int(text.split()[1]) * _PAGE_SIZE if text else 0
        except (IndexError, ValueError):
            return 0
    import psutil

    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def tree_rss(root: int) -> int | None:
    """Resident bytes of `root` and all its descendants now (None when `root` is gone)."""
    if not _CHILDREN_LISTED:
        import psutil

        try:
            proc = psutil.Process(root)
            total = int(proc.memory_info().rss)
            for child in proc.children(recursive=True):
                try:
                    total += int(child.memory_info().rss)
                except psutil.Error:
                    pass
            return total
        except psutil.Error:
            return None
    if not proctable.read(f"/proc/{root}/statm"):
        return None
    return sum(rss_bytes(pid) for pid in family_of([root]) or ())


_CHILDREN_LISTED = proctable.LINUX and os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def children_by_parent() -> dict[int, list[int]]:
    """Parent pid -> its children's pids, for every process, from one pass over the process
    table: on Linux each /proc/PID/stat read directly (a quarter of psutil.process_iter's cost;
    the run's RSS sampler does this ten times a second), elsewhere through psutil."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        import psutil

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
