"""A request's deadline covers looking its host up: no socket timeout bounds `getaddrinfo`, and
a resolver that does not answer held a request for its own retries (run/http_deadline)."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from orchestrator.errors import ErrorKind
from orchestrator.run import http_deadline
from orchestrator.run.http_step import send


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch, server: str) -> list[str]:
    """Names under `.slow.test` take 5 s to look up, `fast.test` is the test server's address;
    addresses (and asking whether a name is one) pass through. Every name looked up is recorded."""
    real = socket.getaddrinfo
    asked: list[str] = []
    released = threading.Event()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
        if isinstance(host, str) and host.endswith(".test") and not flags & socket.AI_NUMERICHOST:
            asked.append(host)
            if host.endswith(".slow.test"):
                released.wait(5.0)
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(http_deadline, "_lookups", {}, raising=False)  # no lookup kept from another test
    yield asked
    released.set()  # the abandoned lookups end now


def test_a_lookup_that_never_answers_ends_at_the_request_s_deadline(resolver: list[str]) -> None:
    began = time.monotonic()
    reply = send("GET", "http://api.slow.test/echo", timeout_s=0.5)
    took = time.monotonic() - began
    assert reply.error is not None and reply.error.type == ErrorKind.TIMEOUT, reply
    assert took < 2.0, took  # not the resolver's 5 s


def test_a_name_is_looked_up_once_a_second_and_an_address_never(resolver: list[str], server: str) -> None:
    port = server.rsplit(":", 1)[1]
    for _ in range(5):
        reply = send("GET", f"http://fast.test:{port}/echo", timeout_s=5.0)
        assert reply.error is None and reply.status == 200, reply
    assert resolver == ["fast.test"]
    assert send("GET", f"{server}/echo", timeout_s=5.0).status == 200
    assert resolver == ["fast.test"]
