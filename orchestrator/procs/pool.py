"""`WorkerPool`: N persistent workers for one Python provider (implements `api.Pool`).

Callers queue FIFO for a free worker (`dispatch.pick`, which also honours session affinity)
and then run the round trip on their own thread. A worker that times out, dies or garbles the
protocol is an event: its tree is killed, the call becomes an error, and a replacement starts
at once. Before a call is handed over, the worker is checked without blocking (dead already?)
and, after a long idle spell, pinged: a worker that died while idle is replaced, and the call
waits for the next free one instead of failing. Workers are recycled between calls after
`max_calls` calls or when their tree's RSS passes `max_rss_bytes`. A provider that fails to
import fails the pool: every call then returns that error at once. A worker that dies before
it is ready is retried, at most `max_restarts` times in a row per slot.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from orchestrator.errors import ErrorKind
from orchestrator.procs import protocol, tree, while_waiting
from orchestrator.procs.returned import call_failure, send_call, unpack
from orchestrator.procs.api import CallError, CallOutcome, CallRequest, Pool, PoolConfig, WorkerInfo, WorkerStatus
from orchestrator.procs.dispatch import Ticket, pick
from orchestrator.procs.exits import short_exit
from orchestrator.procs.slots import Slot, format_bytes, startup_error
from orchestrator.procs.worker import Outcome, Reply, Worker, kill_workers

DEFAULT_MAX_RESTARTS = 5
PING_IDLE_S = 5.0  # a worker idle this long is pinged before it gets a call
PING_TIMEOUT_S = 5.0
RSS_SAMPLE_S = 0.5  # without max_rss, peak RSS is sampled at most this often per worker
_ANSWERS = (protocol.RESULT, protocol.ERROR)


def create_pool(config: PoolConfig) -> Pool:
    """The pool for a provider's `mode`."""
    if config.mode == "ephemeral":
        from orchestrator.procs.ephemeral import EphemeralPool

        return EphemeralPool(config)
    return WorkerPool(config)


class WorkerPool:
    runs_handed_over_work = True  # a waiting call runs procs/while_waiting's tasks

    def __init__(self, config: PoolConfig, *, grace_s: float = tree.KILL_GRACE_S, ping_idle_s: float = PING_IDLE_S) -> None:
        if config.workers < 1:
            raise ValueError(f"provider {config.provider_id}: workers must be >= 1")
        self._config = config
        self._grace_s = grace_s
        self._ping_idle_s = ping_idle_s
        self._max_restarts = DEFAULT_MAX_RESTARTS if config.max_restarts is None else config.max_restarts
        self._cond = threading.Condition()
        self._slots = [Slot(i) for i in range(config.workers)]
        self._idle: deque[Worker] = deque()
        self._queue: deque[Ticket] = deque()  # waiting callers, FIFO
        self._bound: dict[str, Worker] = {}  # session -> worker (affinity: session)
        self._live: set[Worker] = set()  # spawned and not yet disposed
        self._adopted: dict[int, Worker] = {}  # slot index -> a held worker started for it (adopt)
        self._starting = 0
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

    @property
    def config(self) -> PoolConfig:
        return self._config

    def adopt(self, worker: Worker) -> None:
        """Before `start`: the worker of slot `worker.index`, already started held (Worker.spawn
        with hold) with this pool's config as far as the process is concerned; `start`
        releases it instead of starting another."""
        with self._cond:
            if self._started or self._closed or worker.index >= len(self._slots) or worker.index in self._adopted:
                raise ValueError(f"provider {self._config.provider_id}: cannot adopt a worker for slot {worker.index} now")
            self._adopted[worker.index] = worker

    def start(self) -> None:
        with self._cond:
            if self._started or self._closed:
                return
            self._started = True
            self._starting += len(self._slots)  # callers wait for these from now on
        # The processes start in this thread: a starting thread would first wait for the GIL
        # while the caller goes on (importing the run path, at the start of a run). Threads
        # then wait for the handshakes.
        for slot in self._slots:
            spawned = self._spawn(slot)
            with self._cond:
                self._starting -= 1
                if spawned is not None:
                    self._launch(slot, spawned=spawned)
                self._cond.notify_all()

    def _launch(self, slot: Slot, delay_s: float = 0.0, spawned: tuple[Worker, float] | None = None) -> None:
        """Start a worker for `slot` (or wait for the one `spawned`) on a background thread
        (caller holds the lock)."""
        self._starting += 1
        thread = threading.Thread(
            target=self._bring_up, args=(slot, delay_s, spawned), daemon=True,
            name=f"pool-{self._config.provider_id}-{slot.index}",
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _bring_up(self, slot: Slot, delay_s: float, spawned: tuple[Worker, float] | None = None) -> None:
        try:
            if spawned is not None:
                self._await_ready(slot, *spawned)
                return
            if delay_s:
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, timeout=delay_s)
            spawned = self._spawn(slot)
            if spawned is not None:
                self._await_ready(slot, *spawned)
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()

    def _spawn(self, slot: Slot) -> tuple[Worker, float] | None:
        """The slot's worker process, started (and when); None if the pool is closed or failed."""
        cfg = self._config
        began = time.perf_counter()
        with self._cond:
            if self._closed:
                return None
            worker: Worker | None = self._adopted.pop(slot.index, None)
        if worker is not None:  # started before the plan was loaded, held: now it imports the provider
            worker.config = cfg
            worker.release()
        try:
            if worker is None:
                worker = Worker(cfg, slot.index)  # its output files first: a full /tmp fails here
                worker.spawn()
        except OSError as exc:
            if worker is not None:
                worker.dispose(0)
            interpreter = cfg.interpreter or "python"
            self._fail(CallError(ErrorKind.IMPORT, f"provider {cfg.provider_id} failed to import: cannot start {interpreter!r}: {exc}"))
            return None
        with self._cond:
            closed = self._closed
            if not closed:
                slot.worker = worker
                self._live.add(worker)
        if closed:
            worker.dispose(0)
            return None
        return worker, began

    def _await_ready(self, slot: Slot, worker: Worker, began: float) -> None:
        cfg = self._config
        reply = worker.wait_ready(cfg.startup_timeout_s)
        if reply.outcome is Outcome.OK and reply.name == protocol.READY:
            with self._cond:
                if slot.cold_start_ms is None:  # a worker started held: its boot, then its import
                    slot.cold_start_ms = (time.perf_counter() - began + worker.held_s) * 1000
                if not self._closed:
                    worker.idle_since = time.monotonic()
                    self._idle.append(worker)
                    self._cond.notify_all()
                    return
            self._dispose(worker)
            return
        worker.kill_tree(self._grace_s)
        _, stderr = worker.output()
        self._dispose(worker)
        error = startup_error(cfg, worker, reply, stderr)
        died = reply.outcome is not Outcome.TIMEOUT and not (reply.outcome is Outcome.OK and reply.name == protocol.IMPORT_ERROR)
        if died:  # possibly transient (OOM killer, a signal): retry within the restart budget
            self._start_failed(slot, f"died before ready: {short_exit(worker.returncode)}", error)
        else:
            self._fail(error)

    def _start_failed(self, slot: Slot, reason: str, error: CallError) -> None:
        with self._cond:
            if self._closed or self._failed is not None:
                return
            slot.failed_starts += 1
            if slot.failed_starts > self._max_restarts:
                tries = slot.failed_starts
                self._failed = CallError(error.type, f"{error.message}; gave up after {tries} failed starts in a row "
                                         f"(max_restarts {self._max_restarts})", error.traceback)
                self._cond.notify_all()
                return
            slot.restarts += 1
            slot.reasons.append(reason)
            self._launch(slot, delay_s=min(1.0, 0.05 * slot.failed_starts))

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

    def _unbind(self, worker: Worker) -> None:
        """Sessions stay with a worker only while it lives (caller holds the lock)."""
        for session in [s for s, w in self._bound.items() if w is worker]:
            del self._bound[session]

    # -- calls ------------------------------------------------------------------------------

    def _acquire(self, session: str | None, deadline: float | None) -> Worker | CallError:
        with self._cond:
            session = session if self._config.affinity == "session" else None
            if session is None and self._idle and not self._queue and not self._closed and self._failed is None:
                return self._idle.popleft()  # the common case: nobody waiting, a worker free
            ticket = Ticket(session)
            self._queue.append(ticket)
            try:
                while True:
                    if self._closed:
                        return CallError(ErrorKind.POOL_CLOSED, f"provider {self._config.provider_id}: the pool is closed")
                    if self._failed is not None:
                        return self._failed
                    worker = pick(ticket, self._queue, self._idle, self._bound, self._starting)
                    if worker is not None:
                        self._idle.remove(worker)
                        if ticket.session is not None:
                            self._bound[ticket.session] = worker
                        return worker
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0 and self._starting == 0:
                        return self._busy_error(ticket)
                    # while workers are still starting, their startup timeout bounds the wait
                    self._cond.wait(remaining if remaining is not None and remaining > 0 else None)
            finally:
                self._queue.remove(ticket)
                if self._idle and self._queue:
                    self._cond.notify_all()

    def _busy_error(self, ticket: Ticket) -> CallError:
        cfg = self._config
        waited = f"{cfg.queue_timeout_s:g}s"
        bound = self._bound.get(ticket.session) if ticket.session is not None else None
        if bound is not None:
            return CallError(ErrorKind.POOL_BUSY, f"pool busy: session {ticket.session!r}'s worker (pid {bound.pid}) "
                                         f"was not free within {waited}")
        return CallError(ErrorKind.POOL_BUSY, f"pool busy: no worker free within {waited} "
                                     f"({cfg.workers} worker{'s' if cfg.workers != 1 else ''}, all busy)")

    def _checked_out(self, request: CallRequest) -> Worker | CallError:
        """A free worker that is alive and answering; dead idle ones are replaced on the way."""
        qt = self._config.queue_timeout_s
        deadline = None if qt is None else time.monotonic() + qt
        while True:
            got = self._acquire(request.session, deadline)
            if isinstance(got, CallError):
                return got
            problem = got.idle_problem()
            if problem is None and time.monotonic() - got.idle_since >= self._ping_idle_s:
                if not got.ping(min(PING_TIMEOUT_S, self._config.startup_timeout_s)):
                    problem = "no answer to a liveness ping"
            if problem is None:
                return got
            self._retire_idle(got, problem)

    def _retire_idle(self, worker: Worker, problem: str) -> None:
        worker.kill_tree(self._grace_s)
        reason = f"{problem}: {short_exit(worker.returncode)}" if problem.startswith("died") else problem
        slot = self._slots[worker.index]
        with self._cond:
            self._unbind(worker)
            slot.worker = None
        self._dispose(worker)
        if worker.calls == 0:  # never served a call: it counts against the restart budget
            error = CallError(ErrorKind.WORKER_CRASHED, f"provider {self._config.provider_id}: worker pid {worker.pid} {reason}")
            self._start_failed(slot, reason, error)
            return
        with self._cond:
            if not self._closed and self._failed is None:
                slot.restarts += 1
                slot.reasons.append(reason)
                self._launch(slot)

    def call(self, request: CallRequest) -> CallOutcome:
        if not self._started:
            self.start()
        # No worker free (one starting, or all busy): what was handed over to this wait runs now.
        handed_over_s = while_waiting.run_pending() if not self._idle and while_waiting.pending() else 0.0
        got = self._checked_out(request)
        if isinstance(got, CallError):
            return CallOutcome(result=None, error=got, duration_ms=0.0, worker=None)
        worker = got
        if handed_over_s:  # the worker became free while that work ran: the call started late
            while_waiting.delayed(min(handed_over_s, max(0.0, time.monotonic() - worker.idle_since)))
        slot = self._slots[worker.index]
        cfg = self._config
        began = time.perf_counter()
        if cfg.config or request.timeout_s is None:
            reply, timeout_s = send_call(worker, cfg, request)
        else:  # what send_call does, for a call with its timeout and no provider config to add
            timeout_s = request.timeout_s
            reply = worker.call(request.prompt, request.options, request.context, timeout_s, request.marker,
                                request.case_id)
        duration_ms = (time.perf_counter() - began - reply.late_s) * 1000
        info = WorkerInfo(worker.pid, worker.index, worker.calls, slot.restarts)  # by position
        if reply.outcome is Outcome.OK and reply.name in _ANSWERS:  # returned.answered
            stdout, stderr = worker.output()
            self._after_call(worker, slot, duration_ms)
            payload = reply.payload
            answer = payload.get("result") if reply.name == protocol.RESULT and type(payload) is dict else None
            if type(answer) is dict and "output" in answer and "notes" not in payload:
                return CallOutcome(answer, None, duration_ms, info, stdout, stderr, ())  # what unpack says of it
            result, error, notes = unpack(reply, cfg.function)
            return CallOutcome(result, error, duration_ms, info, stdout, stderr, notes)
        error, stdout, stderr = self._replace(worker, slot, reply, timeout_s)
        return CallOutcome(None, error, (time.perf_counter() - began) * 1000, info, stdout, stderr)

    def _after_call(self, worker: Worker, slot: Slot, duration_ms: float) -> None:
        """Back to the idle queue, or recycled (gracefully, between calls) when it has done its share."""
        cfg = self._config
        reason = None
        if cfg.max_calls is not None and worker.calls >= cfg.max_calls:
            reason = f"recycled: max_calls {cfg.max_calls}"
        now = time.monotonic()
        if cfg.max_rss_bytes is not None or now - worker.rss_sampled_at >= RSS_SAMPLE_S:
            worker.rss_sampled_at = now
            rss = worker.rss_bytes()
            if rss is not None:
                with self._cond:
                    slot.peak_rss_bytes = max(slot.peak_rss_bytes or 0, rss)
                if reason is None and cfg.max_rss_bytes is not None and rss > cfg.max_rss_bytes:
                    reason = f"recycled: rss {format_bytes(rss)} > max_rss {format_bytes(cfg.max_rss_bytes)}"
        with self._cond:
            slot.served(duration_ms)
            closed = self._closed
            if not closed and reason is None:
                worker.idle_since = now
                self._idle.append(worker)
                if self._queue:  # a caller waits for a worker (see _acquire): no one else waits for this
                    self._cond.notify_all()
                return
            self._unbind(worker)
            if not closed:
                slot.worker = None
                slot.restarts += 1
                slot.reasons.append(reason or "")
                self._launch(slot)
        if not closed:
            worker.stop()
            worker.wait_exit(self._grace_s)
        self._dispose(worker)

    def _replace(self, worker: Worker, slot: Slot, reply: Reply, timeout_s: float) -> tuple[CallError, str, str]:
        with self._cond:
            slot.calls += 1
            slot.worker = None
            self._unbind(worker)
            replace = not self._closed and self._failed is None
            if replace:  # before the old tree is killed: the grace period overlaps the start
                slot.restarts += 1
                self._launch(slot)
        worker.kill_tree(self._grace_s)
        stdout, stderr = worker.output()
        self._dispose(worker)
        detail = reply.detail or f"unexpected message {reply.name!r}"
        error = call_failure(worker, reply, timeout_s, f"{detail}; it and its process tree were killed")
        reason = ("timeout" if reply.outcome is Outcome.TIMEOUT else f"crashed: {short_exit(worker.returncode)}"
                  if reply.outcome is Outcome.DIED else "protocol error")
        with self._cond:
            if self._closed and not replace:
                error = CallError(ErrorKind.POOL_CLOSED, f"provider {self._config.provider_id}: the pool was closed during the call")
            if replace:
                slot.reasons.append(reason)
        return error, stdout, stderr

    # -- introspection and shutdown ---------------------------------------------------------

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in self._live if w.pid is not None and w.returncode is None)

    def stats(self) -> list[WorkerStatus]:
        with self._cond:
            current = [(s, s.worker) for s in self._slots]
        for slot, worker in current:  # a last sample, so short runs still show a peak
            rss = worker.rss_bytes() if worker is not None else None
            if rss is not None:
                with self._cond:
                    slot.peak_rss_bytes = max(slot.peak_rss_bytes or 0, rss)
        with self._cond:
            return [s.status(self._config.provider_id) for s in self._slots]

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            everyone = list(self._live)
            held = list(self._adopted.values())  # never released: no provider code ran in them
            self._adopted.clear()
            self._cond.notify_all()
        for worker in held:
            worker.dispose(0)
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
