"""Controller-side handle of one worker process.

The calling thread does the whole round trip itself: write the request, then poll the
response pipe (and the worker's pidfd, so a death is seen even if an escaped grandchild holds
the pipe) against the call's deadline. Nothing here runs per call but a few syscalls.

The worker's fds 1 and 2 are anonymous files (procs.capture, bounded on disk and in memory):
what the provider and its children print lands there, and the controller reads what each call
appended.
"""
from __future__ import annotations

import enum
import os
import select
import sys
import subprocess
import threading
import time
from typing import Any, Iterable, Mapping

from orchestrator.errors import ErrorKind
from orchestrator.procs import markers, protocol, spin, tree, while_waiting
from orchestrator.procs.api import CallError, PoolConfig
from orchestrator.procs.capture import Capture
from orchestrator.procs.exits import exit_description

WORKER_MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker_main.py")
HOLD_VAR = "ORCHESTRATOR_WORKER_HOLD"  # see worker_main.py: the provider waits for `go` (release)
OUTPUT_KEEP = 512 * 1024  # per call and stream: head and tail each
_READ_CHUNK = 1 << 16


class Outcome(enum.Enum):
    OK = "ok"  # the function returned, or raised (the worker is fine either way)
    TIMEOUT = "timeout"
    DIED = "died"
    PROTOCOL = "protocol"  # the worker sent something that is not a message


class Reply:
    """One answer (or the lack of one). A plain slotted class, not a @mutable_record: one is made
    per call, and a record's __init__ sets each field through a descriptor call."""

    __slots__ = ("outcome", "name", "payload", "detail", "late_s")

    def __init__(self, outcome: Outcome, name: str = "", payload: Any = None, detail: str = "",
                 late_s: float = 0.0) -> None:
        self.outcome = outcome
        self.name = name
        self.payload = payload
        self.detail = detail
        self.late_s = late_s  # how long the answer waited in the pipe for work handed over (procs/while_waiting)

    def __repr__(self) -> str:
        return (f"Reply(outcome={self.outcome!r}, name={self.name!r}, payload={self.payload!r}, "
                f"detail={self.detail!r}, late_s={self.late_s!r})")


class Worker:
    """One worker process. Not thread-safe: the pool lends it to one caller at a time."""

    def __init__(self, config: PoolConfig, index: int) -> None:
        self.config = config
        self.index = index
        self.calls = 0
        self.pid: int | None = None
        self.returncode: int | None = None
        self._stdout = Capture(f"{config.provider_id}-{index}-out", head=OUTPUT_KEEP, tail=OUTPUT_KEEP)
        self._stderr = Capture(f"{config.provider_id}-{index}-err", head=OUTPUT_KEEP, tail=OUTPUT_KEEP)
        self._lines = protocol.LineBuffer()
        self._to_worker = -1
        self._from_worker = -1
        self._pidfd = -1
        self._poller = select.poll()
        self._proc: subprocess.Popen[bytes] | None = None
        self._kill_lock = threading.Lock()
        self._killed = False
        self.token = markers.new_worker_token()  # names this process in the markers of what it starts
        self.idle_since = 0.0  # time.monotonic() when it last became free (set by the pool)
        self.rss_sampled_at = 0.0
        self._quick = True  # the last answer came within config.spin_s
        self._marker_parts: tuple[str, str | None, str] | None = None  # see _made_marker_parts
        self.spawned_at = 0.0  # time.monotonic() at the spawn
        self.held_s = 0.0  # a worker started held: how long it took to boot (part of its cold start)

    # -- life cycle -------------------------------------------------------------------------

    def spawn(self, hold: bool = False) -> None:
        """Start the process (raises OSError if the interpreter cannot be started). `hold`: it
        boots, then waits for `release` before it imports the provider."""
        cfg = self.config
        child_in, self._to_worker = os.pipe()
        self._from_worker, child_out = os.pipe()
        env = dict(os.environ)
        env.update(cfg.env)
        env = markers.marked_env(env, self.marker_value("-"))
        # backslashreplace: printing a lone surrogate must not make the call fail
        env["PYTHONIOENCODING"] = "utf-8:backslashreplace"
        if hold:
            env[HOLD_VAR] = "1"
        self.spawned_at = time.monotonic()
        argv = [cfg.interpreter or sys.executable, WORKER_MAIN, str(child_in), str(child_out), cfg.python_file, cfg.function]
        try:
            proc = tree.spawn(
                argv, cwd=cfg.cwd, env=env, pass_fds=(child_in, child_out),
                stdout=self._stdout.write_fd, stderr=self._stderr.write_fd,
            )
        finally:
            os.close(child_in)
            os.close(child_out)
            self._stdout.close_write()
            self._stderr.close_write()
        self._proc = proc
        self.pid = proc.pid
        os.set_blocking(self._to_worker, False)  # a hung worker must not block our writes
        self._poller.register(self._from_worker, select.POLLIN)
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(proc.pid)
                self._poller.register(self._pidfd, select.POLLIN)
            except OSError:
                self._pidfd = -1

    def release(self) -> None:
        """A worker started held: import the provider now (`wait_ready` then gives the answer)."""
        try:
            os.write(self._to_worker, protocol.encode(protocol.GO, {}))
        except OSError:
            pass  # it died meanwhile: wait_ready tells

    def alive(self) -> bool:
        """Not exited yet (as far as its pidfd tells; True where there is none)."""
        return self._pidfd < 0 or not select.select([self._pidfd], [], [], 0)[0]

    def marker_value(self, case: str) -> str:
        return markers.worker_value(self.config.plan, case, self.config.provider_id, self.token)

    def _made_marker_parts(self) -> tuple[str, str | None, str]:
        """The marker variable's name, and its value (marker_value) around the case's token:
        made once per worker (None, None: a name holds the probe, so the value each call)."""
        probe = "\0case\0"
        value = self.marker_value(probe)
        plan_part, _, worker_part = value.partition(probe)
        self._marker_parts = (markers.run_var(), plan_part if value.count(probe) == 1 else None, worker_part)
        return self._marker_parts

    def wait_ready(self, timeout_s: float) -> Reply:
        """The handshake: `ready`, `import_error`, or a timeout/death before either."""
        reply = self._receive(time.monotonic() + timeout_s)
        if reply.outcome is Outcome.OK and reply.name == protocol.READY:
            self._stdout.start()  # what the import printed belongs to no call
            self._stderr.start()
            held_at = reply.payload.get("held_at") if isinstance(reply.payload, dict) else None
            if isinstance(held_at, float):
                self.held_s = max(0.0, held_at - self.spawned_at)
        return reply

    def stop(self) -> None:
        """Ask politely; `kill_tree` afterwards does the rest."""
        try:
            os.write(self._to_worker, protocol.encode(protocol.STOP, {}))
        except OSError:
            pass

    def wait_exit(self, timeout_s: float) -> bool:
        """Wait for the process to exit without reaping it (so its tree can still be found)."""
        if self._pidfd < 0:
            return False
        return bool(select.select([self._pidfd], [], [], timeout_s)[0])

    def kill_tree(self, grace_s: float) -> None:
        """Kill the whole process tree and reap; idempotent, callable from any thread."""
        kill_workers([self], grace_s)

    def dispose(self, grace_s: float) -> None:
        """Kill the tree and release every fd; only the thread that holds the worker."""
        self.kill_tree(grace_s)
        for fd in (self._to_worker, self._from_worker, self._pidfd):
            if fd >= 0:
                os.close(fd)
        self._to_worker = self._from_worker = self._pidfd = -1
        self._stdout.close()
        self._stderr.close()

    # -- calls ------------------------------------------------------------------------------

    def call(self, prompt: Any, options: Mapping[str, Any], context: Mapping[str, Any], timeout_s: float,
             marker: str | None = None, case_id: str | None = None) -> Reply:
        deadline = time.monotonic() + timeout_s
        # No fresh marks here (two fstat calls per call): each call's output starts where the
        # previous call's ended, so stray writes between calls show up in the next call.
        self.calls += 1
        call_id = self.calls
        message = {"prompt": prompt, "options": options, "context": context, "id": call_id}
        spin_s = given_spin_s = self.config.spin_s
        if spin_s and spin.no_one_waits_for_a_core():
            message["spin_us"] = spin.SPIN_US  # the worker polls for our next call as long after answering this one
            spin_s = spin_s if self._quick else 0.0
        else:
            spin_s = 0.0
        if marker is not None:  # what the call starts is the calling case's (set around the call)
            run_var, plan_part, worker_part = self._marker_parts or self._made_marker_parts()
            value = self.marker_value(marker) if plan_part is None else plan_part + marker + worker_part
            message["env"] = {run_var: value, markers.CASE_ID_VAR: case_id or ""}
        data = protocol.encode(protocol.CALL, message)
        try:
            written = os.write(self._to_worker, data)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            return Reply(Outcome.DIED, detail=str(exc))
        if written < len(data):
            failed = self._write_rest(memoryview(data)[written:], deadline)
            if failed is not None:
                return failed
        handed_over_s = while_waiting.run_pending() if while_waiting.pending() else 0.0
        deadline += handed_over_s  # the call's time is its own: our reporting meanwhile is not in it
        if given_spin_s:
            sent = time.perf_counter()
            reply = self._receive(deadline, spin_s)
            # Poll for the next answer only while answers come within the spin: a slow provider,
            # or a machine too busy to give the worker a core, gets the plain wait.
            self._quick = time.perf_counter() - sent <= given_spin_s
        else:
            reply = self._receive(deadline)
        if handed_over_s and isinstance(reply.payload, dict):
            answered_at = reply.payload.get("at")  # the worker's time.monotonic() as it answered
            if isinstance(answered_at, float):
                reply.late_s = min(handed_over_s, max(0.0, time.monotonic() - answered_at))
                while_waiting.delayed(reply.late_s)
        if reply.outcome is Outcome.OK and isinstance(reply.payload, dict) and reply.payload.get("id") != call_id:
            return Reply(Outcome.PROTOCOL, detail=f"answer for call #{reply.payload.get('id')} "
                                                  f"arrived for call #{call_id}")
        return reply

    def idle_problem(self) -> str | None:
        """Without blocking: why this idle worker cannot take a call (dead, or talking out of turn)."""
        events = self._poller.poll(0)
        if not events:
            return None
        if any(fd == self._pidfd for fd, _ in events):
            return "died while idle"
        return "died while idle" if any(ev & (select.POLLHUP | select.POLLERR) for _, ev in events) \
            else "wrote to the protocol pipe while idle"

    def ping(self, timeout_s: float) -> bool:
        """A liveness round trip: does the worker still answer at all?"""
        try:
            os.write(self._to_worker, protocol.encode(protocol.PING, {"n": self.calls}))
        except OSError:
            return False
        reply = self._receive(time.monotonic() + timeout_s)
        return reply.outcome is Outcome.OK and reply.name == protocol.PONG

    def rss_bytes(self) -> int | None:
        """Resident memory of the worker's whole process tree now (None if it is gone)."""
        if self.pid is None or self._killed:
            return None
        from orchestrator.procs.snapshot import tree_rss  # /proc reads: no psutil on a clean run

        return tree_rss(self.pid)

    def output(self) -> tuple[str, str]:
        """What fds 1 and 2 received since the previous call ended (or the handshake)."""
        return self._stdout.since_mark(), self._stderr.since_mark()

    def _write_rest(self, view: memoryview, deadline: float) -> Reply | None:
        out = select.poll()
        out.register(self._to_worker, select.POLLOUT)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply(Outcome.TIMEOUT)
            if not out.poll(remaining * 1000):
                continue
            try:
                view = view[os.write(self._to_worker, view):]
            except BlockingIOError:
                continue
            except OSError as exc:
                return Reply(Outcome.DIED, detail=str(exc))
        return None

    def _receive(self, deadline: float, spin_s: float = 0.0) -> Reply:
        lines = self._lines
        line = lines.pop_line()
        if line is None and spin_s:
            spin.poll_until_ready(self._poller, min(spin_s, deadline - time.monotonic()))
        while True:
            if line is not None:
                try:
                    name, payload = protocol.decode(line)
                except protocol.ProtocolError as exc:
                    return Reply(Outcome.PROTOCOL, detail=str(exc))
                return Reply(Outcome.OK, name, payload)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply(Outcome.TIMEOUT)
            events = self._poller.poll(remaining * 1000)
            pipe_ready = False
            for fd, _ in events:
                pipe_ready = pipe_ready or fd == self._from_worker
            if pipe_ready:
                chunk = os.read(self._from_worker, _READ_CHUNK)
                if not chunk:
                    return Reply(Outcome.DIED)
                line = lines.feed(chunk)
                if line is None:
                    line = lines.pop_line()
            elif events:  # only the pidfd: exited, and nothing more is in the pipe
                return Reply(Outcome.DIED)


def describe_death(worker: Worker, during: str) -> CallError:
    """After `kill`: the crash as a call error naming the exit code or signal."""
    code = worker.returncode
    how = exit_description(code) if code is not None else "exited"
    return CallError(ErrorKind.WORKER_CRASHED, f"worker pid {worker.pid} {how} {during}")


def kill_workers(workers: Iterable[Worker], grace_s: float) -> None:
    """Kill several workers' trees under one grace period; skips those already killed."""
    from orchestrator.procs.sweep import worker_leftovers  # not before the first spawn

    held = []
    try:
        for worker in workers:
            worker._kill_lock.acquire()
            held.append(worker)
        victims = [w for w in held if not w._killed and w._proc is not None]
        # what their calls started and left, in their trees or not: reported, killed with them
        extra = worker_leftovers([(w.config.provider_id, w.token, w.pid) for w in victims])
        tree.kill_trees([w._proc.pid for w in victims if w._proc is not None], grace_s, extra)
        for worker in held:
            worker._killed = True
            if worker._proc is not None:
                worker.returncode = worker._proc.returncode
    finally:
        for worker in held:
            worker._kill_lock.release()
