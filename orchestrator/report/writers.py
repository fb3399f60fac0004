"""Run every requested report writer; one failing writer does not stop the others."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

from orchestrator.gc_pause import paused_gc
from orchestrator.report.html import write_html
from orchestrator.report.json_report import write_results
from orchestrator.report.junit import write_junit
from orchestrator.result.model import RunResult

Writer = Callable[[RunResult, Path], None]


def write_reports(run: RunResult, junit: Path | None, html: Path | None, json: Path | None, *,
                  junit_flavor: str = "default") -> list[str]:
    """Write the reports whose path is given; return one line per writer that failed."""
    jobs: list[tuple[str, Writer, Path | None]] = [
        ("JSON", write_results, json),  # first: the other reports can be rebuilt from it
        ("JUnit", functools.partial(write_junit, flavor=junit_flavor), junit),
        ("HTML", write_html, html),
    ]
    problems: list[str] = []
    for kind, writer, path in jobs:
        if path is None:
            continue
        try:
            with paused_gc():
                writer(run, path)
        except Exception as e:  # noqa: BLE001 - any writer bug must not cost the other reports
            detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
            problems.append(f"cannot write {kind} report {path}: {type(e).__name__}" + (f": {detail}" if detail else ""))
    return problems
