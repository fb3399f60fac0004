"""The orchestrator as child subreaper (Linux `prctl(PR_SET_CHILD_SUBREAPER)`): processes
orphaned by what a run started re-parent to us instead of init, so the leak check (leaks.py)
can still find and kill them. Its own module, without psutil: a run becomes the subreaper
before it starts its first provider worker, and psutil (~10 ms to import) need not delay that.
"""
from __future__ import annotations

import sys
import threading

PR_SET_CHILD_SUBREAPER = 36

_lock = threading.Lock()
_subreaper = False


def become_subreaper() -> bool:
    """Make orphans of our descendants re-parent to this process (Linux); True if in effect."""
    global _subreaper
    with _lock:
        if _subreaper:
            return True
        if not sys.platform.startswith("linux"):
            return False
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _subreaper = False
        return _subreaper
