"""Regexes from plans: compiled only when their size is sane, matched with a time limit.

The `regex` engine (chosen for its per-match timeout) expands counted repeats when it compiles,
so `(a{10000}){10000}` takes seconds and gigabytes before any timeout applies. A pattern is
therefore first parsed by the standard library (whose syntax and messages `validate` uses) and
refused when its repeats, multiplied through their nesting, exceed MAX_EXPANDED.
"""
from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from orchestrator.eval_clock import time_limit


def _stdlib(name: str) -> Any:
    """The standard library's regex parser modules: re._parser (3.11+) or sre_parse before."""
    try:
        return importlib.import_module(f"re._{name}")
    except ImportError:  # pragma: no cover - Python < 3.11
        return importlib.import_module({"parser": "sre_parse", "constants": "sre_constants"}[name])


sre_parse = _stdlib("parser")
sre_constants = _stdlib("constants")

MATCH_TIMEOUT_S = 2.0
MAX_EXPANDED = 200_000
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
            getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT)}


def problem(pattern: str) -> str | None:
    """Why `pattern` may not be used (bad syntax, too large once expanded), or None."""
    try:
        re.compile(pattern)  # some errors (look-behind width...) are found only when compiling
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return str(exc)
    except (OverflowError, RecursionError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    size = _expanded(parsed)
    if size > MAX_EXPANDED:
        return f"its repeats expand to {size:,} items (limit {MAX_EXPANDED:,}): use fewer nested counts"
    return None


def _expanded(items: Any) -> int:
    total = 0
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            count = high if high != sre_constants.MAXREPEAT else max(low, 1)
            total += max(count, 1) * _expanded(sub)
        elif op is sre_constants.SUBPATTERN:
            total += _expanded(av[-1])
        elif op is sre_constants.BRANCH:
            total += sum(_expanded(branch) for branch in av[1])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            total += _expanded(av[1])
        else:
            total += 1
        if total > MAX_EXPANDED:  # no need to count further
            return total
    return total


def search(pattern: str, text: str, timeout_s: float = MATCH_TIMEOUT_S) -> bool:
    """Whether `pattern` matches in `text`. Raises ValueError (with the reason) for a pattern
    that may not be used, TimeoutError when matching takes longer than `timeout_s` (or than
    the case has left, see sandbox_limits.case_deadline)."""
    why = problem(pattern)
    if why is not None:
        raise ValueError(why)
    limit = time_limit(timeout_s)
    try:  # nearly every match ends in microseconds: try inline first
        return _search(pattern, text, min(limit, _INLINE_S))
    except TimeoutError:
        if limit <= _INLINE_S:
            raise TimeoutError(round(limit, 2)) from None
    # A slow one: the engine's timeout counts CPU time, which on a loaded machine can be a
    # fraction of the wall clock, so it finishes in a helper thread (the GIL is released while
    # it matches, and it stops at its own CPU limit) while we wait by the wall clock.
    outcome: list[Any] = []
    helper = threading.Thread(target=lambda: outcome.append(_attempt(pattern, text, limit)),
                              name="regex", daemon=True)
    helper.start()
    helper.join(limit)
    if not outcome or isinstance(outcome[0], TimeoutError):
        raise TimeoutError(round(limit, 2))
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return bool(outcome[0])


_INLINE_S = 0.05


def _search(pattern: str, text: str, timeout_s: float) -> bool:
    import regex  # ~7 ms: only for a plan with a `matches`

    try:
        return regex.search(pattern, text, timeout=timeout_s, concurrent=True) is not None
    except regex.error as exc:
        raise ValueError(str(exc)) from None


def _attempt(pattern: str, text: str, timeout_s: float) -> bool | BaseException:
    try:
        return _search(pattern, text, timeout_s)
    except (TimeoutError, ValueError) as exc:
        return exc


__all__ = ["MATCH_TIMEOUT_S", "MAX_EXPANDED", "problem", "search"]
