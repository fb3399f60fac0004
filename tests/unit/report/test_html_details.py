"""The HTML details of a case are written as text directly (html_details.details_json); they must
be, byte for byte, what the JSON encoder makes of the details as data: `case_details` below is
that data, the shape the page's script (templates/report.js) reads."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from orchestrator.report.html_details import (_DETAILS_JSON, _fields, browser_json, details_json, fmt_seconds, mib,
                                              step_worker, when)
from orchestrator.report.sanitize import clean, show_value, xml_safe
from orchestrator.result.model import AssertionResult, Attempt, CaseResult, ErrorInfo, InnerTest, Status, StepResult

from .factory import run_result


def case_details(case: CaseResult, limit: int) -> dict[str, Any]:
    return {
        "id": xml_safe(case.id),
        "name": clean(case.name, 500),
        "status": case.status.value,
        "message": clean(case.message, limit),
        "description": clean(case.description, 4000),
        "where": xml_safe(f"{case.file}:{case.line}"),
        "covers": [xml_safe(c) for c in case.covers],
        "attempts": [_attempt(a, limit) for a in case.attempts],
    }


def _attempt(a: Attempt, limit: int) -> dict[str, Any]:
    steps = [_step(s) for s in a.steps]
    return {
        "status": a.status.value,
        "duration": fmt_seconds(a.duration_s),
        "message": clean(a.message, 4000),
        "job": a.job,
        "started": when(a.started_at) if a.started_at else "",
        "rss": mib(a.peak_rss_bytes),
        "workers": sorted({s["worker"] for s in steps if s["worker"]}),
        "stdout": clean(a.stdout, limit),
        "stderr": clean(a.stderr, limit),
        "steps": steps,
    }


def _step(s: StepResult) -> dict[str, Any]:
    return {
        "index": s.index,
        "title": clean(s.title, 500),
        "action": xml_safe(s.action),
        "status": s.status.value,
        "duration": fmt_seconds(s.duration_s),
        "line": s.line,
        "worker": step_worker(s.fields.worker),
        "error": None if s.error is None else {
            "type": xml_safe(s.error.type), "message": clean(s.error.message, 4000),
            "traceback": clean(s.error.traceback, 32 * 1024)},
        "assertions": [{"kind": xml_safe(a.kind), "on": xml_safe(a.on), "passed": a.passed,
                        "expected": show_value(a.expected), "actual": show_value(a.actual, 4000),
                        "message": clean(a.message, 2000), "line": a.line} for a in s.assertions],
        "fields": _fields(s.fields.as_json()),
        "tests": [{"name": clean(t.name, 500), "status": t.status.value, "duration": fmt_seconds(t.duration_s),
                   "where": xml_safe(f"{t.file}:{t.line}" if t.line else t.file), "message": clean(t.message, 500),
                   "details": clean(t.details, 8000) if t.status in (Status.FAILED, Status.ERROR) else ""}
                  for t in s.tests],
    }


def _general(case: CaseResult, limit: int) -> str:
    return browser_json(_DETAILS_JSON, case_details(case, limit))


@pytest.mark.parametrize("hostile", [False, True])
@pytest.mark.parametrize("limit", [2048, 64 * 1024])
def test_direct_details_are_the_encoded_details(hostile: bool, limit: int) -> None:
    for case in run_result(hostile=hostile).cases:
        assert details_json(case, limit) == _general(case, limit), case.id


def test_odd_values_of_a_hand_edited_file_give_the_same_text() -> None:
    case = run_result(hostile=True).cases[1]
    step = case.attempts[-1].steps[0]
    odd = replace(step, line=None, error=ErrorInfo("T<", "m\x00", ""),
                  assertions=(AssertionResult("equals", False, math.nan, [1, {"a": math.inf}], "output", "", None),),
                  tests=(InnerTest("t", Status.FAILED, math.nan, "C", "f.py", 3, "why", "trace\x1b"),),
                  fields={"output": math.nan, "worker": {"pid": 1, "calls": 2}, "stdout": "é\ud800"})
    attempt = replace(case.attempts[-1], steps=(odd,), peak_rss_bytes=None, started_at=0.0, duration_s=math.nan)
    odd_index = replace(odd, index=math.inf)  # type: ignore[arg-type]
    for variant in (replace(case, attempts=(attempt,)),
                    replace(case, attempts=(replace(attempt, job=1.5),)),  # type: ignore[arg-type]
                    replace(case, attempts=(replace(attempt, steps=(odd_index,)),))):
        assert details_json(variant, 2048) == _general(variant, 2048)


@pytest.mark.parametrize("worker", [
    {"pid": 7}, {"pid": 7, "index": 0}, {"pid": 7, "index": 1, "calls": 3, "restarts": 0}, {"calls": 3},
    {}, {"pid": True, "index": 1}, {"pid": "7", "index": 1}, {"pid": 7, "index": None, "extra": "x"},
    {"pid": 7, "index": 2.0}, None, [1, 2], "pid 7"])
def test_every_shape_of_a_stored_worker_gives_the_same_text(worker: object) -> None:
    case = run_result().cases[0]
    step = replace(case.attempts[0].steps[0], fields={"worker": worker} if worker is not None else {})
    variant = replace(case, attempts=(replace(case.attempts[0], steps=(step,)),))
    assert details_json(variant, 2048) == _general(variant, 2048)


@pytest.mark.parametrize("duration", [0.0, -0.0, 0.01, 59.999, 61.0, 3700.5, -1.0, math.inf, math.nan, 3])
def test_durations_seen_again_give_the_same_text(duration: float) -> None:
    case = run_result().cases[1]
    for _ in range(2):  # the second time from the memo, if there is one
        steps = tuple(replace(s, duration_s=d) for s in case.attempts[0].steps for d in (duration, -duration))
        variant = replace(case, attempts=(replace(case.attempts[0], steps=steps, duration_s=duration),))
        assert details_json(variant, 2048) == _general(variant, 2048)


@pytest.mark.parametrize("text", ["call 0", "x" * 199, "x" * 201, "x" * 500, "x" * 501, "é" * 300, "a\x00b",
                                  "tab\there", "line\nbreak", '"quoted" \\ back', "</script>", "\ud800"])
def test_titles_kinds_and_values_seen_again_give_the_same_text(text: str) -> None:
    case = run_result().cases[1]
    for _ in range(2):
        steps = tuple(replace(s, title=text, action=text,
                              assertions=tuple(replace(a, kind=text, on=text, expected=text, actual=text, message=text)
                                               for a in s.assertions))
                      for s in case.attempts[0].steps)
        variant = replace(case, name=text, message=text, attempts=(replace(case.attempts[0], steps=steps, stdout=text),))
        assert details_json(variant, 2048) == _general(variant, 2048)
        assert details_json(variant, 100) == _general(variant, 100)
