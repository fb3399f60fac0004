"""Work a thread hands over to its own next wait for a worker's answer.

At `-j 1` the engine reports a finished case (journal line, console, a live rewrite of the
reports) while the worker runs the next case's call, instead of before sending it: the
provider sees the same calls in the same order, and the report of case N no longer stands
between case N's answer and case N+1's request. The waiting side (`Worker.call` after its
request is written, `WorkerPool.call` before it waits for a free worker) runs what was handed
over; whoever handed it over calls `flush` before anything else may observe it.

A failure of handed-over work is kept and raised by `flush`, in the engine: it must not become
the error of the call that happened to be waiting. `delayed_s` counts how long handed-over
work kept this thread from its own work (an answer that waited in the pipe), so that a case's
and a call's durations leave it out.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

_local = threading.local()


def _state() -> _State:
    state: _State | None = getattr(_local, "state", None)
    if state is None:
        state = _local.state = _State()
    return state


class _State:
    __slots__ = ("tasks", "failure", "delayed_s")

    def __init__(self) -> None:
        self.tasks: list[Callable[[], None]] = []
        self.failure: BaseException | None = None
        self.delayed_s = 0.0


def hand_over(task: Callable[[], None]) -> None:
    """Run `task` in this thread's next wait (or at `flush`), after what was handed over before."""
    _state().tasks.append(task)


def pending() -> bool:
    state: _State | None = getattr(_local, "state", None)
    return state is not None and bool(state.tasks)


def run_pending() -> float:
    """Run what was handed over, in order; seconds spent (0.0 when there was nothing). A task
    that raises stops the rest: they wait for `flush`, which raises the failure."""
    state: _State | None = getattr(_local, "state", None)
    if state is None or not state.tasks or state.failure is not None:
        return 0.0
    began = time.perf_counter()
    tasks = state.tasks
    while tasks:
        task = tasks.pop(0)
        try:
            task()
        except BaseException as exc:  # raised by flush, where the engine expects it
            state.failure = exc
            break
    return time.perf_counter() - began


def delayed(seconds: float) -> None:
    """Handed-over work kept this thread from its own for `seconds` (see the module's doc)."""
    if seconds > 0:
        _state().delayed_s += seconds


def delayed_s() -> float:
    state: _State | None = getattr(_local, "state", None)
    return 0.0 if state is None else state.delayed_s


def flush() -> None:
    """Run what is left, then raise the first failure of any handed-over task."""
    state: _State | None = getattr(_local, "state", None)
    if state is None:
        return
    if state.failure is None:
        run_pending()
    failure, state.failure = state.failure, None
    if failure is not None:
        state.tasks.clear()
        raise failure


def own_clock() -> float:
    """time.monotonic() less what handed-over work delayed this thread: for durations."""
    return time.monotonic() - delayed_s()
