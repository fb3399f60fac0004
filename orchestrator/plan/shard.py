"""`--shard I/N`: which part of the selected cases this run takes. Deterministic and balanced.

With durations from an earlier results file, cases are dealt greedily, longest first, to the
shard with the least time so far (cases the file does not know count as the mean known
duration). Without, a stable hash of the case id (plan name + id) decides — the same on every
machine and Python, unlike `hash()`.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Mapping, Sequence

from orchestrator.errors import UserError
from orchestrator.plan.model import Plan
from orchestrator.records import record

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@record
class Shard:
    index: int  # 1-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str) -> Shard:
    match = _SHARD.match(text)
    if match is None:
        raise UserError(f"--shard takes I/N (e.g. 2/4), got {text!r}")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1 or not 1 <= index <= total:
        raise UserError(f"--shard {text}: I must be between 1 and N, and N at least 1")
    return Shard(index, total)


def case_key(plan: str, case_id: str) -> str:
    return f"{plan}::{case_id}"


def assign(keys: Sequence[str], total: int, durations: Mapping[str, float] | None = None) -> dict[str, int]:
    """Shard number (1-based) of each key."""
    if not durations:
        return {key: _stable(key) % total + 1 for key in keys}
    known = [durations[k] for k in keys if k in durations]
    default = sum(known) / len(known) if known else 1.0
    cost = {k: float(durations.get(k, default)) for k in keys}
    loads = [0.0] * total
    out: dict[str, int] = {}
    # Longest first; ties broken by key so every shard computes the same split.
    for key in sorted(keys, key=lambda k: (-cost[k], k)):
        target = min(range(total), key=lambda i: (loads[i], i))
        loads[target] += cost[key]
        out[key] = target + 1
    return out


def take_shard(plans: Sequence[Plan], shard: Shard, durations: Mapping[str, float] | None = None) -> tuple[Plan, ...]:
    keys = [case_key(p.name, c.id) for p in plans for c in p.cases]
    where = assign(keys, shard.total, durations)
    return tuple(replace(p, cases=tuple(c for c in p.cases if where[case_key(p.name, c.id)] == shard.index))
                 for p in plans)


def _stable(key: str) -> int:
    import hashlib  # here: only --shard needs it (it loads OpenSSL: ~5 ms of every start)

    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
