"""Durations and sizes as plans write them: a number, or a string with a unit."""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

_DURATION = re.compile(r"^\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|m|h)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

_SIZE = re.compile(r"^\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$")
_BYTES = {
    None: 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}

DURATION_HINT = "use seconds (30) or a string like 250ms, 5s, 2m, 1h"
SIZE_HINT = "use bytes (1048576) or a string like 512MiB, 2GiB, 500MB"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_duration(value: Any) -> float:
    """Seconds from `30`, `1.5`, `"250ms"`, `"5s"`, `"2m"`, `"1h"`. Raises ValueError."""
    return float(_amount(value, "duration", DURATION_HINT, _DURATION, _SECONDS))


def parse_size(value: Any) -> int:
    """Bytes from `1024`, `"10KB"`, `"1KiB"`, `"500MB"`, `"512MiB"`, `"2GiB"`. Raises ValueError."""
    return int(_amount(value, "size", SIZE_HINT, _SIZE, _BYTES))


def _amount(value: Any, what: str, hint: str, pattern: re.Pattern[str], units: Mapping[str | None, float]) -> float:
    """A number >= 0 as it is, or a string `pattern` reads as a number and a unit, in base units."""
    if _is_number(value):
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"invalid {what} {_shown(value)}: must be >= 0; {hint}")
        number: float = value  # an int stays exact: parse_size takes it as it is
        return number
    match = pattern.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"invalid {what} {_shown(value)}: {hint}")
    return float(match.group("n")) * units[match.group("unit")]
