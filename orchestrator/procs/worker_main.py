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

import importlib.util  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from typing import Any, Callable, Dict, List, Optional, Set, Tuple  # noqa: E402

# `inspect` and `traceback` are imported where needed (an odd callable, an async result, an
# exception): they were a fifth of a worker's start.

_clock = time.perf_counter


def _nothing() -> None:
    pass


# Keep in sync with orchestrator/procs/protocol.py (a test asserts they agree).
CALL = "call"
STOP = "stop"
GO = "go"
READY = "ready"
IMPORT_ERROR = "import_error"
RESULT = "result"
ERROR = "error"
PING = "ping"
PONG = "pong"


def _fallback(value: Any) -> str:
    for show in (str, repr):
        try:
            return show(value)
        except Exception:
            pass
    return "<%s object>" % type(value).__name__


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


# Longer integers cannot be printed (sys.get_int_max_str_digits) nor read back by the controller.
_MAX_INT_BITS = int(4300 * 3.3219280948873626)


class _Safe:
    """A copy of a provider's answer that JSON can carry, and a note for every value changed:
    NaN/Infinity (not JSON), integers too long to print, bytes, sets and other objects."""

    def __init__(self) -> None:
        self.notes: List[str] = []
        self._open: Set[int] = set()  # ids of the containers being copied: a cycle ends there

    def copy(self, value: Any, where: str, depth: int = 0) -> Any:
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            if id(value) in self._open:
                return self._changed(where, "a reference to its own container", "<cycle>")
            self._open.add(id(value))
            try:
                return self._copy(value, where, depth)
            finally:
                self._open.discard(id(value))
        return self._copy(value, where, depth)

    def _copy(self, value: Any, where: str, depth: int) -> Any:
        if value is None or isinstance(value, (str, bool)):
            return value
        if isinstance(value, int):
            if abs(value).bit_length() > _MAX_INT_BITS:
                text = "<integer of about %d digits>" % int(abs(value).bit_length() / 3.3219280948873626 + 1)
                return self._changed(where, "an integer too long for JSON", text)
            return int(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
                return self._changed(where, text, text)
            return float(value)
        if depth > 100:
            return self._changed(where, "a value nested too deep", _fallback(value))
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                name = key if isinstance(key, str) else _fallback(key)
                out[name] = self.copy(item, "%s.%s" % (where, name) if where else name, depth + 1)
            return out
        if isinstance(value, (list, tuple)):
            return [self.copy(v, "%s[%d]" % (where, i), depth + 1) for i, v in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            self.notes.append("%s: a %s became a list" % (where or "the result", type(value).__name__))
            return [self.copy(v, "%s[%d]" % (where, i), depth + 1) for i, v in enumerate(value)]
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value).decode("utf-8", "backslashreplace")
            return self._changed(where, "%s" % type(value).__name__, text, quote=False)
        return self._changed(where, "a value of type %s" % type(value).__name__, _fallback(value))

    def _changed(self, where: str, what: str, text: str, quote: bool = True) -> str:
        shown = text if len(text) <= 60 else text[:60] + "..."
        self.notes.append("%s: %s became the text %s" % (where or "the result", what,
                                                         repr(shown) if quote else "(UTF-8, undecodable bytes escaped)"))
        return text


def _safe_result(payload: Dict[str, Any]) -> Dict[str, Any]:
    """A RESULT payload JSON could not take as it is: a converted copy, with `notes` saying
    what changed (the controller shows them in the step's result)."""
    safe = _Safe()
    result = safe.copy(payload.get("result"), "")
    return {**payload, "result": result, "notes": safe.notes}


# What json.loads runs once whitespace is skipped (an attribute its decoder sets on itself).
_scan_once: Callable[[str, int], Tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")

# Strict: no NaN, no default; what it refuses takes the slow path below.
_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
# What _encoder.encode runs, made once (it makes a C encoder per call), without the table of
# containers being encoded: a cycle then ends in RecursionError, which takes the slow path too.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = None if _c_make_encoder is None else _c_make_encoder(
    None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False)


def _encode(name: str, payload: Any) -> bytes:
    try:
        text = _encoder.encode([name, payload]) if _c_encode is None else "".join(_c_encode([name, payload], 0))
    except (TypeError, ValueError, RecursionError):
        if name == RESULT and isinstance(payload, dict):
            payload = _safe_result(payload)
        text = json.dumps([name, _plain(payload)], ensure_ascii=True, separators=(",", ":"))
    return (text + "\n").encode("ascii")


# A result is truncated before it is sent, so a provider returning 100 MB costs the controller
# neither memory nor report size (assertions see the kept head and tail).
MAX_RESULT_BYTES = 16 * 1024 * 1024
_STRING_KEEPS = (4 * 1024 * 1024, 32 * 1024)  # head and tail each, tried in turn


def _shrunk(value: Any, keep: int) -> Any:
    if isinstance(value, str) and len(value) > 2 * keep:
        left_out = len(value) - 2 * keep
        return (value[:keep] + "\n[… result truncated: {:,} characters, {:,} left out here; the first {:,} and "
                "the last {:,} are kept …]\n".format(len(value), left_out, keep, keep) + value[-keep:])
    if isinstance(value, dict):
        return {k: _shrunk(v, keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shrunk(v, keep) for v in value]
    return value


def _text_size(value: Any, depth: int = 0) -> int:
    """The characters of the strings inside `value` (a lower bound of its encoded size)."""
    if isinstance(value, str):
        return len(value)
    if depth > 100:
        return 0
    if isinstance(value, dict):
        return sum(len(str(k)) + _text_size(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_text_size(v, depth + 1) for v in value)
    return 0


def _bounded(name: str, payload: Any) -> bytes:
    """The encoded message; a result past MAX_RESULT_BYTES has its long strings cut, and one
    still too large becomes an error saying so."""
    if name == RESULT and _text_size(payload) > MAX_RESULT_BYTES:  # cut before encoding it whole
        payload = {**payload, "result": _shrunk(payload.get("result"), _STRING_KEEPS[0])}
    encoded = _encode(name, payload)
    if name != RESULT or len(encoded) <= MAX_RESULT_BYTES:
        return encoded
    for keep in _STRING_KEEPS:
        smaller = _encode(name, {**payload, "result": _shrunk(payload.get("result"), keep)})
        if len(smaller) <= MAX_RESULT_BYTES:
            return smaller
    return _encode(ERROR, {"id": payload.get("id"), "type": "ResultTooLarge", "traceback": "",
                           "message": "the result encodes to {:,} bytes, over the limit of {:,} even with "
                                      "its strings cut".format(len(encoded), MAX_RESULT_BYTES)})


class Channel:
    def __init__(self, in_fd: int, out_fd: int) -> None:
        # The provider's own children must not inherit the protocol pipes (a grandchild
        # holding the write end would hide the worker's death from the controller).
        os.set_inheritable(in_fd, False)
        os.set_inheritable(out_fd, False)
        self._in_fd = in_fd
        self._out_fd = out_fd
        self._pending = b""  # read from the pipe, not yet a whole line
        self._poller: Any = None  # made on the first spin
        self._sent_at = 0.0
        self.idle_s = 0.0  # from our last message to the arrival of the one received last

    def send(self, name: str, payload: Any) -> None:
        data = _bounded(name, payload)
        written = os.write(self._out_fd, data)  # the whole line, unless the pipe is full
        if written < len(data):
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(self._out_fd, view):]
        self._sent_at = _clock()

    def receive(self, spin_s: float = 0.0) -> Optional[tuple[str, Any]]:
        """The next message; None when the controller went away. `spin_s`: poll the pipe that
        long before sleeping in read (the controller asks for it when it sends the next call
        within ~0.1 ms: waking a sleeping process costs more than the call on a VM)."""
        pending = self._pending
        end = pending.find(b"\n")
        if end < 0:
            parts, size = [pending], len(pending)  # joined once: a long request comes in many reads
            while end < 0:
                if spin_s:
                    self._spin(spin_s)
                    spin_s = 0.0
                chunk = os.read(self._in_fd, 65536)
                if not chunk:
                    return None
                end = chunk.find(b"\n")
                if end >= 0:
                    end += size
                parts.append(chunk)
                size += len(chunk)
            pending = b"".join(parts)
        self.idle_s = _clock() - self._sent_at
        line, self._pending = pending[:end], pending[end + 1:]
        # The controller's own lines: one JSON array each, so the scanner alone reads it (what
        # json.loads adds, two whitespace matches and the check for trailing data, is moot).
        name, payload = _scan_once(line.decode("ascii"), 0)[0]
        return name, payload

    def _spin(self, spin_s: float) -> None:
        import select

        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self._in_fd, select.POLLIN)
        poll, clock, yield_cpu = self._poller.poll, _clock, getattr(os, "sched_yield", _nothing)
        until = clock() + spin_s
        while not poll(0) and clock() < until:
            yield_cpu()  # to whoever else wants this core: the spin is for an idle one


def _format_exception(exc: BaseException, skip_frames: int) -> str:
    import traceback

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


# promptfoo calls these with (prompt, options) only; call_api gets (prompt, options, context).
TWO_ARGUMENT_FUNCTIONS = ("call_embedding_api", "call_classification_api")


def _takes_context(fn: Callable[..., Any], function: str) -> bool:
    """Whether to pass `context`: as promptfoo does (not to embedding/classification functions),
    except to a function that cannot take it, and always to one that cannot do without it."""
    two = function in TWO_ARGUMENT_FUNCTIONS
    shape = _positional_shape(fn)
    if shape is None:  # builtins, some C callables: call as promptfoo would
        return not two
    positional, required, var_positional = shape
    if var_positional:
        return not two
    if required >= 3:
        return True  # e.g. call_embedding_api(prompt, options, context), as some promptfoo fixtures write it
    return not two and positional >= 3


_CO_VARARGS = 0x04


def _positional_shape(fn: Callable[..., Any]) -> Optional[tuple[int, int, bool]]:
    """(positional parameters, those without a default, takes *args) as inspect.signature sees
    them; None when it has no signature. A plain function is read from its code object, the
    same facts signature() reads; anything else (a method, a partial, a decorated or callable
    object) goes to inspect."""
    if type(fn) is types.FunctionType and not hasattr(fn, "__wrapped__") \
            and not hasattr(fn, "__signature__") and not hasattr(fn, "_partialmethod"):
        code = fn.__code__
        return code.co_argcount, code.co_argcount - len(fn.__defaults__ or ()), bool(code.co_flags & _CO_VARARGS)
    import inspect

    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return (len(positional), sum(1 for p in positional if p.default is p.empty),
            any(p.kind is p.VAR_POSITIONAL for p in parameters))


def _isawaitable(value: Any) -> bool:
    import inspect  # only for a result that is not a dict

    return inspect.isawaitable(value)


class Runner:
    def __init__(self, fn: Callable[..., Any], function: str = "call_api") -> None:
        self._fn = fn
        self._with_context = _takes_context(fn, function)
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
            args = [payload.get("prompt"), payload.get("options") or {}]
            if self._with_context:
                args.append(payload.get("context") or {})
            value = self._fn(*args)
            if type(value) is not dict and _isawaitable(value):
                value = self._await(value)
        except (Exception, SystemExit) as exc:
            self.flush()
            return ERROR, {"type": type(exc).__name__, "message": str(exc), "traceback": _format_exception(exc, 1)}
        self.flush()
        return RESULT, {"result": value}  # the controller judges it (a dict with output or error)

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


def _set_environ(values: Any) -> Dict[str, Optional[str]]:
    """os.environ (and so every child the call starts) with `values` set; what to restore
    afterwards (`_restore_environ`). Plain functions: a context manager cost ~4 us a call."""
    if not isinstance(values, dict) or not values:
        return {}
    environ = os.environ
    saved = {str(k): environ.get(str(k)) for k in values}
    environ.update({str(k): str(v) for k, v in values.items()})
    return saved


def _restore_environ(saved: Dict[str, Optional[str]]) -> None:
    environ = os.environ
    for key, old in saved.items():
        if old is None:
            environ.pop(key, None)
        else:
            environ[key] = old


# Set (to anything) by a controller that started us before it knew whether the provider is
# wanted (run/early_worker): the provider is imported only once it says `go`. Kept in sync with
# orchestrator/procs/worker.py; never passed on to what the provider starts.
HOLD_VAR = "ORCHESTRATOR_WORKER_HOLD"


def main(argv: List[str]) -> int:
    in_fd, out_fd, path, function = int(argv[1]), int(argv[2]), argv[3], argv[4]
    channel = Channel(in_fd, out_fd)
    ready: Dict[str, Any] = {"pid": os.getpid()}
    if os.environ.pop(HOLD_VAR, None) is not None:
        ready["held_at"] = time.monotonic()  # booted: the controller counts this in the cold start
        message = channel.receive()
        if message is None or message[0] != GO:
            return 0  # not wanted after all: nothing of the provider ran
    try:
        fn = _load(path, function)
    except BaseException as exc:
        import traceback

        lines = traceback.format_exception_only(type(exc), exc)
        last = lines[-1].strip() if lines else type(exc).__name__
        channel.send(IMPORT_ERROR, {"message": last, "traceback": _format_exception(exc, 0)})
        return 1
    runner = Runner(fn, function)
    channel.send(READY, ready)
    spin_s = 0.0
    while True:
        message = channel.receive(spin_s)
        if message is None or message[0] == STOP:
            return 0
        if message[0] == CALL:
            request = message[1]
            asked_s = request.get("spin_us", 0) / 1e6
            # Poll for the next call only while calls come that soon after our answers.
            spin_s = asked_s if asked_s and channel.idle_s <= asked_s else 0.0
            if "env" in request:
                saved = _set_environ(request["env"])  # the calling case's marker, for what the call starts
                try:
                    name, payload = runner.call(request)
                finally:
                    _restore_environ(saved)
            else:
                name, payload = runner.call(request)
            payload["id"] = request.get("id")  # the controller checks each answer is for its call
            payload["at"] = time.monotonic()  # when answered: the controller may read it later
            channel.send(name, payload)
        elif message[0] == PING:
            channel.send(PONG, message[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
