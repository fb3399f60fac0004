"""Durations and sizes as plans write them: a number, or a string with a unit."""
from __future__ import annotations

import math
import re
from typing import Any

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
    if _is_number(value):
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"invalid duration {_shown(value)}: must be >= 0; {DURATION_HINT}")
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"invalid duration {_shown(value)}: {DURATION_HINT}")
    return float(match.group("n")) * _SECONDS[match.group("unit")]


def parse_size(value: Any) -> int:
    """Bytes from `1024`, `"10KB"`, `"1KiB"`, `"500MB"`, `"512MiB"`, `"2GiB"`. Raises ValueError."""
    if _is_number(value):
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"invalid size {_shown(value)}: must be >= 0; {SIZE_HINT}")
        return int(value)
    match = _SIZE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"invalid size {_shown(value)}: {SIZE_HINT}")
    return int(float(match.group("n")) * _BYTES[match.group("unit")])
