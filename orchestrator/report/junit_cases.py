"""The `<testcase>` elements of a case, built directly in their final shape.

The layout is the one junit-xml gave them (attribute and child order included: reports must
not change), with what `junit` used to add afterwards built in: `<properties>` first (as
pytest's `record_property` writes them), a `time` on every testcase, `<skipped>` without
junit-xml's `type="skipped"`, and Surefire's rerun/flaky siblings. Building the elements
ourselves spares a TestCase object and a second pass per testcase, and lets the default flavour
stream the file case by case (`junit.write_junit`).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import NamedTuple

from orchestrator.report.junit_details import add_interim, seconds
from orchestrator.report.sanitize import xml_safe
from orchestrator.result.model import CaseResult, InnerTest

_Element = ET.Element
_SubElement = ET.SubElement


class Outcome(NamedTuple):
    """A testcase's `<failure>`, `<error>` or `<skipped>`: tag, message, text, type."""

    tag: str
    message: str
    text: str | None = None
    type: str = ""


class Entry(NamedTuple):
    element: ET.Element
    case: CaseResult
    inner: InnerTest | None  # the inner test this testcase reports, None for the case itself
    outcome: str  # "failure", "error", "skipped" or "" (passed): what the suite counts


def testcase(name: str, classname: str, elapsed: float, file: str | None, line: str | None,
             outcome: Outcome | None, stdout: str | None = None, stderr: str | None = None) -> ET.Element:
    """junit-xml's testcase layout. Its `time` attribute followed `name` only when the time was
    not 0; otherwise it came last (added afterwards): the order is kept."""
    attrs = {"name": name}
    if elapsed:
        attrs["time"] = ""
    if classname:
        attrs["classname"] = classname
    if file:
        attrs["file"] = file
    if line:
        attrs["line"] = line
    attrs["time"] = f"{seconds(elapsed):.3f}"
    element = _Element("testcase", attrs)
    if outcome is not None:
        if outcome.tag == "skipped":
            child = _SubElement(element, "skipped", {"message": outcome.message} if outcome.message else {})
        else:
            child = _SubElement(element, outcome.tag, {"type": outcome.type or outcome.tag, "message": outcome.message}
                                if outcome.message else {"type": outcome.type or outcome.tag})
        if outcome.text:
            child.text = outcome.text
    if stdout:
        _SubElement(element, "system-out").text = stdout
    if stderr:
        _SubElement(element, "system-err").text = stderr
    return element


def finish(element: ET.Element, case: CaseResult, inner: InnerTest | None, limit: int) -> ET.Element:
    """The labels first, and a repeated case's rerun/flaky attempts."""
    if inner is None and len(case.attempts) > 1:  # only repeats and retries have interim results
        add_interim(element, case, limit)
    element.insert(0, properties(case, inner))
    return element


def properties(case: CaseResult, inner: InnerTest | None) -> ET.Element:
    props = _Element("properties")
    values = {"priority": case.priority, "level": case.level or "", "tags": ",".join(case.tags),
              "covers": ",".join(case.covers), "status": (inner or case).status.value}
    if inner is not None:
        values["case"] = case.id
    for name, value in values.items():
        if value:
            safe = _LABELS.get(value)
            if safe is None:
                safe = xml_safe(value)
                if len(_LABELS) < 4096:  # priorities, levels, tags: the same few values on every case
                    _LABELS[value] = safe
            _SubElement(props, "property", {"name": name, "value": safe})
    return props


_LABELS: dict[str, str] = {}


__all__ = ["Entry", "Outcome", "finish", "properties", "testcase"]
