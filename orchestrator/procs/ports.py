"""Who listens on a TCP port: a spawn's `ready: {port}` must be answered by the spawn itself,
never by a stale server of an earlier run (a port taken before the spawn starts fails it)."""
from __future__ import annotations

import socket
import time

from orchestrator.procs.snapshot import cmdline_of
from orchestrator.records import record


@record
class PortOwner:
    pid: int | None  # None: something listens, but the process table does not say who
    cmdline: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.cmdline})" if self.pid is not None else "a process this user cannot see"


def accepts(port: int, deadline: float | None = None) -> bool:
    """Whether something accepts a connection on `port` on loopback; never waits past `deadline`
    (time.monotonic())."""
    for host in ("127.0.0.1", "::1"):
        remaining = 0.2 if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            with socket.create_connection((host, port), timeout=min(0.2, remaining)):
                return True
        except OSError:
            continue
    return False


def listener(port: int) -> PortOwner | None:
    """The process listening on `port` (any local address), or None when nothing listens."""
    import psutil  # here: only a spawn that waits for a port asks

    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        connections = []
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return PortOwner(None, "")
            try:
                return PortOwner(conn.pid, cmdline_of(psutil.Process(conn.pid)))
            except psutil.Error:
                return PortOwner(conn.pid, "?")
    return PortOwner(None, "") if accepts(port) else None
