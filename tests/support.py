"""Helpers every test folder shares: poll a condition with a deadline, ask if a pid lives."""
from __future__ import annotations

import time
from typing import Callable

import psutil


def poll(condition: Callable[[], bool], within: float, every: float = 0.02) -> bool:
    """True as soon as `condition()` holds; False if it still does not after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
