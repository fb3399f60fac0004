"""urllib with one deadline for the whole request: connect, send, headers and body.

urllib's `timeout` is per socket operation, so a server trickling its answer a byte a second
holds a request for as long as it likes. Here every read from the socket first sets the socket
timeout to what is left of the request's deadline, so the request ends on time whatever the
server does (no watchdog thread per request: the HTTP provider sends thousands).
"""
from __future__ import annotations

import functools
import http.client
import io
import socket
import time
import urllib.request
from typing import Any


class _DeadlineIO(socket.SocketIO):
    """A socket's read side whose every read ends by the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
        sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile does: close waits for us
        self._deadline = deadline

    def readinto(self, b: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request's deadline passed")
        self._sock.settimeout(remaining)  # type: ignore[attr-defined]
        return super().readinto(b)


class _DeadlineSocket:
    """The connection's socket, except that the response reads it through _DeadlineIO."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineIO(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self._deadline)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self._deadline)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPConnection, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        options: dict[str, Any] = {"context": getattr(self, "_context", None)}
        if getattr(self, "_check_hostname", None) is not None:  # Python < 3.12
            options["check_hostname"] = getattr(self, "_check_hostname")
        return self.do_open(functools.partial(_HTTPSConnection, deadline=self._deadline), req,
                            **options)


def open_with_deadline(request: urllib.request.Request, timeout_s: float) -> Any:
    """urlopen(request) whose connect, send and every later read end `timeout_s` from now."""
    deadline = time.monotonic() + timeout_s
    opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline))
    return opener.open(request, timeout=timeout_s)


def read_body(reply: Any, limit: int) -> tuple[bytes, int]:
    """Up to `limit` bytes of the body, and how many bytes the server sent in all (read to the
    end, within the deadline, so a huge body costs time but never memory)."""
    kept = bytearray()
    total = 0
    while True:
        chunk = reply.read(65536)
        if not chunk:
            return bytes(kept), total
        total += len(chunk)
        if len(kept) < limit:
            kept += chunk[:limit - len(kept)]
