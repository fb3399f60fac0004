"""SIGINT/SIGTERM for a run: the first stops it and kills every process tree; a second SIGINT exits.

Installed before plans are loaded, so that a Ctrl+C at any moment after start-up still ends in
reports (every case `interrupted`) and exit 130, never a traceback.
"""
from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from orchestrator.errors import ExitCode
from orchestrator.procs.tree import kill_all


class Interrupts:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self._count = 0
        self._previous: dict[int, Any] = {}

    def install(self) -> Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        if self._count > 1 and signum == signal.SIGINT:
            kill_all(grace_s=0.0)
            os._exit(ExitCode.INTERRUPTED)
        self.stop.set()
        # Killing waits out a grace period; never block (or take locks) inside the handler.
        threading.Thread(target=kill_all, kwargs={"grace_s": 0.5}, daemon=True).start()
