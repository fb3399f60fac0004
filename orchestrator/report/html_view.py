"""What the HTML report's page shows, as plain data: every string from the run made XML-safe
(report/sanitize.py) here or in report/html_sections.py; the page (report/html_page.py) escapes
each of them where it places it."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from orchestrator.records import record
from orchestrator.report import html_sections as sections
from orchestrator.report.html_details import mib, when
from orchestrator.report.html_markup import Markup
from orchestrator.report.html_parts import PARTS
from orchestrator.report.sanitize import clean, xml_safe
from orchestrator.result.model import RunResult, Status, WorkerStats
from orchestrator.result.usage import usage_lines

# The page's stylesheet and script, read as they are.
ASSETS = Path(__file__).parent / "templates"

# Parts of the page (html_parts.PARTS) made elsewhere: each asked for when the page reaches it
# (None: it was not made after all, and is made here).
Elsewhere = Mapping[str, Callable[[], Optional[str]]]


@record
class PageView:
    title: str
    started: str
    duration: float
    interrupted: bool
    version: str
    command: str
    plans: list[dict[str, str]]
    gate: dict[str, Any]
    counts: list[tuple[str, int]]  # (status, cases) of every status some case has
    total: int
    options: dict[str, list[str]]  # filter -> the values it offers
    matrix: dict[str, Any]
    trace: list[dict[str, Any]]
    ranking: list[dict[str, Any]]
    load: list[dict[str, Any]]
    workers: list[dict[str, Any]]
    usage: list[str]
    provider_leaks: list[dict[str, Any]]
    parts: dict[str, Callable[[], Markup]]  # html_parts.PARTS' texts, each made when asked for
    css: Markup
    js: Markup


def page_view(run: RunResult, elsewhere: Elsewhere | None = None) -> PageView:
    counts = run.counts()
    titles = [p.title or p.name for p in run.plans]
    given = elsewhere or {}
    return PageView(
        title=xml_safe(" · ".join(titles) if titles else "Test run"),
        started=when(run.started_at),
        duration=run.duration_s,
        interrupted=run.interrupted,
        version=xml_safe(run.version),
        command=clean(run.command, 2000),
        plans=[{"name": xml_safe(p.name), "file": xml_safe(p.file)} for p in run.plans],
        gate={"passed": run.gate.passed, "scope": clean(run.gate.scope, 2000),
              "rules": [{"rule": xml_safe(r.rule), "passed": r.passed, "judged": r.judged,
                         "detail": clean(r.detail, 2000)}
                        for r in run.gate.rules]},
        counts=[(s.value, counts[s.value]) for s in Status if counts[s.value]],
        total=len(run.cases),
        options=_options(run),
        matrix=sections.regression_matrix(run.cases),
        trace=sections.traceability(run),
        ranking=sections.duration_ranking(run.cases),
        load=sections.load_steps(run.cases),
        workers=[_worker(w) for w in run.workers],
        usage=[xml_safe(line.strip()) for line in usage_lines(run)],
        provider_leaks=[{"provider": xml_safe(p.provider), "plan": xml_safe(p.plan), "pid": p.pid,
                         "cmdline": clean(p.cmdline, 500), "case": xml_safe(p.case or "")}
                        for p in run.provider_leaks],
        parts={name: _later(run, make, given.get(name)) for name, make in PARTS.items()},  # rows, timeline, data
        css=Markup((ASSETS / "report.css").read_text(encoding="utf-8")),
        js=Markup((ASSETS / "report.js").read_text(encoding="utf-8")),
    )


def _later(run: RunResult, make: Callable[[RunResult], str], given: Callable[[], str | None] | None) -> Callable[[], Markup]:
    """A part of the page made (or taken from `given`) only when the page reaches it: the page's
    text before it is written meanwhile. Markup: the parts are escaped where they are made."""
    def part() -> Markup:
        text = given() if given is not None else None
        return Markup(make(run) if text is None else text)
    return part


def _options(run: RunResult) -> dict[str, list[str]]:
    """The values offered by the priority, level, tag and plan filters; none for a filter that
    would show every case whatever is chosen (one plan ran, every case is P1, ...)."""
    def offered(per_case: Iterable[Iterable[str]]) -> list[str]:
        having = Counter(v for values in per_case for v in set(values) if v)
        if all(n == len(run.cases) for n in having.values()):
            return []
        return sorted({xml_safe(v) for v in having})
    return {
        "priority": offered((c.priority,) for c in run.cases),
        "level": offered((c.level or "",) for c in run.cases),
        "tag": offered(c.tags for c in run.cases),
        "plan": offered((c.plan,) for c in run.cases),
    }


def _worker(w: WorkerStats) -> dict[str, Any]:
    return {
        "provider": xml_safe(w.provider), "index": w.index, "pid": "" if w.pid is None else w.pid,
        "calls": w.calls, "restarts": w.restarts,
        "reasons": [clean(r, 500) for r in w.restart_reasons],
        "rss": mib(w.peak_rss_bytes),
        "cold": "" if w.cold_start_ms is None else f"{w.cold_start_ms:.0f} ms",
    }

__all__ = ["ASSETS", "Elsewhere", "PageView", "page_view"]
