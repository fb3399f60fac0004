"""The `strict` JUnit flavour: what the Jenkins xUnit plugin (junit-10.xsd) and Maven Surefire
(surefire-test-report.xsd) accept when they validate their input.

Those schemas allow neither testcase `file`/`line` nor testcase `<properties>`, and Surefire's
root is a single `<testsuite>` whose testcase children come in a fixed order. So this flavour:
- puts every case of the run in ONE `<testsuite>` (named after the plan, or `a+b` for several
  plans; each testcase's `classname` still starts with its plan's name);
- moves each testcase's labels — every property the default flavour writes, plus `file` and
  `line` — to the top of its `<system-out>`, one `[orchestrator] NAME: VALUE` line each (the
  prefix of every line the orchestrator itself adds there), for today's labels and any later;
- keeps the run-wide gate properties as the suite's `<properties>`;
- orders each testcase's children as Surefire's sequence demands.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Sequence

FLAVORS = ("default", "strict")

_CASE_ATTRIBUTES = ("name", "classname", "time")  # all both schemas allow on <testcase>
_SUITE_ATTRIBUTES = ("name", "tests", "failures", "errors", "skipped", "time", "timestamp")
_CHILD_ORDER = {tag: n for n, tag in enumerate((
    "failure", "rerunFailure", "flakyFailure", "skipped", "error", "rerunError", "flakyError",
    "system-out", "system-err"))}
LABEL_PREFIX = "[orchestrator] "


def strict_flavour(root: ET.Element, plan_names: Sequence[str]) -> ET.Element:
    """The default flavour's `<testsuites>` tree reshaped into one schema-valid `<testsuite>`."""
    suites = root.findall("testsuite")
    suite = ET.Element("testsuite", {"name": "+".join(plan_names) or "orchestrator"})
    properties = next((s.find("properties") for s in suites if s.find("properties") is not None), None)
    if properties is not None:
        suite.append(properties)
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for old in suites:
        for case in old.findall("testcase"):
            suite.append(_strict_case(case))
            counts["tests"] += 1
            for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
                counts[key] += case.find(tag) is not None
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", root.get("time", "0.000"))
    stamps = sorted(s.get("timestamp", "") for s in suites if s.get("timestamp"))
    if stamps:
        suite.set("timestamp", stamps[0])
    for key in list(suite.attrib):
        if key not in _SUITE_ATTRIBUTES:
            del suite.attrib[key]
    return suite


def _strict_case(case: ET.Element) -> ET.Element:
    labels: list[tuple[str, str]] = []
    for attr in ("file", "line"):
        if case.get(attr):
            labels.append((attr, case.get(attr, "")))
    properties = case.find("properties")
    if properties is not None:
        labels.extend((p.get("name", ""), p.get("value", "")) for p in properties.findall("property"))
        case.remove(properties)
    for key in list(case.attrib):
        if key not in _CASE_ATTRIBUTES:
            del case.attrib[key]
    if labels:
        out = case.find("system-out")
        if out is None:
            out = ET.SubElement(case, "system-out")
        block = "".join(f"{LABEL_PREFIX}{name}: {value}\n" for name, value in labels)
        out.text = block + (out.text or "")
    children = sorted(case, key=lambda child: _CHILD_ORDER.get(child.tag, len(_CHILD_ORDER)))
    for child in list(case):
        case.remove(child)
    case.extend(children)
    return case
