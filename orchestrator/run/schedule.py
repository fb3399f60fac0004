"""Which case runs next: priority order, `serial`/`lock` exclusion, memory admission. Pure logic.

The engine owns threads and pools; this module only answers questions about case specs, so it
can be tested without starting anything.
"""
from __future__ import annotations

from dataclasses import field
from typing import Iterable, Sequence, TypeVar

from orchestrator.plan.model import CaseSpec, ParallelArgs, StepSpec
from orchestrator.plan.step_args import CallArgs, LoadArgs
from orchestrator.records import mutable_record
from orchestrator.vocabulary import PRIORITIES

Key = tuple[int, int]  # (plan index, case index)
T = TypeVar("T")


def case_providers(case: CaseSpec) -> list[str]:
    """Provider ids a case calls, in first-use order (`call` and `load` steps, nested too)."""
    found: dict[str, None] = {}

    def walk(steps: Iterable[StepSpec]) -> None:
        for step in steps:
            args = step.args
            if isinstance(args, CallArgs):
                found[str(args.provider)] = None
            elif isinstance(args, LoadArgs):
                found[str(args.call)] = None
            elif isinstance(args, ParallelArgs):
                walk(args.steps)

    walk(case.steps)
    return list(found)


def priority_rank(priority: str) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


def run_order(items: Sequence[tuple[Key, T, CaseSpec]]) -> list[tuple[Key, T, CaseSpec]]:
    """P0 first, then P1 …; within a priority, plan order (plans in command-line order)."""
    return sorted(items, key=lambda item: (priority_rank(item[2].priority), item[0]))


def is_serial(case: CaseSpec) -> bool:
    return case.serial


def lock_of(case: CaseSpec) -> str | None:
    return case.lock


@mutable_record
class Exclusion:
    """What is running now, as far as `serial` and `lock` care."""

    running: dict[Key, CaseSpec] = field(default_factory=dict)

    def allows(self, case: CaseSpec) -> bool:
        if not self.running:
            return True
        if is_serial(case) or any(is_serial(c) for c in self.running.values()):
            return False
        lock = lock_of(case)
        return lock is None or all(lock_of(c) != lock for c in self.running.values())

    def started(self, key: Key, case: CaseSpec) -> None:
        self.running[key] = case

    def finished(self, key: Key) -> None:
        self.running.pop(key, None)


def pick_next(ready: Sequence[tuple[Key, T, CaseSpec]], exclusion: Exclusion) -> int | None:
    """Index in `ready` of the first case allowed to start now, or None.

    A `serial` case at the head is a barrier: nothing behind it starts before it has run, so it
    is not starved by a stream of smaller cases. A case waiting for its lock is stepped over.
    """
    for index, (_, _, case) in enumerate(ready):
        if exclusion.allows(case):
            return index
        if is_serial(case):
            return None
    return None


def memory_allows(used_bytes: int, limit_bytes: int | None, running: int) -> bool:
    """`--max-memory`: no new case while the run's processes together exceed the limit.

    With nothing running a case always starts: holding everything back would never end.
    """
    return limit_bytes is None or running == 0 or used_bytes <= limit_bytes
