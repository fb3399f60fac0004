"""The deadline of the case this thread runs, which every bounded evaluation (templates,
expressions, `matches` regexes) also ends by. Kept apart from sandbox_limits so that what only
needs the clock (the regex fence, the case runner) does not import Jinja2 with it."""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

# Per thread: `case_deadline` (monotonic, or None); sandbox_limits keeps its budget here too.
state = threading.local()


@contextlib.contextmanager
def case_deadline(deadline: float | None) -> Iterator[None]:
    """Within this block (in this thread), evaluations also end by `deadline` (monotonic), so a
    case with little time left never waits out a whole evaluation budget."""
    previous = getattr(state, "case_deadline", None)
    state.case_deadline = deadline
    try:
        yield
    finally:
        state.case_deadline = previous


def time_limit(default_s: float) -> float:
    """`default_s`, or less when the case's deadline is nearer (never below 50 ms: a verdict
    needs a moment to be reached)."""
    deadline: float | None = getattr(state, "case_deadline", None)
    if deadline is None:
        return default_s
    return max(0.05, min(default_s, deadline - time.monotonic()))
