"""A tiny code-execution service, the stand-in for seed 002's backend API (stdlib only).

    POST /api/v2/execute  {"code": "...", "stdin": "...", "language": "python", "timeout": 10}
      -> 200 {"stdout", "stderr", "code" (exit code), "language", "version", "timed_out"}
      -> 400 {"error": "..."} for a body that is not JSON, no code, or another language
    A promptfoo-style body {prompt, options, context} (what an `http:` provider sends) is read as
    code = prompt, stdin/language/timeout from context.vars (or options.config); the answer then
    also has "output" (= stdout).
    GET  /api/v2/health   -> 200 {"status": "ok"}

Each program runs in its own process group with a timeout (default 10 s, at most 60 s); on
expiry the group is killed and `code` is -9. Prints `listening on http://HOST:PORT` once it
accepts connections; exits 0 on SIGTERM or SIGINT.
Usage: server.py [--port PORT] [--host 127.0.0.1]   (port 0: any free port)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LANGUAGES = ("python", "python3")
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 60.0


def execute(code: str, stdin: str, timeout_s: float) -> dict[str, Any]:
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True,
                             env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    timed_out = False
    try:
        out, err = child.communicate(stdin.encode("utf-8"), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
    stderr = err.decode("utf-8", "replace")
    if timed_out:
        stderr += f"\nTimeoutError: execution exceeded {timeout_s:g}s\n"
    return {"stdout": out.decode("utf-8", "replace"), "stderr": stderr, "code": child.returncode,
            "language": "python", "version": platform.python_version(), "timed_out": timed_out}


def _var(call: dict[str, Any], name: str) -> Any:
    variables = (call.get("context") or {}).get("vars") or {}
    return variables.get(name, ((call.get("options") or {}).get("config") or {}).get(name))


class Handler(BaseHTTPRequestHandler):
    server_version = "exec-service/1"

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/api/v2/health":
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"error": f"no such endpoint: GET {self.path}"})

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/api/v2/execute":
            self._reply(404, {"error": f"no such endpoint: POST {self.path}"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._reply(400, {"error": "the body must be JSON: {code, stdin, language}"})
            return
        promptfoo = isinstance(body, dict) and "code" not in body and isinstance(body.get("prompt"), str)
        if promptfoo:  # an orchestrator `http:` provider call: {prompt, options, context}
            body = {"code": body["prompt"], "stdin": _var(body, "stdin"), "language": _var(body, "language"),
                    "timeout": _var(body, "timeout")}
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            self._reply(400, {"error": "'code' (a string) is required"})
            return
        language = str(body.get("language") or "python")
        if language not in LANGUAGES:
            self._reply(400, {"error": f"unsupported language {language!r}: use python"})
            return
        try:
            timeout = min(MAX_TIMEOUT_S, float(body.get("timeout") or DEFAULT_TIMEOUT_S))
        except (TypeError, ValueError):
            self._reply(400, {"error": "'timeout' must be a number of seconds"})
            return
        result = execute(body["code"], str(body.get("stdin") or ""), timeout)
        self._reply(200, {**result, "output": result["stdout"]} if promptfoo else result)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
