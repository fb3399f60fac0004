"""`-j 1` without a job thread: each case runs in the scheduling thread itself, as a loop would.

Handing every case to a one-thread pool and waiting on its future cost ~0.3 ms a case in GIL
hand-offs, a third of a trivial case. `InlineJob` stands in for the executor: `submit` runs the
case and returns its outcome, done, with a future's `result()`, so the scheduling loop is the same
for every `-j` (without importing concurrent.futures, whose `logging` is ~10 ms of a start).

While it runs a case the scheduling loop cannot react to an interrupt, which it does between
cases by closing the pools (a call waiting for a worker the interrupt killed then ends at
once); a small watcher thread closes them instead.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Generic, Optional, TypeVar

T = TypeVar("T")
_WATCH_S = 0.2  # how often the watcher looks at `stop`, as the scheduling loop does


class InlineJob:
    def __init__(self, stop: threading.Event, close_pools: Callable[[], None]) -> None:
        self._stop = stop
        self._close_pools = close_pools
        self._ended = threading.Event()

    def __enter__(self) -> InlineJob:
        threading.Thread(target=self._close_on_stop, name="stop-watch", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._ended.set()
        # The watcher may wait up to _WATCH_S more: it must not keep the engine (and with it
        # every case's spec) alive while the reports are written.
        self._close_pools = _nothing

    def _close_on_stop(self) -> None:
        while not self._ended.is_set():
            if self._stop.wait(_WATCH_S):
                self._close_pools()
                return

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Done[T]:
        try:
            return Done(fn(*args), None)
        except Exception as exc:  # as a job thread hands it back
            return Done(None, exc)


class Done(Generic[T]):
    """A job that has ended: `result()` returns its value or raises its exception, as a future's."""

    __slots__ = ("_value", "_exception")

    def __init__(self, value: Optional[T], exception: Optional[BaseException]) -> None:
        self._value = value
        self._exception = exception

    def result(self) -> T:
        if self._exception is not None:
            raise self._exception
        return self._value  # type: ignore[return-value]  # None only with an exception


def _nothing() -> None:
    pass
