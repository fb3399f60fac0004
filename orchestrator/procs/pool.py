"""`WorkerPool`: N persistent workers for one Python provider (implements `api.Pool`).

Callers queue FIFO for a free worker and then run the round trip on their own thread. A
worker that times out, dies or garbles the protocol is an event: its tree is killed, the call
becomes an error, and a replacement starts at once. A provider that fails to import fails the
pool: every call then returns that error at once, and nothing is restarted.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping

from orchestrator.procs import protocol, tree
from orchestrator.procs.api import CallError, CallOutcome, CallRequest, PoolConfig, WorkerInfo, WorkerStatus
from orchestrator.procs.worker import Outcome, Reply, Worker, describe_death, kill_workers


@dataclass
class _Slot:
    index: int
    worker: Worker | None = None
    calls: int = 0
    restarts: int = 0
    reasons: list[str] = field(default_factory=list)
    cold_start_ms: float | None = None


class WorkerPool:
    def __init__(self, config: PoolConfig, *, grace_s: float = 0.5) -> None:
        if config.workers < 1:
            raise ValueError(f"provider {config.provider_id}: workers must be >= 1")
        self._config = config
        self._grace_s = grace_s
        self._cond = threading.Condition()
        self._slots = [_Slot(i) for i in range(config.workers)]
        self._idle: deque[Worker] = deque()
        self._queue: deque[object] = deque()  # tickets of waiting callers, FIFO
        self._live: set[Worker] = set()  # spawned and not yet disposed
        self._threads: list[threading.Thread] = []
        self._failed: CallError | None = None
        self._started = False
        self._closed = False

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- starting workers -------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._started or self._closed:
                return
            self._started = True
            for slot in self._slots:
                self._launch(slot)

    def _launch(self, slot: _Slot) -> None:
        """Start a worker for `slot` on a background thread (caller holds the lock)."""
        thread = threading.Thread(
            target=self._bring_up, args=(slot,), daemon=True,
            name=f"pool-{self._config.provider_id}-{slot.index}",
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _bring_up(self, slot: _Slot) -> None:
        cfg = self._config
        worker = Worker(cfg, slot.index)
        began = time.perf_counter()
        try:
            worker.spawn()
        except OSError as exc:
            worker.dispose(0)
            interpreter = cfg.interpreter or "python"
            self._fail(CallError("ImportError", f"provider {cfg.provider_id} failed to import: cannot start {interpreter!r}: {exc}"))
            return
        with self._cond:
            closed = self._closed
            if not closed:
                slot.worker = worker
                self._live.add(worker)
        if closed:
            worker.dispose(0)
            return
        reply = worker.wait_ready(cfg.startup_timeout_s)
        if reply.outcome is Outcome.OK and reply.name == protocol.READY:
            with self._cond:
                if slot.cold_start_ms is None:
                    slot.cold_start_ms = (time.perf_counter() - began) * 1000
                if not self._closed:
                    self._idle.append(worker)
                    self._cond.notify_all()
                    return
            self._dispose(worker)
            return
        worker.kill_tree(self._grace_s)
        _, stderr = worker.output()
        self._dispose(worker)
        self._fail(self._startup_error(worker, reply, stderr))

    def _startup_error(self, worker: Worker, reply: Reply, stderr: str) -> CallError:
        pid, provider = worker.pid, self._config.provider_id
        if reply.outcome is Outcome.TIMEOUT:
            return CallError(
                "StartupTimeout",
                f"provider {provider} was not ready within {self._config.startup_timeout_s:g}s; "
                f"worker pid {pid} and its process tree were killed",
                traceback=stderr,
            )
        if reply.outcome is Outcome.OK and reply.name == protocol.IMPORT_ERROR:
            payload = reply.payload if isinstance(reply.payload, dict) else {}
            return CallError(
                "ImportError",
                f"provider {provider} failed to import: {payload.get('message', '')}",
                traceback=str(payload.get("traceback", "")),
            )
        code = worker.returncode
        how = tree.exit_description(code) if code is not None else "stopped answering"
        detail = f" ({reply.detail})" if reply.detail else ""
        return CallError(
            "ImportError",
            f"provider {provider} failed to import: worker pid {pid} {how} before it was ready{detail}",
            traceback=stderr,
        )

    def _fail(self, error: CallError) -> None:
        with self._cond:
            if self._failed is None and not self._closed:
                self._failed = error
            self._cond.notify_all()

    def _dispose(self, worker: Worker) -> None:
        worker.dispose(self._grace_s)
        with self._cond:
            self._live.discard(worker)
            for slot in self._slots:
                if slot.worker is worker:
                    slot.worker = None
            self._cond.notify_all()

    # -- calls ------------------------------------------------------------------------------

    def _acquire(self) -> Worker | CallError:
        with self._cond:
            ticket = object()
            self._queue.append(ticket)
            try:
                while True:
                    if self._closed:
                        return CallError("PoolClosed", f"provider {self._config.provider_id}: the pool is closed")
                    if self._failed is not None:
                        return self._failed
                    if self._idle and self._queue[0] is ticket:
                        return self._idle.popleft()
                    self._cond.wait()
            finally:
                self._queue.remove(ticket)
                if self._idle and self._queue:
                    self._cond.notify_all()

    def call(self, request: CallRequest) -> CallOutcome:
        if not self._started:
            self.start()
        got = self._acquire()
        if isinstance(got, CallError):
            return CallOutcome(result=None, error=got, duration_ms=0.0, worker=None)
        worker = got
        slot = self._slots[worker.index]
        cfg = self._config
        timeout_s = request.timeout_s if request.timeout_s is not None else cfg.timeout_s
        options: Mapping[str, Any] = request.options
        if cfg.config and "config" not in options:
            options = {**options, "config": dict(cfg.config)}
        began = time.perf_counter()
        reply = worker.call(request.prompt, options, request.context, timeout_s)
        info = WorkerInfo(pid=worker.pid, index=worker.index, calls=worker.calls, restarts=slot.restarts)
        if reply.outcome is Outcome.OK and reply.name in (protocol.RESULT, protocol.ERROR):
            stdout, stderr = worker.output()
            with self._cond:
                slot.calls += 1
                closed = self._closed
                if not closed:
                    self._idle.append(worker)
                    self._cond.notify_all()
            if closed:
                self._dispose(worker)
            result, error = _unpack(reply)
            return CallOutcome(result, error, (time.perf_counter() - began) * 1000, info, stdout, stderr)
        error, stdout, stderr = self._replace(worker, slot, reply, timeout_s)
        return CallOutcome(None, error, (time.perf_counter() - began) * 1000, info, stdout, stderr)

    def _replace(self, worker: Worker, slot: _Slot, reply: Reply, timeout_s: float) -> tuple[CallError, str, str]:
        with self._cond:
            slot.calls += 1
            slot.worker = None
            replace = not self._closed and self._failed is None
            if replace:  # before the old tree is killed: the grace period overlaps the start
                slot.restarts += 1
                self._launch(slot)
        worker.kill_tree(self._grace_s)
        stdout, stderr = worker.output()
        self._dispose(worker)
        pid = worker.pid
        if reply.outcome is Outcome.TIMEOUT:
            reason = "timeout"
            error = CallError(
                "TimeoutError",
                f"call timed out after {timeout_s:g}s; worker pid {pid} and its process tree were killed",
            )
        elif reply.outcome is Outcome.DIED:
            code = worker.returncode
            reason = f"crashed: {_short_exit(code)}"
            error = describe_death(worker, "during the call")
        else:
            reason = "protocol error"
            detail = reply.detail or f"unexpected message {reply.name!r}"
            error = CallError("ProtocolError", f"worker pid {pid}: {detail}; it and its process tree were killed")
        with self._cond:
            if self._closed and not replace:
                error = CallError("PoolClosed", f"provider {self._config.provider_id}: the pool was closed during the call")
            if replace:
                slot.reasons.append(reason)
        return error, stdout, stderr

    # -- introspection and shutdown ---------------------------------------------------------

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in self._live if w.pid is not None and w.returncode is None)

    def stats(self) -> list[WorkerStatus]:
        with self._cond:
            return [
                WorkerStatus(
                    provider_id=self._config.provider_id,
                    index=s.index,
                    pid=s.worker.pid if s.worker is not None else None,
                    calls=s.calls,
                    restarts=s.restarts,
                    restart_reasons=tuple(s.reasons),
                    cold_start_ms=s.cold_start_ms,
                )
                for s in self._slots
            ]

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            everyone = list(self._live)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()
        deadline = time.monotonic() + self._grace_s
        for worker in idle:
            worker.wait_exit(max(0.0, deadline - time.monotonic()))
        # Busy and starting workers belong to other threads: killing their trees wakes those
        # threads (EOF on the pipe), which then dispose of their own worker.
        kill_workers(everyone, self._grace_s)
        for worker in idle:
            self._dispose(worker)
        with self._cond:
            self._cond.wait_for(lambda: not self._live, timeout=10.0)
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=10.0)


def _unpack(reply: Reply) -> tuple[Mapping[str, Any] | None, CallError | None]:
    payload = reply.payload if isinstance(reply.payload, dict) else {}
    if reply.name == protocol.RESULT:
        result = payload.get("result")
        return (result if isinstance(result, dict) else {"output": result}), None
    return None, CallError(
        str(payload.get("type", "Exception")), str(payload.get("message", "")), str(payload.get("traceback", ""))
    )


def _short_exit(code: int | None) -> str:
    if code is None:
        return "unknown exit"
    if code >= 0:
        return f"exit code {code}"
    description = tree.exit_description(code)  # "was killed by signal SIGSEGV (11)"
    return description.replace("was killed by ", "").split(" (")[0]
