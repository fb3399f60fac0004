"""The signals of procs/forked: `Stopped` (a stop signal while a forked child and its parent
work), the child's own handlers (not the parent's, nor its wakeup pipe), and PR_SET_PDEATHSIG
(a parent killed outright takes its child with it)."""
from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from functools import lru_cache
from types import FrameType
from typing import Any, Callable, Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
ALL_STOPS = {signal.SIGINT, *STOP_SIGNALS}


class Stopped(BaseException):
    """A stop signal arrived while `beside` ran: the command should end with 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Stop signals whose action is the default (to die: a forked child would be left behind,
    a half-written file too) raise `Stopped` while the block runs, in a child forked meanwhile
    as well; handlers someone installed stay. `beside` holds them so; a command may too."""
    previous: dict[int, Any] = {}
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def own_signals() -> None:
    """In the child: the parent's wakeup pipe is not its own (a signal byte written there would
    stop the parent's run), nor are handlers someone else installed in the parent."""
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:  # forked from a thread other than the main one: signals are not ours to set
        return
    for signum in signal.valid_signals():
        try:
            handler = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
        if callable(handler) and handler not in (_raise_stopped, signal.default_int_handler):
            signal.signal(signum, _raise_stopped if signum in ALL_STOPS else signal.SIG_DFL)


def end_with(parent: int) -> None:
    """A parent killed outright (SIGKILL) sends the child SIGTERM (Linux PR_SET_PDEATHSIG; the
    signal comes when the thread that forked ends, which is the process's main thread): no
    child works on for nobody."""
    prctl = pdeathsig()
    if prctl is None:
        return
    try:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        return
    if os.getppid() != parent:  # it died before the request took effect
        raise Stopped(signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


@lru_cache(maxsize=1)
def pdeathsig() -> Callable[..., int] | None:
    """libc's prctl, where there is one (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here: only a forked child needs it (`report` imports it in the child)

    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl
