"""Stopping a run: SIGINT, SIGTERM, SIGHUP, SIGQUIT (SIGUSR1/2 too), or the run's own `--timeout`.

All of them stop the run the same way: `stop` is set (scheduling ends, unfinished cases become
interrupted), every process tree is killed, the reports are still written, and the exit code
says why (128 + N for signal N, 124 for the deadline; the signal wins when both happen). A
second signal kills at once, without the grace period, and the reports are still written.

The signals reach a watcher thread through a pipe, as bytes that Python's C-level handler writes
(`signal.set_wakeup_fd`) in whichever thread the kernel delivered the signal to; the watcher does
the work: `stop.set()` and `kill_all`. Python-level handlers run only in the main thread, and a
signal delivered to another thread does not wake a main thread blocked on a lock (waiting for
a `parallel` step's sub-steps, say): a run relying on its handler could hang there for as long
as the calls it waited for.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from orchestrator.cli import early_signals
from orchestrator.procs.tree import KILL_GRACE_S, kill_all

STOP_SIGNALS = early_signals.HELD  # SIGINT, SIGTERM, SIGHUP, SIGQUIT, and SIGUSR1/2 (default: die)
TIMEOUT_EXIT = 124  # as timeout(1)
_STOP_NUMBERS = frozenset(int(sig) for sig in STOP_SIGNALS)


class StopEvent(threading.Event):
    """`stop`, plus why it was set: the first signal's number, or the deadline."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None
        self.deadline_passed = False
        self.timeout_s: float | None = None


class Interrupts:
    def __init__(self, timeout_s: float | None = None) -> None:
        self.stop = StopEvent()
        self.stop.timeout_s = timeout_s
        self._timeout_s = timeout_s
        self._received: list[int] = []  # appended by the handler (list.append takes no lock)
        self._handled = 0
        self._previous: dict[int, Any] = {}
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._closed = False
        self._previous_wakeup_fd: int | None = None

    def install(self) -> Interrupts:
        try:  # the signal numbers come through the pipe, written by the C-level handler
            self._previous_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        except ValueError:  # not the main thread (called in-process): the handler writes them
            self._previous_wakeup_fd = None
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        early = early_signals.take()  # arrived while the CLI was starting
        if early:
            self._received.extend(early)
            self._wake()
        threading.Thread(target=self._watch, name="interrupts", daemon=True).start()
        if self._timeout_s is not None:
            threading.Thread(target=self._deadline, args=(self._timeout_s,), name="deadline", daemon=True).start()
        return self

    def restore(self) -> None:
        if self._previous_wakeup_fd is not None:  # before the watcher closes the pipe
            signal.set_wakeup_fd(self._previous_wakeup_fd)
            self._previous_wakeup_fd = None
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        # Under `python -m orchestrator` that puts back early_signals' recorder, so a signal
        # after the run (the second of two quick Ctrl+C) cannot change how it ends.
        self._previous.clear()
        self._closed = True
        self._wake()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._previous_wakeup_fd is None:  # else the signal's byte is in the pipe already
            self._received.append(signum)
            self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._write_fd, b"x")
        except OSError:  # pipe full: the watcher has bytes to read already
            pass

    def _watch(self) -> None:
        try:
            self._watch_pipe()
        finally:  # restore() has put the old handlers back: nothing writes to the pipe any more
            os.close(self._read_fd)
            os.close(self._write_fd)

    def _watch_pipe(self) -> None:
        while not self._closed:
            try:
                data = os.read(self._read_fd, 64)
            except OSError:
                return
            if self._previous_wakeup_fd is not None:
                self._received.extend(b for b in data if b in _STOP_NUMBERS)  # not the b"x" of _wake
            while self._handled < len(self._received):
                signum = self._received[self._handled]
                self._handled += 1
                if self.stop.signum is None:
                    self.stop.signum = signum
                first = self._handled == 1 and not self.stop.deadline_passed
                self._stop(grace_s=KILL_GRACE_S if first else 0.0)

    def _deadline(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._closed and not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop.deadline_passed = True
                self._stop(grace_s=KILL_GRACE_S)
                return
            self.stop.wait(min(left, 0.5))

    def _stop(self, grace_s: float) -> None:
        self.stop.set()
        # on its own thread: a later signal must be able to speed up a kill still in its grace
        threading.Thread(target=kill_all, kwargs={"grace_s": grace_s}, daemon=True).start()


def stop_exit_code(stop: threading.Event) -> int | None:
    """The exit code a stopped run ends with (None when nothing stopped it)."""
    signum = getattr(stop, "signum", None)
    if signum is not None:
        return 128 + int(signum)
    if getattr(stop, "deadline_passed", False):
        return TIMEOUT_EXIT
    return None
