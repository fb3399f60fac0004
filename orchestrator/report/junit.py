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

An `exec` step that read a `junit:` file adds one testcase per inner test (`junit_inner`); the
`strict` flavour (`junit_strict`) reshapes the same tree into what the Jenkins xUnit and Maven
Surefire XSDs accept. Suite and root `time` are wall-clock time, not the sum of case times.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from typing import Sequence

from junit_xml import TestCase, TestSuite

from orchestrator.report.junit_details import (MIN_STREAM_LIMIT, add_interim, case_details, first_failure,
                                               junit_type)
from orchestrator.report.junit_details import seconds as _seconds
from orchestrator.report.junit_inner import inner_testcases, keeps_own_testcase
from orchestrator.report.junit_strict import FLAVORS, strict_flavour
from orchestrator.report.sanitize import clean, first_line, write_xml, xml_safe
from orchestrator.result.model import CaseResult, InnerTest, ProviderLeak, RunResult, Status
from orchestrator.result.store import PathLike, atomic_writer
from orchestrator.result.usage import has_usage, usage_summary, usage_text

STREAM_LIMIT = 64 * 1024  # characters per system-out / system-err / failure body
OUTPUT_BUDGET = 20 * 2**20  # GitLab rejects JUnit files over 30 MiB: stay well below
__all__ = ["FLAVORS", "junit_tree", "write_junit"]


def write_junit(run: RunResult, path: PathLike, *, flavor: str = "default") -> None:
    """Write the run as one JUnit XML file (atomically), streamed from the element tree.

    `flavor` "strict": a single `<testsuite>` that validates against the Jenkins xUnit and
    Maven Surefire XSDs, with per-testcase labels moved into `<system-out>` (see junit_strict).
    """
    with atomic_writer(path) as fh:
        write_xml(junit_tree(run, flavor=flavor), lambda text: fh.write(text.encode("utf-8")))


def junit_tree(run: RunResult, *, flavor: str = "default") -> ET.Element:
    """The root element of the run's report in `flavor`, indented, ready to serialise."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown JUnit flavour {flavor!r} (known: {', '.join(FLAVORS)})")
    limit = _stream_limit(len(run.cases) + sum(len(c.inner_tests) for c in run.cases))
    by_plan: dict[str, list[CaseResult]] = {}
    for plan in run.plans:
        by_plan.setdefault(plan.name, [])
    for case in run.cases:
        by_plan.setdefault(case.plan, []).append(case)
    # A suite without testcases is dropped by Jenkins and warned about by validators.
    groups = [(name, cases) for name, cases in by_plan.items() if cases]
    entries = [[entry for case in cases for entry in _entries(case, limit)] for _, cases in groups]
    suites = [_suite(run, name, [tc for tc, _, _ in group], first=i == 0)
              for i, ((name, _), group) in enumerate(zip(groups, entries))]
    root = _testsuites(suites)
    _post_process(root, entries, limit)
    _wall_times(root, run, [cases for _, cases in groups])
    if flavor == "strict":
        root = strict_flavour(root, [name for name, _ in groups] or [p.name for p in run.plans[:1]])
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


def _timestamp(unix: float) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


Entry = tuple[TestCase, CaseResult, "InnerTest | None"]


def _entries(case: CaseResult, limit: int) -> list[Entry]:
    """The testcases of one case: its inner tests, then its own unless they explain its verdict."""
    classname = xml_safe(f"{case.plan}.{case.level or 'cases'}")
    inner: list[Entry] = [(tc, case, test) for tc, test in inner_testcases(case, classname, limit)]
    if inner and not keeps_own_testcase(case):
        return inner
    return inner + [(_case(case, classname, limit), case, None)]


def _suite(run: RunResult, plan: str, cases: Sequence[TestCase], first: bool) -> TestSuite:
    props: dict[str, str] | None = None
    if first:
        # xunitparser keeps ONE property dict for the whole document and asserts names are
        # unique across suites, so the run-wide gate verdict goes on the first suite only.
        props = _gate_properties(run)
    return TestSuite(name=xml_safe(plan), test_cases=list(cases), properties=props)


def _gate_properties(run: RunResult) -> dict[str, str]:
    props = {"gate": "passed" if run.gate.passed else "failed"}
    if run.gate.scope:
        props["gate.scope"] = xml_safe(run.gate.scope)
    seen: Counter[str] = Counter()
    for rule in run.gate.rules:
        seen[rule.rule] += 1
        key = f"gate: {rule.rule}" + (f" #{seen[rule.rule]}" if seen[rule.rule] > 1 else "")
        verdict = ("passed" if rule.judged else "not judged") if rule.passed else "failed"
        props[xml_safe(key)] = xml_safe(f"{verdict} — {rule.detail}" if rule.detail else verdict)
    if run.interrupted:
        props["interrupted"] = "true"
    usage = usage_summary(run)
    if has_usage(usage):
        props["usage"] = usage_text(usage["total"])
        for name, entry in sorted(usage["providers"].items()):
            props[xml_safe(f"usage: {name}")] = usage_text(entry)
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


def _case(case: CaseResult, classname: str, limit: int) -> TestCase:
    tc = TestCase(
        name=xml_safe(f"{case.id}: {case.name}"),
        classname=classname,
        elapsed_sec=_seconds(case.duration_s),
        stdout=clean(_note(case) + _stream(case, "stdout"), limit) or None,
        stderr=clean(_stream(case, "stderr"), limit) or None,
        file=xml_safe(case.file) or None,
        line=str(case.line) if case.line else None,
    )
    status = case.status
    if status is Status.PASSED:
        return tc
    reason = case.message or first_failure(case.steps) or status.value
    if status is Status.FAILED:
        tc.add_failure_info(first_line(reason) or "failed", clean(case_details(case), limit), junit_type(status, case.steps))
    elif status in (Status.ERROR, Status.INTERRUPTED):
        tc.add_error_info(first_line(reason) or status.value, clean(case_details(case), limit),
                          xml_safe(junit_type(status, case.steps)))
    elif status is Status.SKIPPED:
        tc.add_skipped_info(first_line(case.message) or "skipped")
    elif status is Status.XFAILED:
        tc.add_skipped_info(first_line(_prefixed("xfail", case.message)))
    return tc


def _prefixed(prefix: str, message: str) -> str:
    """`prefix: message`, unless the message already starts so (the engine writes "xfail: why")."""
    if not message:
        return prefix
    return message if message.startswith(f"{prefix}:") else f"{prefix}: {message}"


def _note(case: CaseResult) -> str:
    skipped = [(s, s.fields.reason or "") for s in case.steps if s.status is Status.SKIPPED]
    return _status_note(case) + "".join(  # steps skipped by `if:`, not those left out after a failure
        f"[orchestrator] step {s.index + 1} {s.title!r}: skipped ({why.removeprefix('skipped: ')})\n"
        for s, why in skipped if why.startswith("skipped"))


def _status_note(case: CaseResult) -> str:
    if case.status is Status.XPASSED:
        # The engine's message reads "xpassed: expected to fail (why) but passed".
        text = case.message.split(":", 1)[1].strip() if case.message.startswith("xpassed:") else case.message
        return f"[orchestrator] XPASSED: {text or 'expected to fail, but passed'}\n"
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



def _post_process(root: ET.Element, groups: list[list[Entry]], limit: int) -> None:
    # `disabled` is always 0 here and most JUnit schemas reject the attribute.
    root.attrib.pop("disabled", None)
    for suite, entries in zip(root.findall("testsuite"), groups):
        suite.attrib.pop("disabled", None)
        for element, (tc, case, inner) in zip(suite.findall("testcase"), entries):
            element.set("time", f"{_seconds(tc.elapsed_sec or 0.0):.3f}")
            skipped = element.find("skipped")
            if skipped is not None:  # junit-xml's type="skipped" says nothing and schemas reject it
                skipped.attrib.pop("type", None)
            if inner is None and len(case.attempts) > 1:  # only repeats and retries have interim results
                add_interim(element, case, limit)
            element.insert(0, _properties(case, inner))


def _properties(case: CaseResult, inner: InnerTest | None) -> ET.Element:
    props = ET.Element("properties")
    values = {"priority": case.priority, "level": case.level or "", "tags": ",".join(case.tags),
              "covers": ",".join(case.covers), "status": (inner or case).status.value}
    if inner is not None:
        values["case"] = case.id
    for name, value in values.items():
        if value:
            ET.SubElement(props, "property", {"name": name, "value": xml_safe(value)})
    return props


def _wall_times(root: ET.Element, run: RunResult, groups: list[list[CaseResult]]) -> None:
    """Suite time: from its first case's start to its last case's end (what the run took for it,
    however many cases ran at once); the root's and a lone suite's: the run's own duration."""
    suites = root.findall("testsuite")
    total = _seconds(run.duration_s)
    for suite, cases in zip(suites, groups):
        spans = [(a.started_at, a.started_at + _seconds(a.duration_s)) for c in cases for a in c.attempts
                 if a.started_at > 0]
        if len(suites) == 1 and total > 0:
            wall = total
        elif spans:
            wall = max(end for _, end in spans) - min(start for start, _ in spans)
        else:
            wall = sum(_seconds(c.duration_s) for c in cases)
        suite.set("time", f"{_seconds(wall):.3f}")
        starts = [start for start, _ in spans]
        suite.set("timestamp", _timestamp(min(starts) if starts else run.started_at))
    root.set("time", f"{total or max((float(s.get('time', '0')) for s in suites), default=0.0):.3f}")
