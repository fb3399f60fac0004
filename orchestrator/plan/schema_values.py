"""What schema_fast's checks are made of: JSON Schema's types and equality on plain Python values."""
from __future__ import annotations

from typing import Any, Callable, Sequence

Check = Callable[[Any], bool]


def is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}

# The types whose JSON kind is one Python class (and no other kind's): one isinstance for several.
_PLAIN_TYPES: dict[str, type] = {"null": type(None), "boolean": bool, "string": str, "array": list, "object": dict}


def plain_types(kinds: Sequence[str]) -> tuple[type, ...]:
    """The Python classes of those of `kinds` that are one class each (not number, integer)."""
    return tuple(_PLAIN_TYPES[k] for k in kinds if k in _PLAIN_TYPES)


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema means it: true is not 1, 1 is 1.0, containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return bool(a == b)


def all_of(checks: list[Check]) -> Check:
    """One check that holds when all of `checks` hold (unrolled: a generator costs more than
    the checks themselves, and a plan calls these hundreds of thousands of times)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)
    first, rest = checks[0], all_of(checks[1:])
    return lambda v: first(v) and rest(v)
