"""A run's guard against its own sudden death, and the cleanup after runs that died before.

`start_watchdog()` (first thing in `run`, before the plans load) starts the watchdog
(watchdog_main.py), which kills everything carrying this run's marker, and the sessions of the
roots still registered, within a second of our death. Started then, its interpreter boots on the
core the plan's loading leaves idle; started beside the workers, it took a core from them or from
the run's own start (~10 ms of the run's wall at 1,000 cases).

`guard_run()` (once per orchestrator process, before anything is started) kills what earlier
runs left: processes carrying the marker of a run whose orchestrator is gone (killed with
SIGKILL, say), and says so in one line on stderr; and starts the watchdog if it is not running.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import TextIO

from orchestrator.procs import markers, proctable, tree

WATCHDOG_MAIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "watchdog_main.py")

_lock = threading.Lock()
_watchdog: subprocess.Popen[bytes] | None = None
_swept = False


def start_watchdog() -> None:
    """The watchdog, started if it is not running (once per orchestrator process)."""
    global _watchdog
    with _lock:
        if _watchdog is None:
            _watchdog = _start_watchdog()


def guard_run(report: TextIO | None = None) -> None:
    global _swept
    with _lock:
        if _swept:
            return
        kill_stale(sys.stderr if report is None else report)
        _swept = True
    start_watchdog()


def _start_watchdog() -> subprocess.Popen[bytes] | None:
    if not sys.platform.startswith("linux"):
        return None
    read_end, write_end = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith(markers.PREFIX)}
    env[markers.WATCHDOG_VAR] = markers.run_id()
    try:
        # -S: no site (it needs the standard library only): site's .pth files can cost more
        # than the watchdog itself.
        proc = subprocess.Popen([sys.executable, "-S", WATCHDOG_MAIN, markers.run_var()], stdin=read_end,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True, close_fds=True)
    except OSError:
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    os.set_blocking(write_end, False)
    tree.notify_roots(write_end)  # the write end stays open, unseen by children, until we die
    return proc


def _ancestors() -> set[int]:
    return {os.getpid(), *proctable.ancestors(os.getpid())}


def forget_dead_runs() -> None:
    """Dead runs' markers out of our environment: our own processes must not inherit them (a
    later run would take them for that dead run's leftovers)."""
    for name in [k for k in os.environ if k.startswith(markers.PREFIX) and k != markers.run_var()]:
        if not markers.run_alive(name[len(markers.PREFIX):]):
            del os.environ[name]


def kill_stale(report: TextIO) -> list[int]:
    """Kill processes carrying the marker of a run whose orchestrator is gone; one line if any."""
    dead: dict[str, bool] = {}
    victims: list[tuple[int, str]] = []
    spared = _ancestors()  # a shell that inherited an old marker is not a leftover
    for pid in proctable.pids():
        if pid in spared:
            continue
        environ = markers.environ_of(pid)
        if not environ or markers.PREFIX.encode() not in environ:
            continue
        for run in markers.runs_in(environ):
            if run not in dead:
                dead[run] = not markers.run_alive(run)
            if dead[run]:
                victims.append((pid, run))
                break
    forget_dead_runs()
    killed = []
    for pid, _ in victims:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except OSError:
            continue
    if killed:
        runs = sorted({run for _, run in victims})
        print(f"orchestrator: killed {len(killed)} process(es) left running by an earlier run that was killed "
              f"(run {', '.join(runs)}): pids {', '.join(str(p) for p in killed[:20])}"
              + (" …" if len(killed) > 20 else ""), file=report)
    return killed
