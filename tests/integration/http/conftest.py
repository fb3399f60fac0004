"""A real HTTP server on 127.0.0.1 (an ephemeral port), in a thread of the test process."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest


class Handler(BaseHTTPRequestHandler):
    """/echo: the request back as JSON · /text: plain text · /status/N · /slow: 2 s · /trickle*: a byte
    every 0.2 s (body, headers, or an error body) · /result: a call result."""

    def _body(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode()

    def _send(self, status: int, text: str, kind: str = "application/json") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Test", "yes")
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    def _route(self) -> None:
        body = self._body()
        if self.path == "/echo":
            self._send(200, json.dumps({"method": self.command, "body": body,
                                        "auth": self.headers.get("Authorization"),
                                        "type": self.headers.get("Content-Type")}))
        elif self.path == "/echo-answer":  # /echo as a provider endpoint answers it
            self._send(200, json.dumps({"output": "echoed", "body": body, "auth": self.headers.get("Authorization")}))
        elif self.path == "/empty":
            self._send(200, "{}")
        elif self.path == "/nan":
            self._send(200, '{"output": NaN, "big": ' + "9" * 5000 + "}")
        elif self.path == "/text":
            self._send(200, "plain words", "text/plain")
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), json.dumps({"error": "boom"}))
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, "{}")
        elif self.path in ("/trickle", "/trickle-headers", "/trickle-error"):  # a byte every 0.2 s
            self._trickle()
        elif self.path == "/result":  # what an `http:` provider endpoint answers
            prompt = body.get("prompt") if isinstance(body, dict) else None
            self._send(200, json.dumps({"output": f"got {prompt}", "vars": body["context"]["vars"],
                                        "config": body["options"].get("config"), "tokens": 3}))
        else:
            self._send(404, json.dumps({"error": "no such path"}))

    def _trickle(self) -> None:
        try:
            if self.path == "/trickle-headers":
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 100:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
                return
            self.send_response(500 if self.path == "/trickle-error" else 200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _route

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound then released."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
