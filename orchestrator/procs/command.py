"""Run one process to completion (the `exec` step): request in, outcome out; never raises for
anything the process does.

Output goes to files (procs.capture: bounded on disk and in memory), not pipes: a daemon that
inherits stdout would keep a pipe open forever and we would hang waiting for EOF; a file is
simply read once the root has exited.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import field, replace
from typing import IO, Any, Mapping, Sequence

from orchestrator.errors import ErrorKind
from orchestrator.procs import memory, proctable, tree
from orchestrator.procs.capture import Capture
from orchestrator.procs.exits import signal_name
from orchestrator.records import record

_POLL_S = 0.02


class CommandError(ValueError):
    """The step asks for something that cannot be run (no command, unknown language)."""


def argv_for(command: Any = None, *, shell: bool = False, code: Any = None,
             language: Any = None) -> list[str]:
    """The argv for `command` (list or string), `shell: true` or `code` + `language: python`."""
    if code is not None:
        if command is not None:
            raise CommandError("give either 'command' or 'code', not both")
        lang = str(language or "python").lower()
        if lang not in ("python", "python3", "py"):
            raise CommandError(f"unsupported language '{language}': only 'python' can run 'code'")
        return [sys.executable, "-c", str(code)]
    if command is None or command == "" or command == []:
        raise CommandError("no 'command' (or 'code') to run")
    if shell:
        text = command if isinstance(command, str) else shlex.join(str(c) for c in command)
        return ["/bin/sh", "-c", text]
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


@record
class CommandRequest:
    argv: Sequence[str]
    cwd: str
    env: Mapping[str, str]  # the complete environment
    stdin: str | None = None
    timeout_s: float | None = None


@record
class CommandOutcome:
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None  # None when killed by a signal or never started
    signal: str | None = None  # "SIGKILL" ...
    timed_out: bool = False
    interrupted: bool = False
    duration_ms: float = 0.0
    pid: int | None = None
    error_type: str | None = None  # the process could not run: "CommandNotFound", "TimeoutError" ...
    error_message: str = ""
    descendants: tuple[int, ...] = field(default=())  # seen while it ran, for the leak check


def stdin_file(text: str | None) -> IO[bytes] | None:
    """A temp file holding `text`, rewound, to use as stdin (no pipe to keep fed)."""
    if text is None:
        return None
    handle = tempfile.TemporaryFile()
    handle.write(text.encode("utf-8"))
    handle.seek(0)
    return handle


def run_command(request: CommandRequest, stop: threading.Event | None = None) -> CommandOutcome:
    started = time.monotonic()
    stdin = stdin_file(request.stdin)
    out, err = Capture("exec-out"), Capture("exec-err")
    try:
        try:
            proc = tree.spawn(request.argv, cwd=request.cwd, env=request.env,
                              stdin=stdin if stdin is not None else subprocess.DEVNULL,
                              stdout=out.write_fd, stderr=err.write_fd)
        except OSError as exc:
            kind, message = start_error(request.argv, exc)
            return CommandOutcome(duration_ms=round((time.monotonic() - started) * 1000, 3),
                                  error_type=kind, error_message=message)
        finally:
            if stdin is not None:
                stdin.close()  # the child has its own copy
            out.close_write()
            err.close_write()
        memory.note_started(proc.pid)  # so the case's peak RSS includes what it runs
        deadline = None if request.timeout_s is None else started + request.timeout_s
        timed_out = interrupted = False
        seen: set[int] = set()
        while proc.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                timed_out = True
            elif stop is not None and stop.is_set():
                interrupted = True
            if timed_out or interrupted:
                tree.kill_tree(proc.pid, tree.KILL_GRACE_S)
                break
            seen.update(_descendants(proc.pid))
            time.sleep(_POLL_S)
        returncode = proc.wait()
        tree.unregister(proc.pid)
        # killed by the run's own stop (a signal or --timeout kills every tree): not its doing
        interrupted = interrupted or (returncode < 0 and not timed_out and stop is not None and stop.is_set())
        outcome = CommandOutcome(
            stdout=out.since_mark(), stderr=err.since_mark(),
            exit_code=returncode if returncode >= 0 else None, signal=signal_name(returncode),
            timed_out=timed_out, interrupted=interrupted,
            duration_ms=round((time.monotonic() - started) * 1000, 3), pid=proc.pid,
            descendants=tuple(sorted(seen)))
    finally:
        out.close()
        err.close()
    if timed_out:
        return _with_error(outcome, ErrorKind.TIMEOUT, f"timeout after {shown_duration(request.timeout_s or 0.0)}")
    if interrupted:
        return _with_error(outcome, ErrorKind.INTERRUPTED, "the run was interrupted")
    return outcome


def shown_duration(seconds: float) -> str:
    """300 -> "5m", 90 -> "90s", 7200 -> "2h", 0.25 -> "0.25s": as a plan would write it."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _descendants(pid: int) -> list[int]:
    return sorted(proctable.descendants([pid]))


def _with_error(outcome: CommandOutcome, kind: str, message: str) -> CommandOutcome:
    return replace(outcome, error_type=kind, error_message=message)


def start_error(argv: Sequence[str], exc: OSError) -> tuple[str, str]:
    """(type, message) for a program that could not start: not found, not executable, bad cwd."""
    program = argv[0] if argv else ""
    if isinstance(exc, FileNotFoundError) and exc.filename in (None, program):
        return "CommandNotFound", f"command not found: {program}"
    message = f"cannot run {program}: {exc.strerror or exc}"
    if exc.filename and exc.filename != program:
        message += f" ({exc.filename})"
    return "OSError", message
