"""`{{ free_port('web') }}`: a free loopback port for each attempt of a case, one per name.

Within one attempt every `free_port('web')` is the same number, so a spawn's command, its
`ready: {port: ...}` and the URLs of later steps agree; another attempt (a repeat, a retry, the
same case running concurrently) gets its own. The port is found by binding 127.0.0.1:0 and is
released at once, long before the spawn starts, so the server can bind it and a "port already
taken" check never finds the orchestrator holding it. Ports handed out recently in this run are
never handed out again, so two attempts running at once never share one.
"""
from __future__ import annotations

import threading
from collections import deque

from orchestrator.evaluation.templating import TemplateError

_RECENT = 4096  # a port this many hand-outs ago belongs to an attempt long finished
_recent: deque[int] = deque(maxlen=_RECENT)
_recent_set: set[int] = set()
_lock = threading.Lock()


def _pick() -> int:
    import socket  # here: few plans ask for a port, and every run imports this module (~1.5 ms)

    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with _lock:
            if port in _recent_set:
                continue  # the kernel offered a port another attempt of this run holds: ask again
            if len(_recent) == _RECENT:
                _recent_set.discard(_recent[0])
            _recent.append(port)
            _recent_set.add(port)
            return port
    raise TemplateError("free_port: no free loopback port found")


class FreePorts:
    """The `free_port` of one attempt: `free_port()` or `free_port('name')` -> a port number."""

    def __init__(self) -> None:
        self._ports: dict[str, int] = {}
        self._lock = threading.Lock()  # steps of a `parallel` step render at once

    def __call__(self, name: object = "default") -> int:
        key = str(name)
        with self._lock:
            if key not in self._ports:
                self._ports[key] = _pick()
            return self._ports[key]

    def __repr__(self) -> str:
        return "free_port(" + ", ".join(f"{k}={v}" for k, v in self._ports.items()) + ")"
