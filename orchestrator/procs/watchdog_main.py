"""The run's watchdog: `python -S watchdog_main.py VAR`, started with the run, stdlib only.

Its stdin is a pipe whose only write end the orchestrator holds; the orchestrator also writes
`+PID` / `-PID` lines there as it registers and forgets process roots. When the pipe reaches
EOF the orchestrator is gone (normal exit, crash, SIGKILL, the OOM killer): every process whose
environment carries VAR, and every process in the session of a root still registered, is
SIGKILLed, sweeping again until nothing is found. No PR_SET_PDEATHSIG: that fires when the
*thread* that started a child exits, and the orchestrator starts processes from pool threads.
"""
from __future__ import annotations

import os
import signal
import sys
import time

NAME = "orch-watchdog"  # keep in sync with markers.WATCHDOG_NAME
SWEEP_FOR_S = 5.0
QUIET_SWEEPS = 3


def _read_until_eof(sessions: set[int]) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(0, 65536)
        except InterruptedError:
            continue
        except OSError:
            return
        if not chunk:
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line[:1] == b"+" and line[1:].isdigit():
                sessions.add(int(line[1:]))
            elif line[:1] == b"-" and line[1:].isdigit():
                sessions.discard(int(line[1:]))


def _session_of(pid: int) -> int:
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            stat = handle.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        return -1 if fields[0] == b"Z" else int(fields[3])  # a zombie is dead already
    except (OSError, ValueError, IndexError):
        return -1


def _sweep(key: bytes, sessions: set[int]) -> int:
    me = os.getpid()
    killed = 0
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return 0
    for pid in pids:
        if pid == me:
            continue
        try:
            with open("/proc/%d/environ" % pid, "rb") as handle:
                environ = handle.read()
        except OSError:
            environ = b""
        ours = (b"\0" + key) in (b"\0" + environ) or (sessions and _session_of(pid) in sessions)
        if ours:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def main(argv: list[str]) -> int:
    try:  # its name stays readable while it exits (its environment does not): never anyone's leak
        with open("/proc/self/comm", "w") as comm:
            comm.write(NAME)
    except OSError:
        pass
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # a Ctrl+C or closed terminal stops the run, not us
    key = argv[1].encode() + b"="
    sessions: set[int] = set()
    _read_until_eof(sessions)
    deadline = time.monotonic() + SWEEP_FOR_S
    quiet = 0
    while quiet < QUIET_SWEEPS and time.monotonic() < deadline:
        quiet = 0 if _sweep(key, sessions) else quiet + 1
        time.sleep(0.02)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
