"""The only place in the product that starts, signals, reaps and lists processes.

Every child starts in its own session, so its process group and session id are its pid.
Killing a tree collects the victims BEFORE any signal: descendants of the root plus every
process still in the root's session (which finds grandchildren orphaned by a root that already
died), read from /proc (procs/proctable.py): psutil is imported only when there is one. Then
SIGTERM the group and each victim, wait out the grace, SIGKILL the rest.

Every process the run starts is in a registry, so `kill_all` (on SIGINT, or at exit through
the atexit hook) leaves nothing behind.
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING, IO, Iterable, Mapping, Sequence, Union

from orchestrator.procs import markers, proctable

if TYPE_CHECKING:  # psutil is imported once there is a process to signal besides the roots
    import psutil

_File = Union[int, IO[bytes], None]


def _kill_grace() -> float:
    """Seconds between SIGTERM and SIGKILL for every tree the product kills (a case's leak, a
    hung call's worker, a stopped spawn, the end of the run): ORCHESTRATOR_KILL_GRACE, else 0.5."""
    text = os.environ.get("ORCHESTRATOR_KILL_GRACE", "")
    try:
        value = float(text) if text.strip() else 0.5
    except ValueError:
        return 0.5
    return min(max(value, 0.0), 60.0) if value == value else 0.5  # NaN: the default


KILL_GRACE_S = _kill_grace()

_lock = threading.Lock()
_registry: dict[int, subprocess.Popen[bytes]] = {}
_notify_fd = -1  # the watchdog's pipe: it learns each root's session, to kill it if we die


def notify_roots(fd: int) -> None:
    """From now on, write `+PID` / `-PID` lines to `fd` as roots are registered and forgotten."""
    global _notify_fd
    with _lock:
        _notify_fd = fd
        for pid in _registry:
            _notify(b"+", pid)


def _notify(sign: bytes, pid: int) -> None:
    if _notify_fd >= 0:
        try:
            os.write(_notify_fd, sign + str(pid).encode() + b"\n")
        except OSError:  # full (the watchdog is slow) or gone: the marker sweep still works
            pass


def spawn(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    stdin: _File = subprocess.DEVNULL,
    stdout: _File = None,
    stderr: _File = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session and register it; raises OSError if it cannot start.

    It always carries the run's marker (markers.py): callers set who it belongs to."""
    env = dict(os.environ if env is None else env)
    if markers.run_var() not in env:
        env = markers.marked_env(env, markers.UNOWNED)
    with _lock:  # registered before any other thread can ask kill_all for the list
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            pass_fds=tuple(pass_fds),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
        _registry[proc.pid] = proc
        _notify(b"+", proc.pid)
    return proc


def register(proc: subprocess.Popen[bytes]) -> None:
    with _lock:
        _registry[proc.pid] = proc
        _notify(b"+", proc.pid)


def unregister(pid: int) -> None:
    with _lock:
        if _registry.pop(pid, None) is not None:
            _notify(b"-", pid)


def registered_pids() -> list[int]:
    with _lock:
        return list(_registry)


def _collect(root: int) -> list[psutil.Process]:
    """Descendants of `root` and the other members of its session (not `root` itself)."""
    # A root that already exited no longer has children: they were reparented. They kept
    # the session id though (unless they called setsid themselves).
    pids = (proctable.descendants([root]) | proctable.session_members([root])) - {root}
    if not pids:
        return []  # a worker that exited when asked: the usual case, and no psutil
    import psutil

    found = []
    for pid in sorted(pids):
        try:
            found.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return found


def _alive(proc: psutil.Process) -> bool:
    import psutil

    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _signal_all(roots: Iterable[int], procs: Sequence[psutil.Process], sig: int) -> None:
    for root in roots:
        with _lock:
            popen = _registry.get(root)
        if popen is None or popen.returncode is not None:
            continue  # reaped (here or by another thread): its pid may name another process group by now
        try:
            os.killpg(root, sig)
        except OSError:
            pass
        try:
            popen.send_signal(sig)
        except OSError:
            pass
    if not procs:
        return
    import psutil

    for proc in procs:
        try:
            proc.send_signal(sig)  # psutil refuses if the pid was reused meanwhile
        except psutil.Error:
            pass


def _roots_done(roots: Iterable[int]) -> bool:
    done = True
    for root in roots:
        with _lock:
            popen = _registry.get(root)
        if popen is None:
            continue
        if popen.poll() is None:  # poll() reaps our direct child once it has exited
            done = False
    return done


def _wait(roots: Sequence[int], procs: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout_s
    while True:
        alive = [p for p in procs if _alive(p)]
        roots_done = _roots_done(roots)
        if (not alive and roots_done) or time.monotonic() >= deadline:
            return alive
        time.sleep(0.01)


def _unreaped(roots: Iterable[int]) -> list[int]:
    out = []
    for root in roots:
        with _lock:
            popen = _registry.get(root)
        if popen is not None and popen.returncode is None:
            out.append(root)
    return out


def kill_trees(roots: Sequence[int], grace_s: float, extra: Sequence[psutil.Process] = ()) -> None:
    """Kill each root and its whole tree (and `extra` processes): TERM, wait `grace_s`, KILL
    survivors, reap."""
    # Only roots we still hold: one another thread's kill_all has killed, reaped and forgotten
    # already may name another process by now (pids are reused), and so may its group, its
    # session and its children: nothing is signalled for it.
    held = set(registered_pids())
    roots = [root for root in roots if root in held]
    if not roots and not extra:
        return
    victims: list[psutil.Process] = list(extra)
    for root in roots:
        victims.extend(_collect(root))  # before any signal: a dead root has no children
    _signal_all(roots, victims, signal.SIGTERM)
    survivors = _wait(roots, victims, grace_s)
    stubborn = _unreaped(roots)
    if survivors or stubborn:
        # A root that ignored TERM may have forked since; only an unreaped root's pid is
        # safe to look up again (a reaped one may already belong to someone else).
        for root in stubborn:
            survivors.extend(_collect(root))
        _signal_all(stubborn, survivors, signal.SIGKILL)
        _wait(roots, survivors, 5.0)
    for root in roots:
        with _lock:
            popen = _registry.pop(root, None)
            if popen is not None:
                _notify(b"-", root)
        if popen is not None:
            try:
                popen.wait(timeout=5.0)
            except subprocess.TimeoutExpired:  # unkillable (D state); nothing more to do
                pass


def kill_tree(pid: int, grace_s: float) -> None:
    kill_trees([pid], grace_s)


def kill_all(grace_s: float = KILL_GRACE_S) -> None:
    """Kill every registered process and its tree (SIGINT handler, exit hook, tests)."""
    kill_trees(registered_pids(), grace_s)


atexit.register(kill_all, KILL_GRACE_S)
