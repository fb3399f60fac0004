"""The leak check: whatever a case started that is still alive after it ended is named, then killed.

What belongs to a case (its "leak set"), for the roots it started (exec/spawn pids):
  (a) each root still alive, its descendants, and every member of its session: a child keeps
      its session id after the root exits, so this finds plain orphans;
  (b) with the orchestrator as child subreaper (`become_subreaper`), processes orphaned by a
      case (double-forked daemons that called setsid, orphans of a root that already died)
      are re-parented to us instead of init. So our own direct children that are not in
      tree.py's registry, not in the session of a registered process, and created after the
      case's first root count too, with their descendants;
  (c) pids seen as descendants while an exec ran (`note_started(pid, seen=...)`), when still
      alive and created after the case began: this finds setsid daemons without a subreaper.

  (d) every process carrying the case's own marker (markers.py) in its environment, wherever
      it is in the process table: daemons, processes of a nested run, orphans of any kind.

A process that carries this run's marker with ANOTHER value (a neighbour case under -j N, a
provider worker) is never blamed, whatever (a)-(c) say: so a neighbour is never blamed or
killed. Only processes that scrubbed their environment fall back on (a)-(c) alone; among those,
with parallel cases, an orphan whose root already exited cannot be told apart from one left by
a neighbour started earlier. Without a subreaper (non-Linux, or prctl refused), such an orphan
that called setsid and was never seen in (c) escapes the check.

Zombies are reaped with waitpid on their own pid, and only for pids no Popen in tree.py's
registry owns, so a registered Popen still gets its exit status.
"""
from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Iterable

from orchestrator.procs import markers, proctable, tree
from orchestrator.procs.snapshot import cmdline_of, session_members, tree_pids
from orchestrator.procs.subreaper import become_subreaper as become_subreaper  # where callers have found it

if TYPE_CHECKING:  # imported once a leak is found: the leak set itself is read from /proc
    import psutil

EXITING_GRACE_S = 0.3
_SHOWN_CHARS = 200

_lock = threading.Lock()
_created: dict[int, float] = {}  # root pid -> its create_time, noted when the case started it


def note_started(pid: int) -> None:
    """Remember when `pid` started, so a recycled pid is not mistaken for it later."""
    created = proctable.create_time(pid)
    if created is None:
        created = proctable.boot_time()  # gone already: its orphans can only be newer than boot
    with _lock:
        _created.setdefault(pid, created)


def kill_leaks(pids: Iterable[int], marker: str | None = None, *, with_calls: bool = False) -> list[str]:
    """Describe (`pid 123 (sleep 600)`) and kill every live process of the case's leak set.

    `marker`: the case's marker value (markers.case_value); `with_calls`: also what provider
    calls of the case started (their marker says so)."""
    roots = set(pids)
    with _lock:
        noted = {pid: _created.pop(pid) for pid in roots if pid in _created}
    since = min(noted.values()) if noted else None
    marked = markers.scan() if marker is not None else {}
    found = _leak_set(roots, noted, since, marker, with_calls, marked)
    if not found:
        reap_orphans()
        return []
    import psutil

    leaked = []
    for pid in found:
        try:
            leaked.append(psutil.Process(pid))
        except psutil.Error:
            continue
    leaked = _without_exiting(leaked)
    described = [f"pid {p.pid} ({_short(cmdline_of(p))})" + _via(marked.get(p.pid)) for p in leaked]
    _kill(leaked)
    reap_orphans()
    return described


def _without_exiting(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Drop processes that were already exiting (their memory, so their command line, is gone)
    and finish within a moment: a dying process is not a leak."""
    exiting = [p for p in procs if _no_cmdline(p)]
    if not exiting:
        return procs
    gone = {p.pid for p in exiting} - {p.pid for p in _still_running(exiting, EXITING_GRACE_S)}
    return [p for p in procs if p.pid not in gone]


def _no_cmdline(proc: psutil.Process) -> bool:
    import psutil

    try:
        return not proc.cmdline()
    except psutil.Error:
        return True


def _via(value: str | None) -> str:
    provider = None if value is None else markers.Mark.parse(value).provider
    return "" if provider is None else f" started by a call to provider {provider}"


def _leak_set(roots: set[int], noted: dict[int, float], since: float | None, marker: str | None,
              with_calls: bool, marked: dict[int, str]) -> list[int]:
    # Our children are listed BEFORE the registry is read: a child forked meanwhile by another
    # thread's tree.spawn is registered by the time registered_pids() gets the registry lock.
    children = proctable.children(os.getpid())
    registered = set(tree.registered_pids())
    mine = {pid for pid, value in marked.items() if _is_mine(value, marker, with_calls)}
    theirs = set(marked) - mine  # a neighbour's, or a worker's: never ours to blame
    protected = tree_pids(registered - roots) | theirs  # pool workers and other cases' running roots
    # A root is itself only if its create_time still matches; an unnoted pid (a descendant
    # seen while an exec ran) only if it is newer than the case.
    live = {pid for pid in roots if pid in noted and _same_process(pid, noted[pid])}
    live |= {pid for pid in roots - set(noted) if _newer(pid, since)}
    candidates = tree_pids(live) | session_members(roots)
    if since is not None:
        candidates |= tree_pids(_orphans(children, registered, protected, since))
    leaked = []
    for pid in sorted(((candidates - protected) | mine) - {os.getpid()}):
        if pid not in mine and marker is not None and not _unmarked_or_mine(pid, marker, with_calls):
            continue  # born after the scan above, and a neighbour's or a worker's
        if not proctable.zombie_or_gone(pid) and (pid in mine or _newer(pid, since)) \
                and not markers.is_watchdog(pid):
            leaked.append(pid)
    return leaked


def _unmarked_or_mine(pid: int, marker: str, with_calls: bool) -> bool:
    """Read now (the scan may predate the process): may the fallbacks blame it? Only if it
    carries no marker of this run (it scrubbed its environment) or this case's. A process in
    the middle of an exec shows no environment for a moment: read again before deciding."""
    for _ in range(5):
        raw = markers.environ_of(pid)
        if raw:
            value = markers.value_in(raw, markers.run_var())
            return value is None or _is_mine(value, marker, with_calls)
        if raw is None:  # gone
            return True
        time.sleep(0.01)
    return True


def _is_mine(value: str, marker: str | None, with_calls: bool) -> bool:
    if marker is None:
        return False
    if value == marker:
        return True
    if not with_calls:
        return False
    mark, own = markers.Mark.parse(value), markers.Mark.parse(marker)
    return mark.provider is not None and (mark.plan, mark.case) == (own.plan, own.case)


def _orphans(children: list[int], registered: set[int], protected: set[int], since: float) -> set[int]:
    found = set()
    for child in children:
        if child in registered or child in protected:
            continue
        try:
            if os.getsid(child) in registered:
                continue
        except OSError:
            continue
        created = proctable.create_time(child)
        if created is not None and created >= since:
            found.add(child)
    return found


def _same_process(pid: int, created: float) -> bool:
    now = proctable.create_time(pid)
    return now is not None and abs(now - created) < 0.01


def _newer(pid: int, since: float | None) -> bool:
    if since is None:
        return True
    created = proctable.create_time(pid)
    # create_time has clock-tick resolution: a child may read a hair older than its parent
    return created is not None and created >= since - 0.05


def kill_processes(procs: list[psutil.Process]) -> None:
    """TERM, a short grace, KILL; our own zombies among them are reaped."""
    if procs:
        _kill(procs)
    reap_orphans()


def _kill(procs: list[psutil.Process]) -> None:
    import psutil

    for sig in ("terminate", "kill"):
        for proc in procs:
            try:
                getattr(proc, sig)()
            except psutil.Error:
                pass
        procs = _still_running(procs, tree.KILL_GRACE_S if sig == "terminate" else 5.0)
        if not procs:
            return


def _still_running(procs: list[psutil.Process], within: float) -> list[psutil.Process]:
    """Wait up to `within` for `procs` to be gone or zombies (reaping our own as they die)."""
    import psutil

    deadline = time.monotonic() + within
    while True:
        reap_orphans()
        alive = []
        for proc in procs:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.Error:
                continue
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.01)


def reap_orphans() -> list[int]:
    """Reap our zombie children that no Popen owns (only those: a registered Popen must get
    its own exit status). Returns the pids reaped."""
    registered = set(tree.registered_pids())
    reaped: list[int] = []
    for child in proctable.children(os.getpid()):
        if child in registered or not proctable.zombie_or_gone(child):
            continue
        try:
            done, _ = os.waitpid(child, os.WNOHANG)
        except (ChildProcessError, OSError):
            continue
        if done:
            reaped.append(child)
    return reaped


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
