"""One piece of work in a forked child while the parent does another: two cores for two jobs
that only read what the process already holds (`orchestrator report`: a child makes the HTML's
heaviest parts while the parent writes JUnit and the rest of the page).

The child is a copy of the process at the fork: it needs nothing sent to it, and sends back
only the text its function returns (through a pipe). It ends with `os._exit`: the parent's
atexit handlers, buffered output and `finally` blocks are the parent's, never run twice.
Forking is refused (`can_fork` is False, `beside` returns None: do the work in turn) where
there is no fork, or where the process has another thread: a fork copies only the calling
thread, so a lock another thread holds would stay locked in the child for good. A caller whose
child touches nothing other threads use may fork beside them (`with_threads`: `run`'s final
write, beside its signal watcher and janitor threads); its child is given a deadline.

A stop signal (SIGTERM, SIGHUP, SIGQUIT) while both work raises `Stopped` in each of them, so
their `finally` blocks run (a half-written file is removed); Ctrl-C is Python's
KeyboardInterrupt as usual. The parent then stops the child (SIGTERM, then SIGKILL after the
kill grace) and reaps it before the exception goes on: no child outlives `beside`, and a parent
killed outright takes its child with it (PR_SET_PDEATHSIG). Handlers the parent's owner installed
(`run`'s Interrupts: they tell the parent's watcher thread, through the wakeup pipe the child
shares) are not the child's: there every stop signal raises `Stopped`, and the others do what
they do by default.
"""
from __future__ import annotations

import gc
import os
import select
import signal
import sys
import threading
import time
import warnings
from typing import Any, Callable, NamedTuple, TypeVar

from orchestrator.procs.exits import exit_description
from orchestrator.procs.fork_signals import ALL_STOPS as _ALL_STOPS
from orchestrator.procs.fork_signals import STOP_SIGNALS as STOP_SIGNALS
from orchestrator.procs.fork_signals import Stopped as Stopped
from orchestrator.procs.fork_signals import end_with as _end_with
from orchestrator.procs.fork_signals import own_signals as _own_signals
from orchestrator.procs.fork_signals import pdeathsig as _pdeathsig
from orchestrator.procs.fork_signals import stop_signals_raise as stop_signals_raise

T = TypeVar("T")

_FAILED = 1  # the child's exit code when its function raised


class ChildOutcome(NamedTuple):
    """What the child's function returned, or ("" and) why it did not: `failure` is "" when it
    returned, else a phrase such as "raised MemoryError: ..." or "was killed by signal SIGKILL (9)"."""

    text: str
    failure: str = ""


def can_fork() -> bool:
    """Whether forking is safe here: fork exists and this is the process's only thread."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1  # threads started without `threading` too
    except OSError:  # no /proc: what threading knows is all there is to know
        return True


def spare_core() -> bool:
    """Whether this process may run on more than one CPU (else a child only shares its core)."""
    from orchestrator.procs import cores

    return cores.usable() > 1


class Child:
    """The forked child as the parent sees it while both work: `outcome()` waits for it."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid = pid
        self._read_fd = read_fd
        self._outcome: ChildOutcome | None = None

    def outcome(self, within: float | None = None) -> ChildOutcome:
        """What the child's function returned, or why it did not; waits for the child to end
        (the first time: it is reaped then), for at most `within` seconds: a child still at
        work then is stopped (and reaped) and has failed."""
        if self._outcome is None:
            text = _read_all(self._read_fd, within)
            if text is None:
                _stop(self.pid)
                self._outcome = ChildOutcome("", f"did not end within {within:.1f} s")
            else:
                self._outcome = _outcome(text, _reap(self.pid))
        return self._outcome


def beside(child: Callable[[], str], parent: Callable[[Child], T], *,
           with_threads: bool = False) -> tuple[T, ChildOutcome] | None:
    """`child()` in a forked process while `parent(the child)` runs here (it may wait for the
    child's outcome when it needs it); None (neither run) when the process cannot fork safely
    (see `can_fork`) or the fork itself fails.

    `with_threads`: fork even though other threads run. The caller vouches that `child()` takes
    no lock another thread may hold at the fork: it imports nothing, prints nothing, logs
    nothing, and reads only objects no other thread changes. What it cannot avoid is safe: the
    interpreter re-makes its own locks in the child (the GIL, the import lock, threading's),
    and the C library takes malloc's across the fork. The parent should give such a child a
    deadline (`Child.outcome(within=...)`): a lock missed all the same then costs time, not a hang.

    Everything alive at the fork is frozen out of the collector's sight first (`gc.freeze`, as
    CPython recommends before a fork): a collection in either process would otherwise write to
    every object's header and copy every page the two still share."""
    if not hasattr(os, "fork") or not (with_threads or can_fork()):
        return None
    if with_threads:
        _pdeathsig()  # resolved here: in the child, dlopen's lock could be one another thread held
    sys.stdout.flush()  # what is buffered now is the parent's to write, not both's
    sys.stderr.flush()
    parent_pid = os.getpid()
    with stop_signals_raise():
        gc.freeze()
        read_fd, write_fd = os.pipe()
        # Until each process is inside its own `try`, a signal waits: a Stopped raised in the
        # child before that would run the parent's code in it.
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, _ALL_STOPS)
        try:
            pid = _fork(with_threads)
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:
            _child_main(child, read_fd, write_fd, unblocked, parent_pid)  # never returns
        handle = Child(pid, read_fd)
        try:
            os.close(write_fd)  # the child's end: its exit is the pipe's end of file
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
            mine = parent(handle)
            outcome = handle.outcome()
        except BaseException:
            if handle._outcome is None:  # not reaped yet
                _stop(pid)
            raise
        finally:
            os.close(read_fd)
    return mine, outcome


def _fork(with_threads: bool) -> int:
    if not with_threads:
        return os.fork()
    with warnings.catch_warnings():  # 3.12+ warns of a fork beside threads: what the caller vouched for
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _child_main(work: Callable[[], str], read_fd: int, write_fd: int, unblocked: Any, parent: int) -> None:
    code = _FAILED
    try:
        try:
            os.close(read_fd)
            _own_signals()
            _end_with(parent)
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
            text = "\0" + work()  # the mark of a result returned
            code = 0
        except Stopped as e:
            text, code = "", 128 + e.signum
        except KeyboardInterrupt:
            text, code = "", 128 + signal.SIGINT
        except BaseException as e:  # noqa: BLE001 - whatever it is, the parent must hear of it
            detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
            text = f"raised {type(e).__name__}" + (f": {detail}" if detail else "")
        data = text.encode("utf-8", "backslashreplace")
        while data:
            data = data[os.write(write_fd, data):]
    except BaseException:  # noqa: BLE001 - a signal while sending: the exit code still tells
        pass
    finally:
        os._exit(code)


def _read_all(fd: int, within: float | None = None) -> bytes | None:
    """Everything until the end of file; None when `within` seconds pass before it."""
    deadline = None if within is None else time.monotonic() + within
    chunks: list[bytes] = []
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not _readable(fd, left):
                return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _readable(fd: int, within: float) -> bool:
    poll = select.poll()  # not select.select: a descriptor above 1023 is out of its reach
    poll.register(fd, select.POLLIN | select.POLLHUP)
    return bool(poll.poll(max(1, int(within * 1000))))


def _reap(pid: int) -> int:
    """The child's return code as subprocess gives it (negative: killed by that signal)."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _outcome(raw: bytes, code: int) -> ChildOutcome:
    text = raw.decode("utf-8", "replace")
    if code == 0 and text.startswith("\0"):
        return ChildOutcome(text[1:])
    if code == _FAILED and text:
        return ChildOutcome("", text)
    return ChildOutcome("", exit_description(code) if code else "exited without its result")


def _stop(pid: int) -> None:
    """End the child (on SIGTERM it removes what it was writing) and reap it. Further stop
    signals wait meanwhile: the exception already on its way says how the command ends."""
    from orchestrator.procs.tree import KILL_GRACE_S  # here: psutil, only when a child is stopped

    masked = signal.pthread_sigmask(signal.SIG_BLOCK, _ALL_STOPS)
    try:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + KILL_GRACE_S
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.005)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)


__all__ = ["STOP_SIGNALS", "Child", "ChildOutcome", "Stopped", "beside", "can_fork", "spare_core", "stop_signals_raise"]
