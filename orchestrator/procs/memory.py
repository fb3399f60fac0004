"""Memory of the run's processes: how much they use now, how many jobs fit, peaks per attempt.

The run's processes are the orchestrator itself plus every registered process tree (provider
workers, exec'ed and spawned targets with their descendants). Reading them costs a /proc read
per process (psutil where there is no /proc), so the sampler reads at most every `interval_s`.
"""
from __future__ import annotations

import os
import threading
from dataclasses import field
from typing import Callable, Iterable

from orchestrator.procs import cores, proctable, tree
from orchestrator.procs.snapshot import children_by_parent, family_of, rss_bytes
from orchestrator.records import mutable_record

DEFAULT_JOB_BYTES = 2 * 1024**3  # the estimate for one job before anything is measured (seed 004)


def rss_of(pids: Iterable[int], *, with_children: bool = True) -> int:
    """Resident bytes of these processes (and their descendants), each counted once."""
    if proctable.LINUX:
        roots = set(pids)
        return sum(rss_bytes(pid) for pid in (roots | proctable.descendants(roots) if with_children else roots))
    import psutil

    seen: set[int] = set()
    total = 0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            family = [proc, *proc.children(recursive=True)] if with_children else [proc]
        except psutil.Error:
            continue
        for member in family:
            if member.pid in seen:
                continue
            seen.add(member.pid)
            try:
                total += member.memory_info().rss
            except psutil.Error:
                continue
    return total


def run_rss() -> int:
    """The orchestrator and every process tree it registered, together."""
    own = rss_of([os.getpid()], with_children=False)
    return own + rss_of([p for p in tree.registered_pids() if p != os.getpid()])


def available_bytes() -> int:
    """Memory available for new work without swapping (/proc/meminfo's MemAvailable, as psutil reads it)."""
    for line in proctable.read("/proc/meminfo").splitlines():
        if line.startswith(b"MemAvailable:"):
            return int(line.split()[1]) * 1024
    import psutil

    return int(psutil.virtual_memory().available)


def cpu_count() -> int:
    return cores.usable()


def auto_jobs(per_job_bytes: int, *, cores: int | None = None, available: int | None = None) -> int:
    """As many jobs as there are cores AND free memory for, at `per_job_bytes` each; at least 1."""
    cores = cpu_count() if cores is None else cores
    available = available_bytes() if available is None else available
    by_memory = available // max(1, per_job_bytes)
    return int(max(1, min(cores, by_memory)))


def explain_auto_jobs(per_job_bytes: int, *, cores: int | None = None, available: int | None = None,
                      measured: bool = True) -> tuple[int, str]:
    """`auto_jobs` and why, in words: (2, 'the smaller of 2 cores and 40 = 5.1 GiB free memory / 128.0 MiB
    a case')."""
    cores = cpu_count() if cores is None else cores
    available = available_bytes() if available is None else available
    jobs = auto_jobs(per_job_bytes, cores=cores, available=available)
    fits = available // max(1, per_job_bytes)
    why = (f"the smaller of {cores} core{'s' if cores != 1 else ''} and {fits} = {_size(available)} free memory / "
           f"{_size(per_job_bytes)} a case" + ("" if measured else ", assumed until a case is measured")
           + ("; never fewer than 1" if fits < 1 else ""))
    return jobs, why


def _size(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


_started_by: dict[int, set[int]] = {}  # thread ident -> pids started there while it is attributing
_started_lock = threading.Lock()


def attribute_starts(on: bool) -> None:
    """From now on (until off), processes this thread starts count towards its attempt's RSS."""
    ident = threading.get_ident()
    with _started_lock:
        if on:
            _started_by[ident] = set()
        else:
            _started_by.pop(ident, None)


def note_started(pid: int) -> None:
    """Called where a process is started (procs/command.py), in the starting thread."""
    with _started_lock:
        found = _started_by.get(threading.get_ident())
        if found is not None:
            found.add(pid)


def started_here(ident: int) -> list[int]:
    with _started_lock:
        return list(_started_by.get(ident, ()))


@mutable_record
class _Watch:
    pids: Callable[[], Iterable[int]]
    peak: int = 0


@mutable_record
class PeakSampler:
    """Samples the RSS of watched process sets in one background thread; keeps each one's peak.

    Watching and unwatching cost nothing on the caller's thread (cases stay cheap); each tick
    reads the process table once for everyone's descendants.
    """

    interval_s: float = 0.1
    _watches: dict[int, _Watch] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> PeakSampler:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def watch(self, pids: Callable[[], Iterable[int]]) -> int:
        with self._lock:
            self._next += 1
            self._watches[self._next] = _Watch(pids)
            return self._next

    def unwatch(self, handle: int) -> int | None:
        """Stop watching; the peak seen, or None when no sample saw a process (a short attempt)."""
        with self._lock:
            watch = self._watches.pop(handle, None)
        return watch.peak or None if watch is not None else None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                watches = list(self._watches.values())
            if watches:
                self.sample(watches)

    @staticmethod
    def sample(watches: list[_Watch]) -> None:
        children: dict[int, list[int]] | None = None  # the whole process table, only where needed
        rss: dict[int, int] = {}
        for watch in watches:
            try:
                roots = list(watch.pids())
            except Exception:  # a pid source racing with its process ending must not stop sampling
                continue
            family = family_of(roots)
            if family is None:
                children = children_by_parent() if children is None else children
                family = _family_in(children, roots)
            total = 0
            for pid in family:
                if pid not in rss:
                    rss[pid] = rss_bytes(pid)
                total += rss[pid]
            watch.peak = max(watch.peak, total)


def _family_in(children: dict[int, list[int]], roots: list[int]) -> set[int]:
    family: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in family:
            family.add(pid)
            todo.extend(children.get(pid, ()))
    return family
