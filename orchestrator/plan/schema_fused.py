"""What schema_fast's checks are made of: JSON Schema's types and equality on plain Python
values, and the keywords that constrain one kind of value (a mapping, a list, a string)
compiled into one check each: a mapping's properties, additionalProperties and required
are checked in one pass over its keys, where a closure per keyword walked it once each (a
third of the time of validating a 1,000-case plan). Same meanings as the keywords one by one.
"""
from __future__ import annotations

import re
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


OBJECT_KEYWORDS = frozenset({"properties", "additionalProperties", "required", "dependentRequired", "propertyNames",
                             "minProperties", "maxProperties"})
LIST_KEYWORDS = frozenset({"items", "minItems", "maxItems", "uniqueItems"})
STRING_KEYWORDS = frozenset({"minLength", "maxLength", "pattern"})


def mapping_check(schema: dict[str, Any], compile_: Callable[[Any], Check], lazy: bool, tail: Check | None) -> Check:
    """properties, additionalProperties and required (`tail`: the other mapping keywords, not
    patternProperties) as one check; `type: object` too when the schema says it. `lazy`: a
    key's schema is compiled when a value first has the key."""
    strict = schema.get("type") == "object"
    props: dict[str, Any] = schema.get("properties", {})
    known = {} if lazy else {name: compile_(sub) for name, sub in props.items()}
    has_extra = "additionalProperties" in schema
    extra = [] if lazy or not has_extra else [compile_(schema["additionalProperties"])]
    required = tuple(schema.get("required", ()))
    get = known.get

    def mapping(v: Any) -> bool:
        if not isinstance(v, dict):
            return not strict
        for name, value in v.items():
            check = get(name)
            if check is None:
                if name in props:
                    check = known[name] = compile_(props[name])
                elif not has_extra:
                    continue
                else:
                    if not extra:
                        extra.append(compile_(schema["additionalProperties"]))
                    check = extra[0]
            if not check(value):
                return False
        for name in required:
            if name not in v:
                return False
        return tail is None or tail(v)
    return mapping


def list_check(schema: dict[str, Any], compile_: Callable[[Any], Check], unique: Check | None) -> Check:
    """items, minItems, maxItems and uniqueItems (`unique`) as one check; `type: array` too when
    the schema says it."""
    strict = schema.get("type") == "array"
    check = compile_(schema["items"]) if "items" in schema else None
    low, high = schema.get("minItems", 0), schema.get("maxItems")

    def items(v: Any) -> bool:
        if not isinstance(v, list):
            return not strict
        if len(v) < low or (high is not None and len(v) > high):
            return False
        if check is not None:
            for item in v:
                if not check(item):
                    return False
        return unique is None or unique(v)
    return items


def string_check(schema: dict[str, Any]) -> Check:
    """minLength, maxLength and pattern as one check; `type: string` too when the schema says it."""
    strict = schema.get("type") == "string"
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None

    def string(v: Any) -> bool:
        if not isinstance(v, str):
            return not strict
        if len(v) < low or (high is not None and len(v) > high):
            return False
        return search is None or search(v) is not None
    return string
