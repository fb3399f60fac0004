"""The system under test of plans/flaky-detection.yaml (seed 003): per-thread script runtimes.

A stand-in for YAMLEngine._get_lua_runtime after the fix ("Option A + B"): the main thread
keeps one runtime for its whole life; every other thread gets a fresh runtime per task, looked
up in a dict keyed by (thread id, task) under a lock — double-checked — so a pool thread that is
reused never sees the previous task's runtime. Stdlib only; CPython >= 3.9.
"""
from __future__ import annotations

import itertools
import threading
import time

_ids = itertools.count(1)


class Runtime:
    """One isolated interpreter: its own globals."""

    def __init__(self) -> None:
        self.id = next(_ids)
        self.globals: dict = {}

    def execute(self, name: str, value: object) -> object:
        self.globals[name] = value
        return self.globals.get(name)


class Engine:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._main: Runtime | None = None
        self._by_task: dict[tuple[int, int], Runtime] = {}

    def runtime(self, task: int = 0) -> Runtime:
        """The main thread's one runtime; a worker thread's runtime for this task."""
        if threading.current_thread() is threading.main_thread():
            if self._main is None:
                with self._lock:
                    if self._main is None:  # double-checked: one creation even when racing
                        self._main = Runtime()
            return self._main
        key = (threading.get_ident(), task)
        found = self._by_task.get(key)
        if found is None:
            with self._lock:
                found = self._by_task.get(key)
                if found is None:
                    found = self._by_task[key] = Runtime()
        return found

    def release(self, task: int) -> None:
        """A task is done: its runtime goes, so a reused pool thread starts clean."""
        with self._lock:
            self._by_task.pop((threading.get_ident(), task), None)

    @property
    def live(self) -> int:
        with self._lock:
            return len(self._by_task)


_tasks = itertools.count(1)


def in_worker_thread(engine: Engine, work) -> object:
    """Run `work(runtime)` as one task on the calling (non-main) thread, then release."""
    task = next(_tasks)
    try:
        return work(engine.runtime(task))
    finally:
        engine.release(task)


def creation_ms(n: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(n):
        Runtime()
    return (time.perf_counter() - started) * 1000 / n
