"""`run`'s final write on two cores: a forked child writes the HTML report (the biggest of the
three) into its temporary file while this process writes results.json and JUnit; this process
then renames the page into place, so the reports appear in the order `write_all` gives them.

Forked only at the end of a run (the cases over, the pools closed; not for the live rewrites,
while cases run on other threads) and only for a run big enough to gain from it
(`FORK_FROM_CASES`) on more than one core. The threads still alive then (the signal watcher, the
capture janitor, the inline runner's stop watch) never touch what the child does: it renders
the page from the run's results, which nothing changes any more, with the writers' modules
imported and the page's template loaded beforehand, into a file it was handed (procs/forked,
`with_threads`). Whatever happens to the child (an exception, a signal, a deadline passed)
costs only time: its temporary file goes, and the page is written here after all, as
`write_all` would, problems and all. Same bytes either way.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from orchestrator.records import paused_gc
from orchestrator.report.writers import Written, why, write_all
from orchestrator.result.model import RunResult

# Below this many cases the fork and the child's first touches of the shared pages cost about
# what writing the page saves (measured at the end of `run`: see the commit that set it).
FORK_FROM_CASES = 300

# A child that has not ended this long after the parent's own part (at least the floor) is
# stopped and its page written here: a lock it should never have met costs time, not a hang.
_PATIENCE_FLOOR_S = 10.0
_PATIENCE_FACTOR = 4.0


def write_final(run: RunResult, junit: Path | None, html: Path | None, json: Path | None, *,
                junit_flavor: str = "default") -> Written:
    """`write_all` of the run's end, with the HTML written beside the other two where it pays."""
    if html is None or not worth_forking(run):
        return write_all(run, junit, html, json, junit_flavor=junit_flavor)
    from orchestrator.procs.forked import Child, beside
    from orchestrator.report.html import loaded_template, write_html_to
    from orchestrator.result.durable import temporary_beside

    try:
        template = loaded_template()  # here: the child must not import or load anything
        fd, tmp = temporary_beside(html)
    except Exception:  # noqa: BLE001 - the write in turn meets it again and words it
        return write_all(run, junit, html, json, junit_flavor=junit_flavor)

    def in_child() -> str:
        try:
            with paused_gc(), os.fdopen(fd, "wb") as fh:
                write_html_to(fh, run, template=template)
                fh.flush()
                os.fsync(fh.fileno())  # beside the parent's fsyncs, not after them
        except BaseException:  # a signal too: the temporary file goes with the child
            _remove(tmp)
            raise
        return ""

    def here(child: Child) -> Written:
        os.close(fd)  # the child's to write
        closed.append(fd)
        began = time.monotonic()
        others = write_all(run, junit, None, json, junit_flavor=junit_flavor)
        patience = max(_PATIENCE_FLOOR_S, _PATIENCE_FACTOR * (time.monotonic() - began))
        if child.outcome(within=patience).failure:
            _remove(tmp)
            return _joined(others, write_all(run, None, html, None))
        try:
            os.replace(tmp, html)
        except OSError as e:
            _remove(tmp)
            return Written(others.paths, (*others.problems, f"cannot write HTML report {html}: {why(e)}"))
        return Written((*others.paths, html), others.problems)

    closed: list[int] = []
    try:
        both = beside(in_child, here, with_threads=True)
    except BaseException:  # a stop signal in the parent (`beside` has stopped the child)
        _remove(tmp)
        raise
    finally:
        if not closed:  # not forked, or stopped before the parent's part began
            os.close(fd)
    if both is None:  # no fork after all
        _remove(tmp)
        return write_all(run, junit, html, json, junit_flavor=junit_flavor)
    return both[0]


def worth_forking(run: RunResult) -> bool:
    from orchestrator.procs.forked import spare_core

    return len(run.cases) >= FORK_FROM_CASES and spare_core() and _a_core_is_idle()


def _a_core_is_idle() -> bool:
    """Whether fewer tasks are runnable right now (this one included) than this process may run
    on: a child on a busy machine only shares a core and adds the fork's cost (its copied
    pages: ~10 ms of each process's CPU at 1,000 cases). True where that cannot be read."""
    from orchestrator.procs import cores

    runnable = cores.runnable_now()
    return runnable is None or runnable < cores.usable()


def _joined(first: Written, then: Written) -> Written:
    return Written((*first.paths, *then.paths), (*first.problems, *then.problems))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
