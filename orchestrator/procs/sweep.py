"""Sweeping by the run's marker: what provider calls left running, and everything at the end.

A provider worker serves many cases, so what its calls start is not in any case's leak check
(unless the plan says `provider_leaks: fail`): it is killed when its worker is disposed of
(recycled, replaced, closed) and at the end of the run, and each one is reported per provider.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from orchestrator.procs import markers, proctable, tree
from orchestrator.procs.leaks import kill_processes
from orchestrator.procs.snapshot import cmdline_of, tree_pids
from orchestrator.records import record

if TYPE_CHECKING:  # imported once a leftover is found: a clean run never needs it
    import psutil


@record
class Leftover:
    pid: int
    cmdline: str
    mark: markers.Mark


_lock = threading.Lock()
_provider_leftovers: list[Leftover] = []


def sweep(*, provider: str | None = None, worker: str | None = None) -> list[Leftover]:
    """Kill every process carrying this run's marker (only a provider's / a worker's, if given)
    that is not in a registered tree (a live worker or a running case root); returns them."""
    found = find(provider=provider, worker=worker)
    kill_processes([proc for proc, _ in found])
    return keep_provider_leftovers(found)


def find(*, provider: str | None = None, worker: str | None = None, worker_pid: int | None = None,
         scanned: dict[int, str] | None = None) -> list[tuple[psutil.Process, Leftover]]:
    """The live processes `sweep` would kill. With `worker_pid`, only that worker itself is
    spared (its children are its calls' leftovers), not every registered tree. `scanned`:
    a `markers.scan()` made for several workers at once."""
    scanned = markers.scan() if scanned is None else scanned
    # A worker itself is marked: at a worker's close, usually nothing else is.
    marked: dict[int, markers.Mark] = {}
    for pid, value in scanned.items():
        mark = markers.Mark.parse(value)
        if pid != worker_pid and (provider is None or mark.provider == provider) \
                and (worker is None or mark.worker == worker) and not proctable.zombie_or_gone(pid):
            marked[pid] = mark
    if not marked:
        return []
    protected = {worker_pid} if worker_pid is not None else tree_pids(tree.registered_pids())
    # What a worker started outside any call (at import) and still holds in its tree is part
    # of it, and goes with its tree; what escaped the tree, or a call started, is a leftover.
    own_tree = tree_pids([worker_pid]) if worker_pid is not None else set()
    import psutil

    found: list[tuple[psutil.Process, Leftover]] = []
    for pid, mark in sorted(marked.items()):
        if pid in protected or (mark.case == "-" and pid in own_tree):
            continue
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        found.append((proc, Leftover(pid, cmdline_of(proc), mark)))
    return found


def keep_provider_leftovers(found: list[tuple[psutil.Process, Leftover]]) -> list[Leftover]:
    """Keep the provider leftovers among `found` for the run's reports (once killed)."""
    leftovers = [left for _, left in found]
    with _lock:
        _provider_leftovers.extend(f for f in leftovers if f.mark.provider is not None)
    return leftovers


def worker_leftovers(workers: list[tuple[str, str, int | None]]) -> list[psutil.Process]:
    """Before workers' trees are killed: what their calls started, in their trees or elsewhere
    (recorded; the caller kills them with the trees, under one grace period). `workers`:
    (provider, worker token, pid) each; one scan of the process table for all of them."""
    if not workers:
        return []
    scanned = markers.scan()
    out: list[psutil.Process] = []
    for provider, worker, pid in workers:
        found = find(provider=provider, worker=worker, worker_pid=pid, scanned=scanned)
        keep_provider_leftovers(found)
        out.extend(proc for proc, _ in found)
    return out


def take_provider_leftovers() -> list[Leftover]:
    """Every provider leftover swept since the last call (for the run's reports)."""
    with _lock:
        out = list(_provider_leftovers)
        _provider_leftovers.clear()
    return out
