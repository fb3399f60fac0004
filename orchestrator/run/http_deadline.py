"""urllib with one deadline for the whole request: name lookup, connect, send, headers and body.

urllib's `timeout` is per socket operation, so a server trickling its answer a byte a second
holds a request for as long as it likes. Here every read from the socket first sets the socket
timeout to what is left of the request's deadline, so the request ends on time whatever the
server does (no watchdog thread per request: the HTTP provider sends thousands).

No socket timeout bounds the name lookup (`getaddrinfo`): a resolver that does not answer held
a request for its own retries (~10-30 s) whatever its deadline. A host name is looked up on a
thread the request waits for until its deadline; the answer is kept for a second, so thousands
of requests to one host start one lookup a second, and an address (`127.0.0.1`, `[::1]`) none.
"""
from __future__ import annotations

import functools
import http.client
import io
import socket
import threading
import time
import urllib.request
from typing import Any

Addresses = list[tuple[Any, ...]]  # what getaddrinfo gives

_LOOKUP_KEPT_S = 1.0
_MOST_LOOKUPS_KEPT = 1024
_lookups: dict[tuple[str, int], tuple[float, Addresses]] = {}  # (host, port) -> (until, addresses)
_lookups_lock = threading.Lock()


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


def _addresses(host: str, port: int, deadline: float) -> Addresses:
    """getaddrinfo(host, port) for a TCP socket, by the deadline (TimeoutError after it)."""
    try:  # an address: nothing to look up, nothing to wait for
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        pass
    now = time.monotonic()
    with _lookups_lock:
        kept = _lookups.get((host, port))
    if kept is not None and kept[0] > now:
        return kept[1]
    found: list[Addresses] = []
    failed: list[OSError] = []

    def look_up() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)
        except UnicodeError as exc:  # a host name IDNA cannot encode
            failed.append(OSError(str(exc)))

    lookup = threading.Thread(target=look_up, name="http-lookup", daemon=True)
    lookup.start()
    lookup.join(max(0.0, deadline - now))
    if lookup.is_alive():  # it ends on its own; nobody waits for it
        raise TimeoutError(f"looking up {host} took longer than the request's deadline")
    if failed:
        raise failed[0]
    with _lookups_lock:
        if len(_lookups) >= _MOST_LOOKUPS_KEPT:  # many hosts: what is kept a second is soon stale anyway
            _lookups.clear()
        _lookups[(host, port)] = (time.monotonic() + _LOOKUP_KEPT_S, found[0])
    return found[0]


def _connect_by(deadline: float) -> Any:
    """socket.create_connection's work, its name lookup and each attempt within the deadline."""
    def create_connection(address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
        host, port = address
        failure: OSError | None = None
        for family, kind, proto, _, where in _addresses(host, port, deadline):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the request's deadline passed while connecting")
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(remaining if not isinstance(timeout, (int, float)) else min(timeout, remaining))
                if source_address:
                    sock.bind(source_address)
                sock.connect(where)
                return sock
            except OSError as exc:
                failure = exc
                sock.close()
        raise failure if failure is not None else OSError(f"no address found for {host}")
    return create_connection


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        self._create_connection = _connect_by(deadline)

    def connect(self) -> None:
        super().connect()  # for HTTPS (the MRO below): HTTPSConnection's, TLS included
        self.sock = _DeadlineSocket(self.sock, self._deadline)


class _HTTPSConnection(_HTTPConnection, http.client.HTTPSConnection):
    """The deadline's connect and __init__ above, over HTTPSConnection's."""


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
