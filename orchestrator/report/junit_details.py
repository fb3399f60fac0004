"""The text of a JUnit `<failure>`/`<error>` and of its Surefire rerun/flaky siblings.

Kept apart from the tree building in `junit` so that both flavours (and the inner tests of a
test suite run by an `exec`) describe a failure in the same words.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Iterable, Sequence

from orchestrator.errors import ErrorKind
from orchestrator.report.sanitize import clean, first_line, show_value, xml_safe
from orchestrator.result.model import Attempt, CaseResult, Status, StepResult
from orchestrator.result.step_fields import StepFields

MIN_STREAM_LIMIT = 4 * 1024
OUTPUT_TAIL_LINES = 20  # of a failed process's stdout and stderr, in its <failure> text


def seconds(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def failed_steps(steps: Iterable[StepResult]) -> Iterable[StepResult]:
    return (s for s in steps if s.error is not None or any(not a.passed for a in s.assertions))


def first_failure(steps: Iterable[StepResult]) -> str:
    for step in failed_steps(steps):
        if step.error is not None:
            return f"{step.error.type}: {step.error.message}"
        for a in step.assertions:
            if not a.passed:
                return a.message or f"{a.label}: expected {show_value(a.expected)}"
    return ""


def error_type(steps: Iterable[StepResult]) -> str:
    return next((s.error.type for s in steps if s.error is not None and s.error.type), "Error")


def case_details(case: CaseResult) -> str:
    lines = [case.message] if case.message else []
    many = len(case.attempts) > 1
    for n, attempt in enumerate(case.attempts, 1):
        if many:
            lines.append(f"--- attempt {n}/{len(case.attempts)}: {attempt.status.value}"
                         f" in {seconds(attempt.duration_s):.3f}s ---")
            if attempt.message:
                lines.append(attempt.message)
        lines.extend(attempt_details(attempt))
    return "\n".join(lines)


def attempt_details(attempt: Attempt) -> list[str]:
    lines: list[str] = []
    for step in failed_steps(attempt.steps):
        where = f", line {step.line}" if step.line else ""
        lines.append(f"step {step.index + 1} {step.title!r} ({step.action}{where}): {step.status.value}"
                     f" in {seconds(step.duration_s):.3f}s")
        for a in step.assertions:
            if a.passed:
                continue
            at = f" (line {a.line})" if a.line else ""
            lines.append(f"  {a.label}{at}: {a.message}" if a.message else f"  {a.label}{at}")
            lines.append(f"    expected: {show_value(a.expected)}")
            lines.append(f"    actual:   {show_value(a.actual)}")
        if step.error is not None:
            lines.append(f"  {step.error.type}: {step.error.message}")
            if step.error.traceback:
                lines.append(step.error.traceback.rstrip("\n"))
        lines.extend(output_tails(step.fields))
    return lines


def output_tails(fields: StepFields) -> list[str]:
    """The last lines a failed process wrote to stdout and to stderr: test runners such as
    pytest print their failures on stdout, most other tools on stderr."""
    lines: list[str] = []
    for stream, text in (("stdout", fields.stdout), ("stderr", fields.stderr)):
        if text is not None and text.strip():
            tail = text.rstrip("\n").split("\n")[-OUTPUT_TAIL_LINES:]
            lines.append(f"  {stream} (last {len(tail)} lines):" if len(tail) > 1 else f"  {stream}:")
            lines.extend(f"    {line}" for line in tail)
    return lines


_NOT_PASSED = (Status.FAILED, Status.ERROR, Status.INTERRUPTED)


def interim_results(case: CaseResult) -> list[tuple[str, int, Attempt]]:
    """(Surefire tag, attempt number, attempt) for each attempt a Jenkins-style reader should see."""
    numbered = [(n, a) for n, a in enumerate(case.attempts, 1) if a.status in _NOT_PASSED]
    if case.status is Status.FLAKY:
        return [("flakyFailure" if a.status is Status.FAILED else "flakyError", n, a) for n, a in numbered]
    if case.status in _NOT_PASSED and len(case.attempts) > 1:
        # The first failing attempt is the <failure>/<error> itself; the later ones are reruns.
        return [("rerunFailure" if a.status is Status.FAILED else "rerunError", n, a) for n, a in numbered[1:]]
    return []


def add_interim(element: ET.Element, case: CaseResult, limit: int) -> None:
    interim = interim_results(case)
    if not interim:
        return
    share = max(MIN_STREAM_LIMIT // 2, limit // (2 * len(interim)))
    at = next((i for i, child in enumerate(element) if child.tag in ("system-out", "system-err")), len(element))
    total = len(case.attempts)
    for offset, (tag, n, attempt) in enumerate(interim):
        reason = attempt.message or first_failure(attempt.steps) or attempt.status.value
        node = ET.Element(tag, {"message": first_line(f"attempt {n}/{total}: {reason}"),
                                "type": xml_safe(_attempt_type(attempt))})
        trace = "\n".join([f"attempt {n}/{total}: {attempt.status.value} in {seconds(attempt.duration_s):.3f}s",
                           *([attempt.message] if attempt.message else []), *attempt_details(attempt)])
        ET.SubElement(node, "stackTrace").text = clean(trace, share)
        if attempt.stdout:
            ET.SubElement(node, "system-out").text = clean(attempt.stdout, share // 2)
        if attempt.stderr:
            ET.SubElement(node, "system-err").text = clean(attempt.stderr, share // 2)
        element.insert(at + offset, node)


def _attempt_type(attempt: Attempt) -> str:
    return junit_type(attempt.status, attempt.steps)


def junit_type(status: Status, steps: Sequence[StepResult]) -> str:
    """The `type` of a failed or errored <testcase> or attempt: the first step error's kind."""
    if status is Status.FAILED:
        return "AssertionFailed"
    if status is Status.INTERRUPTED:
        return ErrorKind.INTERRUPTED
    return error_type(steps)
