"""Which free worker a waiting caller gets: FIFO over callers, with session affinity.

Pure functions over the pool's queues (the pool holds its lock while calling them). Without a
session, the caller at the head of the queue takes the worker that has been free longest. With
affinity, a session that is bound to a live worker waits for that worker, and callers behind it
may overtake it for other workers; an unbound session gets the free worker serving the fewest
sessions, so different sessions share a worker only when there are more sessions than workers.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence, TypeVar

W = TypeVar("W")


@dataclass(eq=False)
class Ticket:
    """One waiting caller (compared by identity)."""

    session: str | None = None


def pick(ticket: Ticket, queue: Iterable[Ticket], idle: Sequence[W], bound: Mapping[str, W],
         starting: int = 0) -> W | None:
    """The worker `ticket` may take now, given everyone queued before it, or None.

    `starting`: workers on their way up; a new session waits for one of them rather than
    sharing a worker that already serves another session.
    """
    if not idle:
        return None
    available = list(idle)
    load: Counter[int] | None = None
    for waiting in queue:
        if waiting.session is not None and waiting.session in bound:
            mine = bound[waiting.session]
            worker = mine if any(w is mine for w in available) else None
        elif waiting.session is not None:
            if load is None:
                load = Counter(id(w) for w in bound.values())
            worker = min(available, key=lambda w: load[id(w)])
            if load[id(worker)] and starting:
                worker = None
        else:
            worker = available[0]
        if worker is None:
            continue
        if waiting is ticket:
            return worker
        available = [w for w in available if w is not worker]
        if not available:
            return None
    return None
