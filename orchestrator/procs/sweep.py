"""Sweeping by the run's marker: what provider calls left running, and everything at the end.

A provider worker serves many cases, so what its calls start is not in any case's leak check
(unless the plan says `provider_leaks: fail`): it is killed when its worker is disposed of
(recycled, replaced, closed) and at the end of the run, and each one is reported per provider.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import psutil

from orchestrator.procs import markers, tree
from orchestrator.procs.leaks import kill_processes
from orchestrator.procs.snapshot import cmdline_of, tree_pids


@dataclass(frozen=True)
class Leftover:
    pid: int
    cmdline: str
    mark: markers.Mark


_lock = threading.Lock()
_provider_leftovers: list[Leftover] = []


def sweep(*, provider: str | None = None, worker: str | None = None,
          worker_pid: int | None = None) -> list[Leftover]:
    """Kill every process carrying this run's marker (only a provider's / a worker's, if given)
    that is not in a registered tree (a live worker or a running case root); returns them.
    With `worker_pid`, only that worker itself is spared: its children are its calls' leftovers."""
    marked = markers.scan()
    if not marked:
        return []
    protected = {worker_pid} if worker_pid is not None else tree_pids(tree.registered_pids())
    victims: list[psutil.Process] = []
    found: list[Leftover] = []
    for pid, value in sorted(marked.items()):
        mark = markers.Mark.parse(value)
        if pid in protected or (provider is not None and mark.provider != provider) \
                or (worker is not None and mark.worker != worker):
            continue
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        victims.append(proc)
        found.append(Leftover(pid, cmdline_of(proc), mark))
    kill_processes(victims)
    with _lock:
        _provider_leftovers.extend(f for f in found if f.mark.provider is not None)
    return found


def sweep_worker(provider: str, worker: str, pid: int | None) -> None:
    """Before a worker's tree is killed: what its calls started, in its tree or elsewhere."""
    sweep(provider=provider, worker=worker, worker_pid=pid)


def take_provider_leftovers() -> list[Leftover]:
    """Every provider leftover swept since the last call (for the run's reports)."""
    with _lock:
        out = list(_provider_leftovers)
        _provider_leftovers.clear()
    return out
