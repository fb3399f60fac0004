"""Values as assertions see them: their type names, strict equality, and text that never raises.

Python's `True == 1` and `1 == 1.0 == True` are exactly what a release gate must not believe:
`strict_equal` only lets a boolean equal a boolean, and compares numbers as numbers otherwise.
`describe` shows a value with its type (`true (boolean)`, `'4' (text)`) for failure messages.
`json_safe` makes a copy JSON can carry (NaN, Infinity, integers too long to print, bytes,
sets, objects) and says what it changed.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

_SHOWN = 200
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]{1,30}\s*")
# CPython refuses to print integers longer than this (sys.get_int_max_str_digits, 3.11+), and
# reading one back from JSON fails the same way, so longer ones are never written.
MAX_INT_DIGITS = 4300
_BITS_PER_DIGIT = math.log2(10)


def is_number(value: Any) -> bool:
    """An int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def too_long_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and \
        abs(value).bit_length() > MAX_INT_DIGITS * _BITS_PER_DIGIT


def _int_summary(value: int) -> str:
    digits = int(abs(value).bit_length() / _BITS_PER_DIGIT) + 1
    return f"<integer of about {digits} digits>"


def shown(value: Any) -> str:
    """A short literal for messages (JSON spelling for scalars: true, null); never raises."""
    try:
        if too_long_int(value):
            text = _int_summary(value)
        elif value is None or isinstance(value, bool):
            text = json.dumps(value)
        elif isinstance(value, float) and not math.isfinite(value):
            text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        else:
            text = json.dumps(json_safe(value)[0], ensure_ascii=False) if isinstance(value, (Mapping, list, tuple)) \
                else repr(value)
    except Exception:  # a __repr__ that raises: say what it is instead
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def safe_repr(value: Any) -> str:
    """Python's repr, cut to a readable length; never raises (huge integers, odd objects)."""
    try:
        text = repr(value)
    except Exception:  # ValueError for an integer too long to print, or a __repr__ that raises
        return shown(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def describe(value: Any) -> str:
    """`true (boolean)`, `'4\\n' (text)`, `4 (integer)`."""
    return f"{shown(value)} ({type_name(value)})"


def strict_equal(a: Any, b: Any) -> bool:
    """Equality in which a boolean only equals a boolean, numbers compare as numbers, and
    lists and mappings compare element by element under the same rule."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if type_name(a) != type_name(b):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def whole(value: Any, what: str, minimum: int | None = None) -> int:
    """A step argument that must be a whole number (it may have come from a template or a
    --var as text: "8080" is 8080). Raises ValueError saying what was given instead."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        number = int(value)
    else:
        raise ValueError(f"{what} must be a whole number, got {describe(value)}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {number}")
    return number


def json_safe(value: Any, where: str = "", depth: int = 0) -> tuple[Any, list[str]]:
    """A copy of `value` that json.dumps writes as valid JSON and json.loads reads back, and a
    note per value that had to change (`output: NaN became the text 'NaN'`)."""
    notes: list[str] = []
    return _safe(value, where or "value", notes, depth), notes


def _safe(value: Any, where: str, notes: list[str], depth: int) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if too_long_int(value):
            text = _int_summary(value)
            notes.append(f"{where}: an integer too long for JSON became the text '{text}'")
            return text
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        text = shown(value)
        notes.append(f"{where}: {text} became the text '{text}' (JSON has no {text})")
        return text
    if depth > 100:
        notes.append(f"{where}: nested too deep, kept as text")
        return shown(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else shown(key)
            out[name] = _safe(item, f"{where}.{name}", notes, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_safe(item, f"{where}[{i}]", notes, depth + 1) for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        notes.append(f"{where}: a {type(value).__name__} became a list")
        return [_safe(item, f"{where}[{i}]", notes, depth + 1) for i, item in enumerate(value)]
    if isinstance(value, (bytes, bytearray)):
        notes.append(f"{where}: {type(value).__name__} became text (UTF-8, undecodable bytes escaped)")
        return bytes(value).decode("utf-8", "backslashreplace")
    text = shown(value)
    notes.append(f"{where}: a {type(value).__name__} object became the text {text!r}")
    return text


def as_text(value: Any) -> str:
    """The text an assertion on text compares: strings as they are, None as "", anything else
    as JSON (values JSON cannot carry converted first, see json_safe)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(json_safe(value)[0], ensure_ascii=False)
