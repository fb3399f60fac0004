"""`EphemeralPool`: a fresh worker process for every call (`mode: ephemeral`, implements `api.Pool`).

The pre-persistence baseline: each call pays interpreter start, the provider's import and the
handshake, and no module state survives from one call to the next. `workers` bounds how many
calls run at once (others queue FIFO, bounded by `queue_timeout`). A call's `duration_ms` is
the whole cost: spawn -> import -> call -> exit.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from orchestrator.errors import ErrorKind
from orchestrator.procs import protocol, tree
from orchestrator.procs.api import CallError, CallOutcome, CallRequest, PoolConfig, WorkerInfo, WorkerStatus
from orchestrator.procs.returned import answered, call_failure, send_call, unpack
from orchestrator.procs.exits import short_exit
from orchestrator.procs.slots import Slot, startup_error
from orchestrator.procs.worker import Outcome, Worker


class EphemeralPool:
    def __init__(self, config: PoolConfig, *, grace_s: float = tree.KILL_GRACE_S) -> None:
        if config.workers < 1:
            raise ValueError(f"provider {config.provider_id}: workers must be >= 1")
        self._config = config
        self._grace_s = grace_s
        self._cond = threading.Condition()
        self._slots = [Slot(i) for i in range(config.workers)]
        self._free: deque[Slot] = deque(self._slots)
        self._queue: deque[object] = deque()
        self._live: set[Worker] = set()
        self._closed = False

    def start(self) -> None:
        """Nothing to start ahead of time: that is the point of this mode."""

    def _acquire(self) -> Slot | CallError:
        qt = self._config.queue_timeout_s
        deadline = None if qt is None else time.monotonic() + qt
        with self._cond:
            ticket = object()
            self._queue.append(ticket)
            try:
                while True:
                    if self._closed:
                        return CallError(ErrorKind.POOL_CLOSED, f"provider {self._config.provider_id}: the pool is closed")
                    if self._free and self._queue[0] is ticket:
                        return self._free.popleft()
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        n = self._config.workers
                        return CallError(ErrorKind.POOL_BUSY, f"pool busy: no worker free within {qt:g}s "
                                                     f"({n} worker{'s' if n != 1 else ''}, all busy)")
                    self._cond.wait(remaining)
            finally:
                self._queue.remove(ticket)
                if self._free and self._queue:
                    self._cond.notify_all()

    def call(self, request: CallRequest) -> CallOutcome:
        got = self._acquire()
        if isinstance(got, CallError):
            return CallOutcome(result=None, error=got, duration_ms=0.0, worker=None)
        slot = got
        try:
            return self._one_call(slot, request)
        finally:
            with self._cond:
                slot.worker = None
                self._free.append(slot)
                self._cond.notify_all()

    def _one_call(self, slot: Slot, request: CallRequest) -> CallOutcome:
        cfg = self._config
        began = time.perf_counter()
        worker = Worker(cfg, slot.index)
        try:
            worker.spawn()
        except OSError as exc:
            worker.dispose(0)
            return CallOutcome(None, CallError(ErrorKind.IMPORT, f"provider {cfg.provider_id} failed to import: "
                                               f"cannot start {cfg.interpreter or 'python'!r}: {exc}"), 0.0, None)
        with self._cond:
            if self._closed:
                closed = True
            else:
                closed = False
                self._live.add(worker)
                slot.worker = worker
        if closed:
            worker.dispose(0)
            return CallOutcome(None, CallError(ErrorKind.POOL_CLOSED, f"provider {cfg.provider_id}: the pool is closed"), 0.0, None)
        try:
            return self._run(slot, worker, request, began)
        finally:
            worker.dispose(self._grace_s)
            with self._cond:
                self._live.discard(worker)

    def _run(self, slot: Slot, worker: Worker, request: CallRequest, began: float) -> CallOutcome:
        cfg = self._config
        ready = worker.wait_ready(cfg.startup_timeout_s)
        info = WorkerInfo(pid=worker.pid, index=slot.index, calls=1, restarts=0)
        if not (ready.outcome is Outcome.OK and ready.name == protocol.READY):
            worker.kill_tree(self._grace_s)
            _, stderr = worker.output()
            return CallOutcome(None, startup_error(cfg, worker, ready, stderr), _ms(began), info)
        with self._cond:
            if slot.cold_start_ms is None:
                slot.cold_start_ms = _ms(began)
        reply, timeout_s = send_call(worker, cfg, request)
        if answered(reply):
            worker.stop()
            worker.wait_exit(self._grace_s)
            stdout, stderr = worker.output()
            duration = _ms(began)
            with self._cond:
                slot.served(duration)
            result, error, notes = unpack(reply, cfg.function)
            return CallOutcome(result, error, duration, info, stdout, stderr, notes)
        worker.kill_tree(self._grace_s)
        stdout, stderr = worker.output()
        with self._cond:
            slot.calls += 1
        error = call_failure(worker, reply, timeout_s, reply.detail or short_exit(worker.returncode))
        return CallOutcome(None, error, _ms(began), info, stdout, stderr)

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in self._live if w.pid is not None and w.returncode is None)

    def stats(self) -> list[WorkerStatus]:
        with self._cond:
            return [s.status(self._config.provider_id) for s in self._slots]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            live = list(self._live)
            self._cond.notify_all()
        for worker in live:  # the calling threads dispose of their own workers
            worker.kill_tree(self._grace_s)
        with self._cond:
            self._cond.wait_for(lambda: not self._live, timeout=10.0)


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000
