"""How a process ended, in words: the one describer of return codes (negative: killed by a signal)."""
from __future__ import annotations

import signal


def signal_name(returncode: int) -> str | None:
    """'SIGSEGV' for -11, 'signal 99' for a signal Python does not name; None for a normal exit."""
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def exit_description(returncode: int) -> str:
    """'exited with code 3' / 'was killed by signal SIGSEGV (11)'."""
    name = signal_name(returncode)
    return f"exited with code {returncode}" if name is None else f"was killed by signal {name} ({-returncode})"


def short_exit(code: int | None) -> str:
    """'exit code 3' / 'signal SIGSEGV' / 'unknown exit' (None: the code was never seen)."""
    if code is None:
        return "unknown exit"
    name = signal_name(code)
    return f"exit code {code}" if name is None else f"signal {name}"
