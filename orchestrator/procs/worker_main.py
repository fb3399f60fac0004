"""Runs INSIDE a provider worker: `python worker_main.py IN_FD OUT_FD FILE FUNCTION`.

Launched by file path under the user's interpreter (any CPython >= 3.9, standard library only),
so it imports nothing from the orchestrator. Messages are `[name, payload]` ASCII JSON lines on
the two pipe fds given in argv; fds 1 and 2 belong to the provider (the controller points them
at capture files), so nothing the provider prints can reach the protocol.
"""
from __future__ import annotations

import os
import sys

# `python /abs/.../worker_main.py` put our own directory at sys.path[0]; our module names
# (pool, tree, api, ...) must not shadow the user's, so drop it before importing anything else.
_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__" and sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]

import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import traceback  # noqa: E402
from typing import Any, Callable, Dict, Iterator, List, Optional  # noqa: E402

# Keep in sync with orchestrator/procs/protocol.py (a test asserts they agree).
CALL = "call"
STOP = "stop"
READY = "ready"
IMPORT_ERROR = "import_error"
RESULT = "result"
ERROR = "error"
PING = "ping"
PONG = "pong"


def _fallback(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return repr(value)


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy, used only when the fast encoding failed (odd keys, cycles)."""
    if depth > 100:
        return _fallback(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else _fallback(k)): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    return _fallback(value)


_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=_fallback)


def _encode(name: str, payload: Any) -> bytes:
    try:
        text = _encoder.encode([name, payload])
    except (TypeError, ValueError):
        text = json.dumps([name, _plain(payload)], ensure_ascii=True, separators=(",", ":"))
    return (text + "\n").encode("ascii")


class Channel:
    def __init__(self, in_fd: int, out_fd: int) -> None:
        # The provider's own children must not inherit the protocol pipes (a grandchild
        # holding the write end would hide the worker's death from the controller).
        os.set_inheritable(in_fd, False)
        os.set_inheritable(out_fd, False)
        self._reader = os.fdopen(in_fd, "rb", buffering=65536)
        self._out_fd = out_fd

    def send(self, name: str, payload: Any) -> None:
        view = memoryview(_encode(name, payload))
        while view:
            view = view[os.write(self._out_fd, view):]

    def receive(self) -> Optional[tuple[str, Any]]:
        line = self._reader.readline()
        if not line:
            return None  # the controller went away
        name, payload = json.loads(line.decode("ascii"))
        return name, payload


def _format_exception(exc: BaseException, skip_frames: int) -> str:
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _load(path: str, function: str) -> Callable[..., Any]:
    directory = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load a Python module from %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ImportError("function '%s' not found in %s" % (function, os.path.basename(path)))
    return fn  # type: ignore[no-any-return]


class Runner:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self._loop: Any = None  # one event loop per worker, made on first async call
        self._fflush = _c_fflush()

    def _await(self, awaitable: Any) -> Any:
        if self._loop is None:
            import asyncio

            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
        return self._loop.run_until_complete(awaitable)

    def call(self, payload: Dict[str, Any]) -> tuple[str, Any]:
        try:
            value = self._fn(payload.get("prompt"), payload.get("options") or {}, payload.get("context") or {})
            if type(value) is not dict and inspect.isawaitable(value):
                value = self._await(value)
        except (Exception, SystemExit) as exc:
            self.flush()
            return ERROR, {"type": type(exc).__name__, "message": str(exc), "traceback": _format_exception(exc, 1)}
        self.flush()
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                value = {(k if isinstance(k, str) else _fallback(k)): v for k, v in value.items()}
            return RESULT, {"result": value}
        return RESULT, {"result": {"output": value}}

    def flush(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        if sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__:
            for stream in (sys.__stdout__, sys.__stderr__):
                try:
                    if stream is not None:
                        stream.flush()
                except Exception:
                    pass
        if self._fflush is not None:
            self._fflush(None)  # C stdio buffers (printf from extension modules)


def _c_fflush() -> Optional[Callable[[Any], Any]]:
    try:
        import ctypes

        fflush: Callable[[Any], Any] = ctypes.CDLL(None).fflush
        return fflush
    except Exception:
        return None


@contextlib.contextmanager
def _environ(values: Any) -> Iterator[None]:
    """os.environ (and so every child the call starts) with `values` set, restored afterwards."""
    if not isinstance(values, dict) or not values:
        yield
        return
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({str(k): str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def main(argv: List[str]) -> int:
    in_fd, out_fd, path, function = int(argv[1]), int(argv[2]), argv[3], argv[4]
    channel = Channel(in_fd, out_fd)
    try:
        fn = _load(path, function)
    except BaseException as exc:
        lines = traceback.format_exception_only(type(exc), exc)
        last = lines[-1].strip() if lines else type(exc).__name__
        channel.send(IMPORT_ERROR, {"message": last, "traceback": _format_exception(exc, 0)})
        return 1
    runner = Runner(fn)
    channel.send(READY, {"pid": os.getpid()})
    while True:
        message = channel.receive()
        if message is None or message[0] == STOP:
            return 0
        if message[0] == CALL:
            if "env" in message[1]:
                with _environ(message[1]["env"]):  # the calling case's marker, for what the call starts
                    name, payload = runner.call(message[1])
            else:
                name, payload = runner.call(message[1])
            payload["id"] = message[1].get("id")  # the controller checks each answer is for its call
            channel.send(name, payload)
        elif message[0] == PING:
            channel.send(PONG, message[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
