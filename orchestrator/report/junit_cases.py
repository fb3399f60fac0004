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
_attrib = ET._escape_attrib  # type: ignore[attr-defined]
_cdata = ET._escape_cdata  # type: ignore[attr-defined]


class Outcome(NamedTuple):
    """A testcase's `<failure>`, `<error>` or `<skipped>`: tag, message, text, type."""

    tag: str
    message: str
    text: str | None = None
    type: str = ""


class Spec(NamedTuple):
    """What one testcase says, its texts already XML-safe and cut to size."""

    name: str
    classname: str
    elapsed: float
    file: str | None
    line: str | None
    outcome: Outcome | None
    stdout: str | None = None
    stderr: str | None = None


def _attributes(spec: Spec) -> dict[str, str]:
    """junit-xml's testcase attributes. Its `time` followed `name` only when the time was not 0;
    otherwise it came last (added afterwards): the order is kept."""
    attrs = {"name": spec.name}
    if spec.elapsed:
        attrs["time"] = ""
    if spec.classname:
        attrs["classname"] = spec.classname
    if spec.file:
        attrs["file"] = spec.file
    if spec.line:
        attrs["line"] = spec.line
    attrs["time"] = f"{seconds(spec.elapsed):.3f}"
    return attrs


def _outcome_attributes(outcome: Outcome) -> dict[str, str]:
    if outcome.tag == "skipped":
        return {"message": outcome.message} if outcome.message else {}
    kind = outcome.type or outcome.tag
    return {"type": kind, "message": outcome.message} if outcome.message else {"type": kind}


def testcase(spec: Spec) -> ET.Element:
    """The testcase as an element (without its labels: see `finish`)."""
    element = _Element("testcase", _attributes(spec))
    outcome, stdout, stderr = spec.outcome, spec.stdout, spec.stderr
    if outcome is not None:
        child = _SubElement(element, outcome.tag, _outcome_attributes(outcome))
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


def labels(case: CaseResult, inner: InnerTest | None) -> list[tuple[str, str]]:
    """(name, XML-safe value) of each `<property>` of the testcase."""
    if inner is not None:
        return _labels(case, inner)
    key = (case.priority, case.level, case.tags, case.covers, case.status)
    try:
        return list(_BY_CASE[key])
    except KeyError:
        found = _labels(case, None)
        if len(_BY_CASE) < 4096:  # a run's cases share a few dozen combinations
            _BY_CASE[key] = tuple(found)
        return found
    except TypeError:  # an unhashable value (a hand-edited file): as it is
        return _labels(case, None)


def _labels(case: CaseResult, inner: InnerTest | None) -> list[tuple[str, str]]:
    values = {"priority": case.priority, "level": case.level or "", "tags": ",".join(case.tags),
              "covers": ",".join(case.covers), "status": (inner or case).status.value}
    if inner is not None:
        values["case"] = case.id
    out = []
    for name, value in values.items():
        if value:
            safe = _LABELS.get(value)
            if safe is None:
                safe = xml_safe(value)
                if len(_LABELS) < 4096:  # priorities, levels, tags: the same few values on every case
                    _LABELS[value] = safe
            out.append((name, safe))
    return out


_LABELS: dict[str, str] = {}
# A case's labels by (priority, level, tags, covers, status): only values `_labels` took are kept
# (a non-str one fails in it), and a str is never equal to a non-str, so no key stands for another.
_BY_CASE: dict[tuple[object, ...], tuple[tuple[str, str], ...]] = {}


def properties(case: CaseResult, inner: InnerTest | None) -> ET.Element:
    props = _Element("properties")
    for name, value in labels(case, inner):
        _SubElement(props, "property", {"name": name, "value": value})
    return props


def testcase_text(spec: Spec, case_labels: list[tuple[str, str]]) -> str:
    """`finish(testcase(spec))` of a testcase without rerun/flaky attempts, as
    `xml_text.write_indented(..., 2, ...)` writes it: the same text without the elements."""
    attrs = "".join([f' {key}="{_attrib(value)}"' for key, value in _attributes(spec).items()])
    parts = [f"\n    <testcase{attrs}>", _properties_text(case_labels)]
    outcome = spec.outcome
    if outcome is not None:
        tag = outcome.tag
        start = f"\n      <{tag}" + "".join([f' {key}="{_attrib(value)}"'
                                              for key, value in _outcome_attributes(outcome).items()])
        parts.append(f"{start}>{_cdata(outcome.text)}</{tag}>" if outcome.text else f"{start} />")
    if spec.stdout:
        parts.append(f"\n      <system-out>{_cdata(spec.stdout)}</system-out>")
    if spec.stderr:
        parts.append(f"\n      <system-err>{_cdata(spec.stderr)}</system-err>")
    parts.append("\n    </testcase>")
    return "".join(parts)


def _properties_text(case_labels: list[tuple[str, str]]) -> str:
    key = tuple(case_labels)
    text = _PROPERTIES.get(key)
    if text is None:
        if case_labels:
            text = "\n      <properties>" + "".join(
                [f'\n        <property name="{name}" value="{_attrib(value)}" />' for name, value in case_labels]
            ) + "\n      </properties>"
        else:
            text = "\n      <properties />"
        if len(_PROPERTIES) < 4096:
            _PROPERTIES[key] = text
    return text


_PROPERTIES: dict[tuple[tuple[str, str], ...], str] = {}


__all__ = ["Outcome", "Spec", "finish", "labels", "properties", "testcase", "testcase_text"]
