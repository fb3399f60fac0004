"""`run`'s final write on two cores: a forked child makes the HTML page's heaviest parts (the
packed case details, the rows, the timeline: `report/html_parts.PARTS`) while this process
writes results.json, JUnit and the page up to them, then takes them from the child, as
`orchestrator report` does (cli/results.py). Every file is written and renamed here, in the
order `write_all` gives them.

Forked only at the end of a run (the cases over, the pools closed; not for the live rewrites,
while cases run on other threads) and only for a run big enough to gain from it
(`FORK_FROM_CASES`) on more than one core, one of them idle right then. The threads still alive
then (the signal watcher, the capture janitor, the inline runner's stop watch) never touch what
the child does: it makes the parts from the run's results, which nothing changes any more, with
the writers' modules imported beforehand (procs/forked, `with_threads`). Whatever happens to
the child (an exception, a signal, a deadline passed) costs only time: the parts are made here
after all. Same bytes either way.

Why the parts and not the whole page (the child wrote the page before): with results.json
taken from the journal's bytes, this process's share (results.json, JUnit) fell to ~14 ms of
~45, and the child's page became the end of the write; split at the parts, the two halves are
about even.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Mapping

from orchestrator.records import paused_gc
from orchestrator.report.writers import Written, write_all
from orchestrator.result.model import RunResult

# Below this many cases the fork and the child's first touches of the shared pages cost about
# what making the parts here saves (measured at the end of `run`: see the commit that set it).
FORK_FROM_CASES = 300

# A child whose parts are not there this long after the fork (at least the floor, or this many
# times what this process took to get to them) is stopped and the parts are made here: a lock
# it should never have met costs time, not a hang.
_PATIENCE_FLOOR_S = 10.0
_PATIENCE_FACTOR = 4.0


def write_final(run: RunResult, junit: Path | None, html: Path | None, json_path: Path | None, *,
                junit_flavor: str = "default") -> Written:
    """`write_all` of the run's end, with the page's heaviest parts made beside it where it pays."""
    if html is None or not worth_forking(run):
        return write_all(run, junit, html, json_path, junit_flavor=junit_flavor)
    from orchestrator.procs.forked import Child, beside
    from orchestrator.report import html_parts

    def here(child: Child) -> Written:
        forked_at = time.monotonic()
        made: dict[str, str] = {}

        def taken(name: str) -> Callable[[], str | None]:
            def take() -> str | None:
                patience = max(_PATIENCE_FLOOR_S, _PATIENCE_FACTOR * (time.monotonic() - forked_at))
                outcome = child.outcome(within=patience)  # waits for the child the first time
                if not made and not outcome.failure:
                    made.update(json.loads(outcome.text))
                return made.get(name)  # None: made here after all
            return take

        parts = {name: taken(name) for name in html_parts.PARTS}
        return write_all(run, junit, html, json_path, junit_flavor=junit_flavor, html_parts=parts)

    both = beside(lambda: parts_made_in_child(run, html_parts.PARTS), here, with_threads=True)
    return write_all(run, junit, html, json_path, junit_flavor=junit_flavor) if both is None else both[0]


def parts_made_in_child(run: RunResult, parts: Mapping[str, Callable[[RunResult], str]]) -> str:
    """The child's work: every part, as one JSON object of texts (it imports nothing)."""
    with paused_gc():
        return json.dumps({name: make(run) for name, make in parts.items()})


def worth_forking(run: RunResult) -> bool:
    from orchestrator.procs.forked import spare_core

    return len(run.cases) >= FORK_FROM_CASES and spare_core() and _a_core_is_idle()


def _a_core_is_idle() -> bool:
    """Whether fewer tasks are runnable right now (this one included) than this process may run
    on: a child on a busy machine only shares a core and adds the fork's cost (its copied
    pages: ~7 ms of each process's CPU at 1,000 cases). True where that cannot be read."""
    from orchestrator.procs import cores

    runnable = cores.runnable_now()
    return runnable is None or runnable < cores.usable()


__all__ = ["FORK_FROM_CASES", "parts_made_in_child", "worth_forking", "write_final"]
