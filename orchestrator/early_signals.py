"""Signals that arrive while `orchestrator run` is still starting (imports, argument parsing),
before `Interrupts` is installed: held here and handed over, so that a stop signal at any
moment after the interpreter started still ends in reports and exit 128 + N.

Standard library only, imported first by `python -m orchestrator` (orchestrator/__main__.py).
"""
from __future__ import annotations

import signal
from types import FrameType

# the signals whose default action would end the run without reports (interrupts.STOP_SIGNALS)
HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)

_received: list[int] = []


def _record(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)


def hold() -> None:
    """Record stop signals instead of dying of them: `Interrupts` takes them over, and they are
    recorded again (and ignored) once it is uninstalled, until the process exits."""
    for sig in HELD:
        signal.signal(sig, _record)


def take() -> list[int]:
    """The signals held so far (the caller installs its own handlers right after)."""
    held = list(_received)
    _received.clear()
    return held


def ignore() -> None:
    """Ignore stop signals from now on (the process is about to exit): Python's shutdown puts
    back the default action of any signal with a Python handler, but leaves ignored ones be."""
    for sig in HELD:
        signal.signal(sig, signal.SIG_IGN)
