"""Compact JSON of result-model records, written without a callback per record.

`result.store.encode` gives json's C encoder a `default` that turns each record into a dict of
its fields, which the encoder then writes: per finished case that was four dicts built and
thrown away, and the encoder's own set-up, ~20 us of the ~35 us the engine spent journaling a
trivial case. Here each record class gets, on first use, a function that writes its fields
straight to text (generated once: `{"id": ` + the id's JSON + `, "name": ` ...), and values
are written by exact type: strings by json's own C escaper, numbers by their repr, lists and
dicts item by item.

The text is the very text the C encoder writes (ensure_ascii, ", " and ": " separators,
allow_nan=False); `text` returns None for what it does not write the same way (a dict with a
key that is not a string, a record class with a `__dict__`, NaN), and the caller encodes the
value as before. tests/unit/report/test_model_json.py compares the two on hostile values.
"""
from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any, Callable

from orchestrator.result.model import Status, field_names
from orchestrator.result.step_fields import StepFields

Writer = Callable[[Any], str]


class _NotHere(Exception):
    """A value this module does not write the C encoder's way: the caller's encoder does."""


def text(value: Any) -> str | None:
    """`value` as `store.encode` writes it, or None where only that encoder can tell."""
    try:
        return _value(value)
    except Exception:  # _NotHere; a cycle (RecursionError), an integer too long to print: the encoder tells
        return None


_float_repr = float.__repr__
_int_repr = int.__repr__


def _value(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    writer = _WRITERS.get(kind)
    if writer is None:
        writer = _learn(kind, value)
    return writer(value)


def _float(value: float) -> str:
    """A float's shortest repr (~0.5 us each: a third of a case's line). A case's duration is its
    one attempt's, written right after it: the last one written is kept (not 0.0, whose equal
    -0.0 is written differently)."""
    global _last_float
    last = _last_float
    if value == last[0] and value:
        return last[1]
    written = _float_repr(value)
    if written[-1] > "9":  # "nan", "inf", "-inf" (a finite float's repr ends with a digit)
        raise _NotHere  # the encoder refuses them, and store.encode knows what then
    _last_float = (value, written)
    return written


_last_float = (0.0, "0.0")


def _sequence(value: Any) -> str:
    if not value:
        return "[]"
    parts = []
    for item in value:  # as _value, with the usual items (records, text) without a call through it
        kind = type(item)
        if kind is str:
            parts.append(encode_basestring_ascii(item))
        else:
            parts.append((_WRITERS.get(kind) or _value)(item))
    return "[" + ", ".join(parts) + "]"


def _refuse(value: Any) -> Any:
    raise _NotHere  # a value json's C encoder does not know (a record): _dict's own loop writes it


def _c_plain_encoder() -> Callable[[Any, int], Any] | None:
    """json's C encoder as store.encode's encoder runs it (ensure_ascii, ", " and ": ",
    allow_nan=False), without its circular-reference table (nothing is shared between
    threads: a cycle ends in RecursionError, and _dict's loop then tells) and with no callback."""
    import json.encoder

    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    encoder: Callable[[Any, int], Any] = make(None, _refuse, encode_basestring_ascii, None, ": ", ", ",
                                              False, False, False)
    return encoder


_c_plain = _c_plain_encoder()


def _dict(value: dict[Any, Any]) -> str:
    """A dict of plain values (a step's fields) in one call of json's C encoder; one that holds
    a record, a NaN or a key json refuses, item by item."""
    if not value:
        return "{}"
    if _c_plain is not None:
        try:
            return "".join(_c_plain(value, 0))
        except Exception:  # _NotHere, ValueError (NaN), TypeError (a key), RecursionError
            pass
    parts = []
    for key, item in value.items():
        if type(key) is not str:
            raise _NotHere  # the encoder's own key rules (numbers, None, refusals)
        kind = type(item)
        parts.append(encode_basestring_ascii(key) + ": " + (
            encode_basestring_ascii(item) if kind is str else "null" if item is None
            else _int_repr(item) if kind is int else (_WRITERS.get(kind) or _value)(item)))
    return "{" + ", ".join(parts) + "}"


def _step_fields(value: StepFields) -> str:
    return _dict(value.as_json())


def _none(value: None) -> str:
    return "null"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _not_here(value: Any) -> str:
    raise _NotHere


_INF = float("inf")
_STATUSES = {status: encode_basestring_ascii(status) for status in Status}
_WRITERS: dict[type, Writer] = {
    int: _int_repr, float: _float, type(None): _none, bool: _bool, list: _sequence, tuple: _sequence,
    dict: _dict, Status: encode_basestring_ascii,
}


def _learn(kind: type, value: Any) -> Writer:
    """The writer of a class met for the first time: a record's own, or the caller's encoder."""
    writer: Writer = _not_here
    names = field_names(value)
    if names and getattr(value, "__dict__", None) is None:  # a slotted record: its fields are all it has
        writer = _record_writer(kind, names)
    elif isinstance(value, StepFields):
        writer = _step_fields
    elif isinstance(value, str):  # a str enum: the encoder writes its text
        writer = encode_basestring_ascii
    _WRITERS[kind] = writer
    return writer


def _record_writer(kind: type, names: tuple[str, ...]) -> Writer:
    """`lambda o: "".join(('{"a": ', _value(o.a), ', "b": ', _value(o.b), '}'))`, made once per class."""
    keys = [("{" if n == 0 else ", ") + encode_basestring_ascii(name) + ": " for n, name in enumerate(names)]
    if not all(name.isidentifier() for name in names):
        return lambda o: "".join([key + _value(getattr(o, name)) for key, name in zip(keys, names)]) + "}"
    # Strings, None, numbers, statuses and booleans (most fields) are written here, without a
    # call through _value; anything else by its class's writer.
    parts = ", ".join(f"{key!r}, e(x) if (t := type(x := o.{name})) is s else 'null' if x is None else "
                      f"i(x) if t is n else f(x) if t is fl else S[x] if t is St else "
                      f"('true' if x else 'false') if t is b else '[]' if t is tu and not x else (W.get(t) or v)(x)"
                      for key, name in zip(keys, names))
    scope: dict[str, Any] = {"v": _value, "e": encode_basestring_ascii, "s": str, "i": _int_repr, "n": int,
                             "f": _float, "fl": float, "S": _STATUSES, "St": Status, "b": bool, "W": _WRITERS,
                             "tu": tuple}
    exec(compile(f"def write(o):\n    return ''.join(({parts}, '}}'))\n", f"<json of {kind.__qualname__}>", "exec"),
         scope)
    writer: Writer = scope["write"]
    return writer
