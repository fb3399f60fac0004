"""Run every requested report writer; one failing writer does not stop the others."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Mapping

from orchestrator.records import paused_gc, record
from orchestrator.result.durable import synced_together
from orchestrator.result.model import RunResult

Writer = Callable[[RunResult, Path], None]


# The writers are imported when called: ElementTree and the page's modules load only in a command that writes.
def write_results(run: RunResult, path: Path) -> None:
    from orchestrator.report.json_report import write_results as write

    write(run, path)


def write_junit(run: RunResult, path: Path, *, flavor: str = "default") -> None:
    from orchestrator.report.junit import write_junit as write

    write(run, path, flavor=flavor)


def write_html(run: RunResult, path: Path, *, parts: Mapping[str, Callable[[], str | None]] | None = None) -> None:
    from orchestrator.report.html import write_html as write

    write(run, path, parts)


@record
class Written:
    """What `write_all` did: the reports now on disk, and one line per report that is not."""

    paths: tuple[Path, ...]
    problems: tuple[str, ...]


def write_reports(run: RunResult, junit: Path | None, html: Path | None, json: Path | None, *,
                  junit_flavor: str = "default") -> list[str]:
    """Write the reports whose path is given; return one line per writer that failed."""
    return list(write_all(run, junit, html, json, junit_flavor=junit_flavor).problems)


def write_all(run: RunResult, junit: Path | None, html: Path | None, json: Path | None, *,
              junit_flavor: str = "default", html_parts: Mapping[str, Callable[[], str | None]] | None = None) -> Written:
    """Write the reports whose path is given (each to a temporary name, renamed into place).
    `html_parts`: see report/html.write_html."""
    jobs: list[tuple[str, Writer, Path | None]] = [
        ("JSON", write_results, json),  # first: the other reports can be rebuilt from it
        ("JUnit", functools.partial(write_junit, flavor=junit_flavor), junit),
        ("HTML", functools.partial(write_html, parts=html_parts), html),
    ]
    outcomes: list[tuple[str, Path, Exception | None]] = []
    with synced_together() as not_in_place:  # the files' fsyncs at once, at the end (result/durable)
        for kind, writer, path in jobs:
            if path is None:
                continue
            try:
                with paused_gc():
                    writer(run, path)
                outcomes.append((kind, path, None))
            except Exception as e:  # noqa: BLE001 - any writer bug must not cost the other reports
                outcomes.append((kind, path, e))
    problems: list[str] = []
    written: list[Path] = []
    for kind, path, error in outcomes:
        error = error or not_in_place.get(str(path))
        if error is None:
            written.append(path)
        else:
            problems.append(f"cannot write {kind} report {path}: {why(error)}")
    return Written(tuple(written), tuple(problems))


def why(e: Exception) -> str:
    """What went wrong, in a few words, for "cannot write ... report PATH: WHY"."""
    if isinstance(e, OSError) and e.strerror:  # "No space left on device", not "[Errno 28] ..."
        return e.strerror
    detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return type(e).__name__ + (f": {detail}" if detail else "")
