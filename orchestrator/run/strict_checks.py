"""The assertions that compare values by type: `equals` (and `json: {equals}`), `exit_code`,
`max_ms` and `count`. None of them takes a boolean for a number or a number for a boolean.

A number (or boolean) in the plan compared with text output compares the text: `equals: 4`
holds on stdout `4`. Every failure names both values with their types; where YAML turned what
the plan says into something else (`yes` -> true, `010` -> 8, `1.50` -> 1.5) or a newline is
the difference, the message says how to write it.
"""
from __future__ import annotations

import json
import math
from typing import Any, Mapping

import yaml

from orchestrator.evaluation.values import describe, is_number, json_safe, shown, strict_equal, whole


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return shown(value)  # NaN, Infinity: as the worker writes them
    return value if isinstance(value, str) else json.dumps(json_safe(value)[0], ensure_ascii=False)


def equals(expected: Any, actual: Any) -> tuple[bool, str]:
    if isinstance(actual, str) and (is_number(expected) or isinstance(expected, bool)):
        text = _as_text(expected)  # `equals: 4` on text output "4": compare the text
        if text == actual:
            return True, ""
        return False, (f"expected {describe(expected)}, compared as the text {text!r}, "
                       f"got {describe(actual)}{_text_hint(expected, actual)}")
    if strict_equal(expected, actual):
        return True, ""
    if isinstance(actual, str) and isinstance(expected, (list, Mapping)):
        if _parses_to(actual, expected):  # `equals: {a: 1}` on the JSON text {"a": 1}
            return True, ""
        return False, f"expected {describe(expected)}, got {describe(actual)}, which is not that JSON value"
    return False, f"expected {describe(expected)}, got {describe(actual)}{_type_hint(expected, actual)}"


def _parses_to(text: str, expected: Any) -> bool:
    try:
        return strict_equal(json.loads(text), expected)
    except (ValueError, RecursionError):
        return False


def _text_hint(expected: Any, actual: str) -> str:
    """Why a plan's number or boolean did not match the text, when the plan can say it better."""
    stripped = actual.strip()
    try:
        read = yaml.safe_load(stripped) if stripped and len(stripped) < 100 else None
    except yaml.YAMLError:
        read = None
    if strict_equal(read, expected) and stripped != _as_text(expected):
        return (f"; YAML read the plan's value as {describe(expected)}: quote it to compare text, "
                f"e.g. equals: {json.dumps(actual if stripped == actual else stripped)}"
                + ("" if stripped == actual else " (and mind the whitespace around the output)"))
    if stripped == _as_text(expected):
        return f"; the output has whitespace around it: quote the text, e.g. equals: {json.dumps(actual)}"
    return ""


def _type_hint(expected: Any, actual: Any) -> str:
    if isinstance(expected, bool) and is_number(actual) or is_number(expected) and isinstance(actual, bool):
        return "; a boolean is never equal to a number"
    if isinstance(expected, str) and (is_number(actual) or isinstance(actual, bool) or actual is None):
        literal = "null" if actual is None else shown(actual)
        if expected.strip() == literal:
            return f"; the plan's value is quoted text: write equals: {literal} without quotes"
    return ""


def whole_number(value: Any) -> int | None:
    """An int the plan or a template gave (not a boolean; "3" is 3); None when it is none."""
    try:
        return whole(value, "")
    except ValueError:
        return None


def exit_code(expected: Any, actual: Any) -> tuple[bool, str]:
    wanted = whole_number(expected)
    if wanted is None:
        return False, f"exit_code needs a whole number, got {describe(expected)}"
    if actual is None:
        return False, f"expected exit code {shown(wanted)}, the process has none (it was killed or never ran)"
    if isinstance(actual, bool) or not isinstance(actual, int):
        return False, f"expected exit code {shown(wanted)}, got {describe(actual)}"
    return actual == wanted, f"expected exit code {shown(wanted)}, got {shown(actual)}"


def max_ms(expected: Any, actual: Any) -> tuple[bool, str]:
    limit = _milliseconds(expected)
    if limit is None:
        return False, f"max_ms needs a number of milliseconds, got {describe(expected)}"
    if not _finite(actual):
        return False, f"expected a duration in ms (a number), got {describe(actual)}"
    return actual <= limit, f"took {shown(actual)} ms, limit {shown(limit)} ms"


def _finite(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and math.isfinite(value)


def _milliseconds(value: Any) -> float | int | None:
    """The plan's limit: a number, or text that is one (a --var renders as text); never a boolean."""
    if _finite(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def count(expected: Any, actual: Any) -> tuple[bool, str]:
    n, why = _counted(actual)
    if n is None:
        return False, why
    if isinstance(expected, Mapping):
        low, high = expected.get("min"), expected.get("max")
        bounds = [(k, v, whole_number(v)) for k, v in (("min", low), ("max", high)) if v is not None]
        bad = next(((k, v) for k, v, parsed in bounds if parsed is None), None)
        if bad is not None:
            return False, f"count {bad[0]} needs a whole number, got {describe(bad[1])}"
        lo, hi = whole_number(low) if low is not None else None, whole_number(high) if high is not None else None
        ok = (lo is None or n >= lo) and (hi is None or n <= hi)
        return ok, f"count {shown(n)} outside [{'-' if lo is None else shown(lo)}, {'-' if hi is None else shown(hi)}]"
    wanted = whole_number(expected)
    if wanted is None:
        return False, f"count needs a whole number or {{min, max}}, got {describe(expected)}"
    return n == wanted, f"expected count {shown(wanted)}, got {shown(n)}"


def _counted(actual: Any) -> tuple[int | None, str]:
    """How many: the length of a list or mapping, or a whole number itself."""
    if isinstance(actual, (list, tuple, Mapping)):
        return len(actual), ""
    if isinstance(actual, int) and not isinstance(actual, bool) and actual >= 0:
        return actual, ""
    if isinstance(actual, float) and math.isfinite(actual) and actual.is_integer() and actual >= 0:
        return int(actual), ""
    return None, f"nothing to count: expected a list, a mapping or a whole number, got {describe(actual)}"


def contains_item(items: list[Any], expected: Any) -> bool:
    return any(strict_equal(item, expected) for item in items)


__all__ = ["contains_item", "count", "equals", "exit_code", "max_ms", "whole_number"]
