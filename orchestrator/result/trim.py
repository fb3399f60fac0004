"""What a result keeps for storage: long text cut to its head and tail, with a visible note.

The run judges full values (assertions and `expr` see what a step produced, up to the capture
caps of procs.capture and the provider result cap); only then are results trimmed, so that a
chatty step cannot make results.json, JUnit or the HTML report huge.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchestrator.result.model import StepResult
from orchestrator.result.step_fields import step_fields

FIELD_KEEP_CHARS = 32 * 1024  # head and tail each, for every text inside a step's result fields
LOG_KEEP_CHARS = 512 * 1024  # head and tail each, for a case attempt's captured stdout / stderr


def trimmed_text(text: str, keep: int) -> str:
    if len(text) <= 2 * keep:
        return text
    left_out = len(text) - 2 * keep
    return (f"{text[:keep]}\n[… truncated for the report: {len(text):,} characters, {left_out:,} left out "
            f"here; the first {keep:,} and the last {keep:,} are kept …]\n{text[-keep:]}")


def trimmed(value: Any, keep: int = FIELD_KEEP_CHARS) -> Any:
    """`value` with every long string inside it trimmed (the same object when nothing is)."""
    if _no_text_over(value, 2 * keep):  # the usual case: one look, no copies
        return value
    return _trimmed(value, keep)


_SCALARS = frozenset({int, float, bool, type(None)})


def _no_text_over(value: Any, limit: int, budget: int = 10_000) -> bool:
    """No string inside `value` is longer than `limit`. False also once `budget` values were
    looked at: a huge (or, in error, cyclic) value then takes the copying walk, as it always did.
    A container's scalars and strings are looked at in place; only nested containers are stacked
    (a step's fields are mostly scalars: one loop, no stack traffic)."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            inner: Any = item.values()
        elif kind is list or kind is tuple:
            inner = item
        elif isinstance(item, str):
            if len(item) > limit:
                return False
            continue
        elif isinstance(item, dict):
            inner = item.values()
        elif isinstance(item, (list, tuple)):
            inner = item
        else:
            continue
        budget -= len(inner) + 1
        if budget < 0:
            return False
        for part in inner:
            part_kind = type(part)
            if part_kind is str:
                if len(part) > limit:
                    return False
            elif part_kind not in _SCALARS:
                push(part)
    return True


def _trimmed(value: Any, keep: int) -> Any:
    if isinstance(value, str):
        return trimmed_text(value, keep)
    if isinstance(value, dict):
        items = {k: _trimmed(v, keep) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if isinstance(value, (list, tuple)):
        seq = [_trimmed(v, keep) for v in value]
        return value if all(a is b for a, b in zip(seq, value)) else seq
    return value


def stored_step(step: StepResult) -> StepResult:
    stored = step.fields.as_json()
    fields = trimmed(stored)
    return step if fields is stored else replace(step, fields=step_fields(step.action, fields))


__all__ = ["FIELD_KEEP_CHARS", "LOG_KEEP_CHARS", "stored_step", "trimmed", "trimmed_text"]
