"""Controller side of the worker protocol: `(name, payload)` messages as ASCII JSON lines.

`ensure_ascii=True` turns every non-ASCII code point into a `\\uXXXX` escape, so lone
surrogates, U+FFFE, NUL and emoji all survive the trip and a line never holds a raw newline.
The worker (`worker_main.py`, stdlib only, never imports this) keeps the same names; a test
asserts they agree.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any, Callable, Mapping, Tuple

# controller -> worker
CALL = "call"  # {"prompt", "options", "context", "id"}
STOP = "stop"  # {}
GO = "go"  # {}: import the provider now (a worker started held: worker.HOLD_VAR)
PING = "ping"  # {"n"}: liveness check of a worker that has been idle a while
# worker -> controller
READY = "ready"  # {"pid"}, and "held_at" (time.monotonic()) from a worker started held
IMPORT_ERROR = "import_error"  # {"message", "traceback"}
RESULT = "result"  # {"result": dict, "id"}: `id` echoes the call's, so an answer is matched to its call
ERROR = "error"  # {"type", "message", "traceback", "id"}
PONG = "pong"  # the ping's payload, echoed

NAMES = frozenset({CALL, STOP, GO, PING, READY, IMPORT_ERROR, RESULT, ERROR, PONG})


class ProtocolError(Exception):
    """A line from the worker that is not a well-formed message."""


def _fallback(value: Any) -> Any:
    """Engine data JSON cannot hold as is: mappings stay mappings, sets become lists, else text."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    try:
        return str(value)
    except Exception:
        return repr(value)


# Built once: json.dumps with keyword arguments would build a new encoder on every call.
_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=_fallback)


def _c_encoder() -> Callable[[Any, int], Any] | None:
    """What `_encoder.encode` runs, made once rather than at every call (JSONEncoder.iterencode
    makes a C encoder each time), without the circular-reference table: no state is shared
    between threads, and a cycle (which no plan value can make) ends in RecursionError, after
    which `_encoder` says what it always said."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # the C accelerator, if built
    if c_make_encoder is None:
        return None
    made: Callable[[Any, int], Any] = c_make_encoder(
        None, _fallback, encode_basestring_ascii, None, ":", ",", False, False, True)
    return made


_c_encode = _c_encoder()


def encode(name: str, payload: Any) -> bytes:
    if _c_encode is not None:
        try:
            return ("".join(_c_encode([name, payload], 0)) + "\n").encode("ascii")
        except RecursionError:
            pass  # a cycle ("Circular reference detected") or a value nested too deep: as before
    return (_encoder.encode([name, payload]) + "\n").encode("ascii")


# What json.loads runs once whitespace is skipped (an attribute its decoder sets on itself).
_scan_once: Callable[[str, int], Tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")


def decode(line: bytes) -> tuple[str, Any]:
    try:
        text = line.decode("ascii")
        message = _read_json(text)
    except ValueError as exc:  # UnicodeDecodeError included
        raise ProtocolError(f"not a JSON line: {line[:200]!r}") from exc
    if not (isinstance(message, list) and len(message) == 2 and message[0] in NAMES):
        raise ProtocolError(f"not a (name, payload) message: {line[:200]!r}")
    return message[0], message[1]


def _read_json(text: str) -> Any:
    """json.loads(text): the worker's lines are one JSON value each (with the newline that ends
    it, as LineBuffer.feed hands it over), which json's scanner reads alone; anything else
    (whitespace around it, trailing data, no value) takes json.loads."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return json.loads(text)
    if end == len(text) or (end == len(text) - 1 and text[end] == "\n"):
        return value
    return json.loads(text)


class LineBuffer:
    """Splits bytes read from a pipe into complete lines."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> bytes | None:
        """Buffer `chunk`; returns it at once when it is exactly one whole line (the usual case)."""
        if not self._buf and chunk.find(b"\n") == len(chunk) - 1:
            return chunk
        self._buf += chunk
        return None

    def pop_line(self) -> bytes | None:
        end = self._buf.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 1]
        return line

    def pending(self) -> int:
        return len(self._buf)
