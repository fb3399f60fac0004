"""Background processes (the `spawn` step): start, wait until ready, signal, wait for exit, stop.

Output goes to temp files (see command.py for why not pipes); readiness on stdout reads the
file with pread, which leaves the offset the child writes at alone.
"""
from __future__ import annotations

import signal
import subprocess
import threading
import time
from typing import Mapping, Sequence

from orchestrator.procs import proctable, tree
from orchestrator.procs.capture import Capture
from orchestrator.procs.command import stdin_file
from orchestrator.procs.exits import exit_description
from orchestrator.procs.ports import accepts
from orchestrator.records import record

_POLL_S = 0.02
_TAIL_CHARS = 1500


@record
class NotReady:
    """Why a spawn did not become ready: its deadline passed (`timed_out`), it exited, or the run stopped."""

    message: str
    timed_out: bool = False


@record
class Ready:
    stdout_contains: str | None = None
    port: int | None = None
    delay_s: float | None = None


class Spawned:
    def __init__(self, name: str, argv: Sequence[str], *, cwd: str, env: Mapping[str, str],
                 stdin: str | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self._cwd, self._env, self._stdin = cwd, dict(env), stdin
        self._out = Capture(f"spawn-{name}-out")
        self._err = Capture(f"spawn-{name}-err")
        self._proc: subprocess.Popen[bytes] | None = None
        self._output_taken = False
        self._stopped = False
        self.started = 0.0

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def start(self) -> None:
        """Raises OSError when the program cannot start."""
        stdin = stdin_file(self._stdin)
        try:
            self._proc = tree.spawn(self.argv, cwd=self._cwd, env=self._env,
                                    stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                    stdout=self._out.write_fd, stderr=self._err.write_fd)
        finally:
            if stdin is not None:
                stdin.close()
            self._out.close_write()
            self._err.close_write()
        self.started = time.monotonic()
        _exec_done(self._proc.pid)

    def poll(self) -> int | None:
        """The return code once the root has exited (reaping it), else None."""
        return None if self._proc is None else self._proc.poll()

    def stdout_text(self) -> str:
        return self._out.peek()

    def stderr_tail(self) -> str:
        text = self._err.peek().rstrip()
        return text if len(text) <= _TAIL_CHARS else "…" + text[-_TAIL_CHARS:]

    def wait_ready(self, ready: Ready, timeout_s: float, stop: threading.Event) -> NotReady | None:
        """None once ready; else why not (it exited, the run stopped, or the deadline passed)."""
        deadline = time.monotonic() + timeout_s
        if ready.delay_s is not None:
            stop.wait(ready.delay_s)
        while True:
            died = self._died_message()
            if died is not None:
                return NotReady(died)
            if stop.is_set():
                return NotReady(f"spawn '{self.name}' interrupted before it was ready")
            if self._is_ready(ready, deadline):
                return None
            if time.monotonic() >= deadline:
                return NotReady(f"spawn '{self.name}' not ready after {timeout_s:g}s: {self._why_not(ready)}",
                                timed_out=True)
            time.sleep(_POLL_S)

    def _is_ready(self, ready: Ready, deadline: float) -> bool:
        if ready.stdout_contains is not None and ready.stdout_contains not in self.stdout_text():
            return False
        if ready.port is not None and not accepts(ready.port, deadline):
            return False
        return True

    def _why_not(self, ready: Ready) -> str:
        if ready.stdout_contains is not None and ready.stdout_contains not in self.stdout_text():
            return f"stdout never contained {ready.stdout_contains!r}"
        if ready.port is not None:
            return f"nothing accepted connections on port {ready.port}"
        return "still waiting"

    def _died_message(self) -> str | None:
        code = self.poll()
        if code is None:
            return None
        tail = self.stderr_tail()
        return (f"spawn '{self.name}' {exit_description(code)} before it was ready"
                + (f"; stderr ends with:\n{tail}" if tail else " (no stderr)"))

    def send(self, sig: signal.Signals) -> list[int]:
        """Signal the root (not its tree, as `kill PID` would); [] if it has already exited."""
        if self._proc is None or self._proc.poll() is not None:
            return []
        try:
            self._proc.send_signal(sig)
        except OSError:
            return []
        return [self._proc.pid]

    def wait_exit(self, timeout_s: float, stop: threading.Event) -> int | None:
        """The return code if the root exits within `timeout_s`, else None."""
        deadline = time.monotonic() + timeout_s
        while True:
            code = self.poll()
            if code is not None or stop.is_set() or time.monotonic() >= deadline:
                return code
            time.sleep(_POLL_S)

    def stop(self, grace_s: float = tree.KILL_GRACE_S, *, only_if_running: bool = False) -> None:
        """Kill its whole tree (TERM, grace, KILL) and reap it; idempotent. `only_if_running`:
        a root that has already exited is only forgotten, and what it left behind stays for
        the leak check to name (that is a leak, not a stop)."""
        if self._proc is None or self._stopped:
            return
        self._stopped = True
        if only_if_running and self._proc.poll() is not None:
            tree.unregister(self._proc.pid)
            return
        tree.kill_tree(self._proc.pid, grace_s)
        self._proc.poll()

    def take_output(self) -> tuple[str, str] | None:
        """Everything it printed, once (None the second time); closes the files."""
        if self._output_taken:
            return None
        self._output_taken = True
        try:
            return self._out.since_mark(), self._err.since_mark()
        finally:
            self._out.close()
            self._err.close()


def parse_signal(value: object) -> signal.Signals:
    """`SIGTERM`, `TERM`, `term` or `15`; raises ValueError naming the choices."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return signal.Signals(int(text))
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return signal.Signals[name]
    except KeyError:
        raise ValueError(f"unknown signal {value!r} (e.g. SIGINT, SIGTERM, SIGKILL, SIGHUP, SIGUSR1, or a number)") from None


def _exec_done(pid: int, within_s: float = 1.0) -> None:
    """Wait a moment, if need be, for the spawn's exec to complete. subprocess returns once the
    child is past exec's point of no return, a little before its new command line is in place:
    until then /proc/PID/cmdline reads empty, and a `processes` step right after the spawn
    (`cmdline: ...`) missed it (seen when the run's process-table reads became fast)."""
    if not proctable.LINUX:
        return
    deadline = time.monotonic() + within_s
    while not proctable.read(f"/proc/{pid}/cmdline"):
        found = proctable.stat(pid)
        if found is None or found.zombie or time.monotonic() >= deadline:
            return
        time.sleep(0.0005)


def send_signal(pids: Sequence[int], sig: signal.Signals) -> list[int]:
    """Send `sig` to each live pid (psutil refuses a recycled pid); returns those signalled."""
    import psutil  # here: only a `signal` step needs it

    sent = []
    for pid in pids:
        try:
            psutil.Process(pid).send_signal(sig)
            sent.append(pid)
        except psutil.Error:
            continue
    return sent

