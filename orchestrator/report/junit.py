"""The JUnit XML report, as Jenkins, GitLab, GitHub actions and xunitparser read it.

Built with junit-xml; its output is post-processed only for what that package cannot express:
per-testcase `<properties>` (as pytest's `record_property` writes them), a `time` on every
testcase (junit-xml omits `time="0"`, which some consumers read as NaN), and tidy totals.

Status mapping (pytest's conventions where it has one):
  failed              -> <failure type="AssertionFailed">   expected vs actual per failed assertion
  error, interrupted  -> <error type=ErrorInfo.type>        with the traceback
  skipped             -> <skipped message=reason>
  xfailed             -> <skipped message="xfail: reason">
  passed, xpassed, flaky -> no child; xpassed/flaky say so at the top of system-out

Repeats and retries follow Maven Surefire (read by Jenkins, mikepenz and junitparser.xunit2):
a flaky case carries one `<flakyFailure>`/`<flakyError>` per attempt that did not pass; a case
that failed with several failing attempts carries `<failure>` (the first) plus one
`<rerunFailure>`/`<rerunError>` per later failing attempt. Each holds that attempt's
`<stackTrace>`, `<system-out>` and `<system-err>`.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from typing import Iterable, Mapping

from junit_xml import TestCase, TestSuite

from orchestrator.report.sanitize import clean, first_line, show_value, write_xml, xml_safe
from orchestrator.result.model import Attempt, CaseResult, ProviderLeak, RunResult, Status, StepResult
from orchestrator.result.store import PathLike, atomic_writer

STREAM_LIMIT = 64 * 1024  # characters per system-out / system-err / failure body
MIN_STREAM_LIMIT = 4 * 1024
OUTPUT_BUDGET = 20 * 2**20  # GitLab rejects JUnit files over 30 MiB: stay well below
STDERR_TAIL_LINES = 20  # of a failed exec step, in its <failure> text


def write_junit(run: RunResult, path: PathLike, *, schema_strict: bool = False) -> None:
    """Write the run as one JUnit XML file (atomically), streamed from the element tree.

    `schema_strict` leaves out testcase `file`/`line` and `<properties>`, which CI consumers use
    but no published JUnit XSD allows, for tools that validate their input against an XSD.
    """
    with atomic_writer(path) as fh:
        write_xml(junit_tree(run, schema_strict=schema_strict), lambda text: fh.write(text.encode("utf-8")))


def junit_tree(run: RunResult, *, schema_strict: bool = False) -> ET.Element:
    """The <testsuites> element of the run, indented, ready to serialise."""
    limit = _stream_limit(len(run.cases))
    by_plan: dict[str, list[CaseResult]] = {}
    for plan in run.plans:
        by_plan.setdefault(plan.name, [])
    for case in run.cases:
        by_plan.setdefault(case.plan, []).append(case)
    # A suite without testcases is dropped by Jenkins and warned about by validators.
    groups = [(name, cases) for name, cases in by_plan.items() if cases]
    suites = [_suite(run, name, cases, limit, first=i == 0) for i, (name, cases) in enumerate(groups)]
    root = _testsuites(suites)
    _post_process(root, [cases for _, cases in groups], schema_strict, limit)
    ET.indent(root)
    return root


def _testsuites(suites: list[TestSuite]) -> ET.Element:
    """The <testsuites> root over junit-xml's own suite elements.

    What `junit_xml.to_xml_report_string` builds, without its serialise-and-reparse round trip
    (a third of the writing time at 10,000 cases) and without its deletion of illegal
    characters, which `sanitize` has already turned into visible escapes.
    """
    root = ET.Element("testsuites")
    totals = dict.fromkeys(("disabled", "errors", "failures", "tests"), 0)
    for suite in suites:
        element = suite.build_xml_doc()
        for key in totals:
            totals[key] += int(element.get(key, 0))
        root.append(element)
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def _stream_limit(n_cases: int) -> int:
    if n_cases == 0:
        return STREAM_LIMIT
    share = OUTPUT_BUDGET // (3 * n_cases)  # stdout, stderr and the failure body
    return max(MIN_STREAM_LIMIT, min(STREAM_LIMIT, share))


def _seconds(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def _timestamp(unix: float) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _suite(run: RunResult, plan: str, cases: list[CaseResult], limit: int, first: bool) -> TestSuite:
    starts = [a.started_at for c in cases for a in c.attempts if a.started_at > 0]
    props: dict[str, str] | None = None
    if first:
        # xunitparser keeps ONE property dict for the whole document and asserts names are
        # unique across suites, so the run-wide gate verdict goes on the first suite only.
        props = _gate_properties(run)
    return TestSuite(
        name=xml_safe(plan),
        test_cases=[_case(c, limit) for c in cases],
        timestamp=_timestamp(min(starts) if starts else run.started_at),
        properties=props,
    )


def _gate_properties(run: RunResult) -> dict[str, str]:
    props = {"gate": "passed" if run.gate.passed else "failed"}
    seen: Counter[str] = Counter()
    for rule in run.gate.rules:
        seen[rule.rule] += 1
        key = f"gate: {rule.rule}" + (f" #{seen[rule.rule]}" if seen[rule.rule] > 1 else "")
        verdict = "passed" if rule.passed else "failed"
        props[xml_safe(key)] = xml_safe(f"{verdict} — {rule.detail}" if rule.detail else verdict)
    if run.interrupted:
        props["interrupted"] = "true"
    for (plan, provider), leaks in _leaks_by_provider(run).items():
        props[xml_safe(f"provider leaks: {plan}/{provider}")] = clean(
            f"{len(leaks)} process(es) left running, killed: "
            + "; ".join(f"pid {p.pid} ({p.cmdline})" + (f" [case {p.case}]" if p.case else "") for p in leaks), 2000)
    if run.version:
        props["orchestrator.version"] = xml_safe(run.version)
    if run.command:
        props["orchestrator.command"] = clean(run.command, 2000)
    return props


def _leaks_by_provider(run: RunResult) -> dict[tuple[str, str], list[ProviderLeak]]:
    grouped: dict[tuple[str, str], list[ProviderLeak]] = {}
    for leak in run.provider_leaks:
        grouped.setdefault((leak.plan, leak.provider), []).append(leak)
    return grouped


def _case(case: CaseResult, limit: int) -> TestCase:
    tc = TestCase(
        name=xml_safe(f"{case.id}: {case.name}"),
        classname=xml_safe(f"{case.plan}.{case.level or 'cases'}"),
        elapsed_sec=_seconds(case.duration_s),
        stdout=clean(_note(case) + _stream(case, "stdout"), limit) or None,
        stderr=clean(_stream(case, "stderr"), limit) or None,
        file=xml_safe(case.file) or None,
        line=str(case.line) if case.line else None,
    )
    status = case.status
    if status is Status.PASSED:
        return tc
    reason = case.message or _first_failure(case) or status.value
    if status is Status.FAILED:
        tc.add_failure_info(first_line(reason) or "failed", clean(_details(case), limit), "AssertionFailed")
    elif status in (Status.ERROR, Status.INTERRUPTED):
        error_type = "Interrupted" if status is Status.INTERRUPTED else _error_type(case)
        tc.add_error_info(first_line(reason) or status.value, clean(_details(case), limit), xml_safe(error_type))
    elif status is Status.SKIPPED:
        tc.add_skipped_info(first_line(case.message) or "skipped")
    elif status is Status.XFAILED:
        tc.add_skipped_info(first_line(f"xfail: {case.message}" if case.message else "xfail"))
    return tc


def _note(case: CaseResult) -> str:
    if case.status is Status.XPASSED:
        why = f" ({case.message})" if case.message else ""
        return f"[orchestrator] XPASSED: expected to fail{why}, but passed\n"
    if case.status is Status.FLAKY:
        seq = ", ".join(a.status.value for a in case.attempts)
        return f"[orchestrator] FLAKY: attempts disagreed ({seq})" + (f": {case.message}" if case.message else "") + "\n"
    return ""


def _stream(case: CaseResult, name: str) -> str:
    texts = [getattr(a, name) for a in case.attempts]
    if len(case.attempts) <= 1:
        return texts[0] if texts else ""
    out = []
    for n, (attempt, text) in enumerate(zip(case.attempts, texts), 1):
        if text:
            out.append(f"--- attempt {n}/{len(texts)} ({attempt.status.value}) ---\n{text}")
    return "\n".join(out)


def _failed_steps(steps: Iterable[StepResult]) -> Iterable[StepResult]:
    return (s for s in steps if s.error is not None or any(not a.passed for a in s.assertions))


def _first_failure(case: CaseResult) -> str:
    for step in _failed_steps(case.steps):
        if step.error is not None:
            return f"{step.error.type}: {step.error.message}"
        for a in step.assertions:
            if not a.passed:
                return a.message or f"{a.label}: expected {show_value(a.expected)}"
    return ""


def _error_type(case: CaseResult) -> str:
    for step in case.steps:
        if step.error is not None:
            return step.error.type or "Error"
    return "Error"


def _details(case: CaseResult) -> str:
    lines = [case.message] if case.message else []
    many = len(case.attempts) > 1
    for n, attempt in enumerate(case.attempts, 1):
        if many:
            lines.append(f"--- attempt {n}/{len(case.attempts)}: {attempt.status.value}"
                         f" in {_seconds(attempt.duration_s):.3f}s ---")
            if attempt.message:
                lines.append(attempt.message)
        lines.extend(_attempt_details(attempt))
    return "\n".join(lines)


def _attempt_details(attempt: Attempt) -> list[str]:
    lines: list[str] = []
    for step in _failed_steps(attempt.steps):
        where = f", line {step.line}" if step.line else ""
        lines.append(f"step {step.index + 1} {step.title!r} ({step.action}{where}): {step.status.value}"
                     f" in {_seconds(step.duration_s):.3f}s")
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
        stderr = step.fields.get("stderr") if isinstance(step.fields, Mapping) else None
        if isinstance(stderr, str) and stderr.strip():  # an exec's own stderr: often the why
            tail = stderr.rstrip("\n").split("\n")[-STDERR_TAIL_LINES:]
            lines.append(f"  stderr (last {len(tail)} lines):" if len(tail) > 1 else "  stderr:")
            lines.extend(f"    {line}" for line in tail)
    return lines


def _post_process(root: ET.Element, groups: list[list[CaseResult]], schema_strict: bool, limit: int) -> None:
    # `disabled` is always 0 here and most JUnit schemas reject the attribute.
    root.attrib.pop("disabled", None)
    for suite, cases in zip(root.findall("testsuite"), groups):
        suite.attrib.pop("disabled", None)
        suite.set("time", f"{sum(_seconds(c.duration_s) for c in cases):.3f}")
        for element, case in zip(suite.findall("testcase"), cases):
            element.set("time", f"{_seconds(case.duration_s):.3f}")
            if case.status in (Status.SKIPPED, Status.XFAILED):
                skipped = element.find("skipped")
                if skipped is not None:  # junit-xml's type="skipped" says nothing and schemas reject it
                    skipped.attrib.pop("type", None)
            if len(case.attempts) > 1:  # only repeats and retries have interim results
                _add_interim(element, case, limit)
            if schema_strict:
                element.attrib.pop("file", None)
                element.attrib.pop("line", None)
            else:
                element.insert(0, _properties(case))
    root.set("time", f"{sum(float(s.get('time', '0')) for s in root.findall('testsuite')):.3f}")


def _properties(case: CaseResult) -> ET.Element:
    props = ET.Element("properties")
    values = {"priority": case.priority, "level": case.level or "", "tags": ",".join(case.tags),
              "covers": ",".join(case.covers), "status": case.status.value}
    for name, value in values.items():
        if value:
            ET.SubElement(props, "property", {"name": name, "value": xml_safe(value)})
    return props


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


def _add_interim(element: ET.Element, case: CaseResult, limit: int) -> None:
    interim = interim_results(case)
    if not interim:
        return
    share = max(MIN_STREAM_LIMIT // 2, limit // (2 * len(interim)))
    at = next((i for i, child in enumerate(element) if child.tag in ("system-out", "system-err")), len(element))
    total = len(case.attempts)
    for offset, (tag, n, attempt) in enumerate(interim):
        reason = attempt.message or _attempt_reason(attempt) or attempt.status.value
        node = ET.Element(tag, {"message": first_line(f"attempt {n}/{total}: {reason}"),
                                "type": xml_safe(_attempt_type(attempt))})
        trace = "\n".join([f"attempt {n}/{total}: {attempt.status.value} in {_seconds(attempt.duration_s):.3f}s",
                           *([attempt.message] if attempt.message else []), *_attempt_details(attempt)])
        ET.SubElement(node, "stackTrace").text = clean(trace, share)
        if attempt.stdout:
            ET.SubElement(node, "system-out").text = clean(attempt.stdout, share // 2)
        if attempt.stderr:
            ET.SubElement(node, "system-err").text = clean(attempt.stderr, share // 2)
        element.insert(at + offset, node)


def _attempt_reason(attempt: Attempt) -> str:
    return _first_failure(CaseResult(id="", name="", plan="", file="", line=0, status=attempt.status, message="",
                                     duration_s=0.0, attempts=(attempt,)))


def _attempt_type(attempt: Attempt) -> str:
    if attempt.status is Status.FAILED:
        return "AssertionFailed"
    if attempt.status is Status.INTERRUPTED:
        return "Interrupted"
    return next((s.error.type for s in attempt.steps if s.error is not None and s.error.type), "Error")
