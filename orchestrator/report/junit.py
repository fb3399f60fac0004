"""The JUnit XML report, as Jenkins, GitLab, GitHub actions and xunitparser read it.

The layout is the one junit-xml wrote (each testcase is built in it by `junit_cases`), with
per-testcase `<properties>` (as pytest's `record_property` writes them), a `time` on every
testcase (junit-xml omitted `time="0"`, which some consumers read as NaN), and tidy totals. The
default flavour is written case by case, never as one tree.

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
from typing import Callable, Iterator, Optional, Tuple

from orchestrator.report.junit_cases import Outcome, Spec, finish, labels, testcase, testcase_text
from orchestrator.report.junit_details import MIN_STREAM_LIMIT, case_details, first_failure, junit_type
from orchestrator.report.junit_details import seconds as _seconds
from orchestrator.report.junit_inner import SHOWN, inner_testcases, keeps_own_testcase
from orchestrator.report.junit_strict import FLAVORS, strict_flavour
from orchestrator.report.sanitize import clean, first_line, xml_safe
from orchestrator.report.xml_text import XmlSafeSink, start_tag, write_indented, write_xml
from orchestrator.result.model import CaseResult, InnerTest, ProviderLeak, RunResult, Status
from orchestrator.result.store import PathLike, atomic_writer
from orchestrator.result.usage import usage_labels

STREAM_LIMIT = 64 * 1024  # characters per system-out / system-err / failure body
OUTPUT_BUDGET = 20 * 2**20  # GitLab rejects JUnit files over 30 MiB: stay well below
__all__ = ["FLAVORS", "junit_tree", "write_junit"]


def write_junit(run: RunResult, path: PathLike, *, flavor: str = "default") -> None:
    """Write the run as one JUnit XML file (atomically).

    The default flavour is streamed case by case: each case's testcases are built, written and
    dropped, so the file never exists as one tree in memory. `flavor` "strict": a single
    `<testsuite>` that validates against the Jenkins xUnit and Maven Surefire XSDs, with
    per-testcase labels moved into `<system-out>` (see junit_strict), reshaped from the whole tree.
    """
    if flavor not in FLAVORS:
        raise ValueError(f"unknown JUnit flavour {flavor!r} (known: {', '.join(FLAVORS)})")
    with atomic_writer(path) as fh:
        def out(text: str) -> None:
            fh.write(text.encode("utf-8"))
        if flavor == "strict":
            write_xml(junit_tree(run, flavor=flavor), out)
        else:
            _stream(run, out)


class _Layout:
    """What the run's document holds before any testcase is built: the suites (one per plan
    with cases), what each testcase of each case counts as, and the size limit of its texts."""

    def __init__(self, run: RunResult) -> None:
        inner = {id(case): case.inner_tests for case in run.cases}  # a property that builds a tuple: once
        self.limit = _stream_limit(len(run.cases) + sum(map(len, inner.values())))
        by_plan: dict[str, list[CaseResult]] = {}
        for plan in run.plans:
            by_plan.setdefault(plan.name, [])
        for case in run.cases:
            by_plan.setdefault(case.plan, []).append(case)
        # A suite without testcases is dropped by Jenkins and warned about by validators.
        self.groups = [(name, cases) for name, cases in by_plan.items() if cases]
        self.kinds = [[_testcases(case, inner[id(case)]) for case in cases] for _, cases in self.groups]
        total = _seconds(run.duration_s)
        self.suites = [self._suite(run, name, cases, kinds, total, i == 0)
                       for i, ((name, cases), kinds) in enumerate(zip(self.groups, self.kinds))]
        counts = {key: sum(int(s[key]) for s, _ in self.suites) for key in ("errors", "failures", "tests")}
        times = [float(s["time"]) for s, _ in self.suites]
        self.root = {**{k: str(v) for k, v in counts.items()},
                     "time": f"{total or max(times, default=0.0):.3f}"}

    def _suite(self, run: RunResult, name: str, cases: list[CaseResult], kinds: list[list[_Planned]],
               total: float, first: bool) -> tuple[dict[str, str], dict[str, str] | None]:
        """(the suite's attributes, its properties: the run-wide gate verdict, on the first suite
        only — xunitparser keeps ONE property dict for the whole document and asserts names are
        unique across suites)."""
        outcomes = Counter(kind for planned in kinds for _, kind in planned)
        spans = [(a.started_at, a.started_at + _seconds(a.duration_s)) for c in cases for a in c.attempts
                 if a.started_at > 0]
        # Suite time: from its first case's start to its last case's end (what the run took for it,
        # however many cases ran at once); a lone suite's: the run's own duration.
        if len(self.groups) == 1 and total > 0:
            wall = total
        elif spans:
            wall = max(end for _, end in spans) - min(start for start, _ in spans)
        else:
            wall = sum(_seconds(c.duration_s) for c in cases)
        starts = [start for start, _ in spans]
        attrs = {"errors": str(outcomes["error"]), "failures": str(outcomes["failure"]), "name": xml_safe(name),
                 "skipped": str(outcomes["skipped"]), "tests": str(sum(outcomes.values())),
                 "time": f"{_seconds(wall):.3f}", "timestamp": _timestamp(min(starts) if starts else run.started_at)}
        return attrs, _gate_properties(run) if first else None

    def specs(self, group: int) -> Iterator[tuple[Spec, CaseResult, InnerTest | None]]:
        """(what the testcase says, its case, the inner test it reports or None) of the suite's
        testcases, in order, each built when asked for."""
        classname_of: dict[str, str] = {}
        for case, planned in zip(self.groups[group][1], self.kinds[group]):
            key = case.level or "cases"
            classname = classname_of.get(key) or classname_of.setdefault(key, xml_safe(f"{case.plan}.{key}"))
            inner = iter(inner_testcases(case, classname, self.limit) if planned[0][0] is not None else ())
            for test, _ in planned:
                yield (_case(case, classname, self.limit) if test is None else next(inner)[0]), case, test

    def elements(self, group: int) -> Iterator[ET.Element]:
        for spec, case, test in self.specs(group):
            yield finish(testcase(spec), case, test, self.limit)


_Planned = Tuple[Optional[InnerTest], str]  # (the inner test or None for the case itself, outcome)


def _testcases(case: CaseResult, tests: tuple[InnerTest, ...]) -> list[_Planned]:
    """The testcases of one case (`tests`: its inner tests) and what each counts as: its inner
    tests, then its own unless they explain its verdict."""
    inner: list[_Planned] = [(test, _INNER_OUTCOME.get(test.status, "")) for test in tests] \
        if tests and case.status in SHOWN else []
    if inner and not keeps_own_testcase(case):
        return inner
    return inner + [(None, _OUTCOME.get(case.status, ""))]


_OUTCOME = {Status.FAILED: "failure", Status.ERROR: "error", Status.INTERRUPTED: "error",
            Status.SKIPPED: "skipped", Status.XFAILED: "skipped"}
_INNER_OUTCOME = {Status.FAILED: "failure", Status.ERROR: "error", Status.SKIPPED: "skipped"}


def junit_tree(run: RunResult, *, flavor: str = "default") -> ET.Element:
    """The root element of the run's report in `flavor`, indented, ready to serialise."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown JUnit flavour {flavor!r} (known: {', '.join(FLAVORS)})")
    layout = _Layout(run)
    root = ET.Element("testsuites", layout.root)
    for i, (attrs, props) in enumerate(layout.suites):
        suite = ET.SubElement(root, "testsuite", attrs)
        if props is not None:
            suite.append(_properties_element(props))
        suite.extend(layout.elements(i))
    if flavor == "strict":
        root = strict_flavour(root, [name for name, _ in layout.groups] or [p.name for p in run.plans[:1]])
    ET.indent(root)
    return root


def _stream(run: RunResult, out: Callable[[str], object]) -> None:
    """The default flavour, written as `junit_tree(run)` would serialise, one case at a time."""
    layout = _Layout(run)
    sink = XmlSafeSink(out)
    sink.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if not layout.suites:
        sink.write(start_tag("testsuites", layout.root, empty=True))
    else:
        sink.write(start_tag("testsuites", layout.root))
        for i, (attrs, props) in enumerate(layout.suites):
            sink.write("\n  " + start_tag("testsuite", attrs))
            if props is not None:
                write_indented(_properties_element(props), 2, sink)
            for spec, case, test in layout.specs(i):
                if test is None and len(case.attempts) > 1:  # rerun/flaky attempts: through the tree
                    write_indented(finish(testcase(spec), case, test, layout.limit), 2, sink)
                else:
                    sink.write(testcase_text(spec, labels(case, test)))
            sink.write("\n  </testsuite>")
        sink.write("\n</testsuites>")
    sink.write("\n")
    sink.flush()


def _properties_element(props: dict[str, str]) -> ET.Element:
    element = ET.Element("properties")
    for name, value in props.items():
        ET.SubElement(element, "property", {"name": name, "value": value})
    return element


def _stream_limit(n_cases: int) -> int:
    if n_cases == 0:
        return STREAM_LIMIT
    share = OUTPUT_BUDGET // (3 * n_cases)  # stdout, stderr and the failure body
    return max(MIN_STREAM_LIMIT, min(STREAM_LIMIT, share))


def _timestamp(unix: float) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


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
    for provider, text in usage_labels(run):
        props[xml_safe(f"usage: {provider}") if provider else "usage"] = text
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


def _case(case: CaseResult, classname: str, limit: int) -> Spec:
    status = case.status
    outcome = None
    if status is Status.FAILED:
        reason = case.message or first_failure(case.steps) or status.value
        outcome = Outcome("failure", first_line(reason) or "failed", clean(case_details(case), limit),
                          junit_type(status, case.steps))
    elif status in (Status.ERROR, Status.INTERRUPTED):
        reason = case.message or first_failure(case.steps) or status.value
        outcome = Outcome("error", first_line(reason) or status.value, clean(case_details(case), limit),
                          xml_safe(junit_type(status, case.steps)))
    elif status is Status.SKIPPED:
        outcome = Outcome("skipped", first_line(case.message) or "skipped")
    elif status is Status.XFAILED:
        outcome = Outcome("skipped", first_line(_prefixed("xfail", case.message)))
    return Spec(xml_safe(f"{case.id}: {case.name}"), classname, _seconds(case.duration_s),
                xml_safe(case.file) or None, str(case.line) if case.line else None, outcome,
                clean(_note(case) + _output(case, "stdout"), limit) or None,
                clean(_output(case, "stderr"), limit) or None)


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


def _output(case: CaseResult, name: str) -> str:
    texts = [getattr(a, name) for a in case.attempts]
    if len(case.attempts) <= 1:
        return texts[0] if texts else ""
    out = []
    for n, (attempt, text) in enumerate(zip(case.attempts, texts), 1):
        if text:
            out.append(f"--- attempt {n}/{len(texts)} ({attempt.status.value}) ---\n{text}")
    return "\n".join(out)
