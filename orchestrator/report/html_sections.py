"""The HTML report's summary sections, computed from the result model as plain data.

Regression matrix (level × priority × status), traceability (requirement or risk → covering
cases), timeline bars per job, the duration ranking and `load` step latency. Every string that
comes from the run is made XML-safe here; the page (html_page) escapes it where it places it.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Mapping, Sequence

from orchestrator.report.sanitize import clean, xml_safe
from orchestrator.result.model import CaseResult, RunResult, Status
from orchestrator.result.step_fields import LoadFields
from orchestrator.vocabulary import LEVELS

RANKED = 20
_BAD = (Status.FAILED, Status.ERROR, Status.INTERRUPTED, Status.XPASSED)
VALUE = {status: status.value for status in Status}  # `.value` goes through the enum's descriptor: slow in bulk


def _level_key(level: str) -> tuple[int, str]:
    return (LEVELS.index(level) if level in LEVELS else len(LEVELS), level)


def regression_matrix(cases: Sequence[CaseResult]) -> dict[str, Any]:
    """Rows of (level, priority) with counts per status and an overall verdict, as in seed 000."""
    groups: dict[tuple[str, str], Counter[str]] = {}
    for case in cases:
        key = (case.level or "", case.priority)
        groups.setdefault(key, Counter())[VALUE[case.status]] += 1
    statuses = [s.value for s in Status if any(c[s.value] for c in groups.values())]
    rows = []
    for (level, priority) in sorted(groups, key=lambda k: (_level_key(k[0]) if k[0] else (99, ""), k[1])):
        counts = groups[(level, priority)]
        ran = sum(n for s, n in counts.items() if Status(s).ran)
        ok = sum(n for s, n in counts.items() if bool(Status(s)))
        bad = sum(counts[s.value] for s in _BAD)
        verdict = "fail" if bad else ("pending" if ran == 0 else "pass")
        rows.append({"level": xml_safe(level), "priority": xml_safe(priority), "total": sum(counts.values()),
                     "counts": [counts[s] for s in statuses], "ok": ok, "ran": ran, "verdict": verdict})
    return {"statuses": statuses, "rows": rows}


def traceability(run: RunResult, index: Mapping[int, int] | None = None) -> list[dict[str, Any]]:
    """One row per requirement and risk of every plan, with the cases that cover it."""
    rows: list[dict[str, Any]] = []
    covering_cases: dict[tuple[str, str], list[tuple[int, CaseResult]]] = {}
    for i, case in enumerate(run.cases):
        for key in dict.fromkeys(case.covers):
            covering_cases.setdefault((case.plan, key), []).append((i, case))
    for plan in run.plans:
        items: list[tuple[str, str, str]] = [("requirement", key, str(text)) for key, text in plan.requirements.items()]
        for key, risk in plan.risks.items():
            rating = ", ".join(f"{name} {value}" for name, value in (("likelihood", risk.likelihood),
                                                                    ("impact", risk.impact)) if value)
            title = risk.title
            items.append(("risk", key, f"{title} ({rating})" if rating and title else title or rating))
        for kind, key, text in items:
            covering = covering_cases.get((plan.name, key), [])
            statuses = [c.status for _, c in covering]
            if not covering:
                verdict = "uncovered"
            elif any(s in _BAD for s in statuses):
                verdict = "failing"
            elif not any(s.ran for s in statuses):
                verdict = "not run"
            else:
                verdict = "covered"
            rows.append({"plan": xml_safe(plan.name), "kind": kind, "id": xml_safe(key), "text": clean(text, 500),
                         "verdict": verdict,
                         "cases": [{"i": i, "id": xml_safe(c.id), "status": VALUE[c.status]} for i, c in covering]})
    return rows


def timeline(run: RunResult) -> dict[str, Any]:
    """Bars [case index, job, start offset s, duration s, status] for every attempt with a start time."""
    starts = [a.started_at for c in run.cases for a in c.attempts if a.started_at > 0]
    if not starts:
        return {"bars": [], "jobs": [], "span": 0.0}
    t0 = min(starts)
    bars: list[list[Any]] = []
    end = 0.0
    for i, case in enumerate(run.cases):
        for attempt in case.attempts:
            if attempt.started_at <= 0:
                continue
            offset = attempt.started_at - t0
            duration = attempt.duration_s if math.isfinite(attempt.duration_s) and attempt.duration_s > 0 else 0.0
            bars.append([i, attempt.job, round(offset, 4), round(duration, 4), VALUE[attempt.status]])
            end = max(end, offset + duration)
    return {"bars": bars, "jobs": sorted({b[1] for b in bars}), "span": round(end, 4)}


def duration_ranking(cases: Sequence[CaseResult], n: int = RANKED) -> list[dict[str, Any]]:
    ranked = sorted(((i, c) for i, c in enumerate(cases) if math.isfinite(c.duration_s)),
                    key=lambda ic: -ic[1].duration_s)[:n]
    longest = ranked[0][1].duration_s if ranked and ranked[0][1].duration_s > 0 else 1.0
    return [{"i": i, "id": xml_safe(c.id), "name": clean(c.name, 200), "status": VALUE[c.status],
             "duration": c.duration_s, "pct": round(100 * max(0.0, c.duration_s) / longest, 1)} for i, c in ranked]


def load_steps(cases: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """Latency percentiles (and histogram buckets when present) of every `load` step."""
    out = []
    for i, case in enumerate(cases):
        for step in case.steps:
            load = step.fields.summary if isinstance(step.fields, LoadFields) else None
            if load is None:
                continue
            top = max((v for _, v in load.latency_ms if v is not None), default=0.0) or 1.0
            out.append({
                "i": i, "id": xml_safe(case.id), "step": clean(step.title, 200), "status": VALUE[step.status],
                "requests": load.requests, "errors": load.errors, "rps": load.rps, "success": load.success_rate,
                "latency": [{"name": k, "ms": v, "pct": 0.0 if v is None else round(100 * v / top, 1)}
                            for k, v in load.latency_ms],
                "histogram": _histogram(load.histogram),
            })
    return out


def _histogram(buckets: Sequence[tuple[str, float]]) -> list[dict[str, Any]]:
    """Buckets as [{label, count, pct}], each bar as long as its share of the largest."""
    top = max((c for _, c in buckets), default=0.0) or 1.0
    return [{"label": xml_safe(label[:40]), "count": int(c), "pct": round(100 * c / top, 1)} for label, c in buckets]
