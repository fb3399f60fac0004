"""NaN and ±Infinity in results: JSON has no literal for them (`NaN` is invalid for `jq` and a
browser's JSON.parse), so they are written as the strings "NaN", "Infinity" and "-Infinity".
Number fields of the result model read them back as floats."""
from __future__ import annotations

import math
from typing import Any

NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def name_of(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def finite(value: Any) -> Any:
    """`value` (plain JSON-able data) with every non-finite float replaced by its name."""
    cls = type(value)
    if cls is float:
        return value if math.isfinite(value) else name_of(value)
    if cls is dict:
        return {k: finite(v) for k, v in value.items()}
    if cls is list or cls is tuple:
        return [finite(v) for v in value]
    return value


def number_back(value: Any) -> Any:
    """A number field as read from JSON: "NaN", "Infinity", "-Infinity" become floats again."""
    if type(value) is str and value in NAMES:
        return NAMES[value]
    return value
