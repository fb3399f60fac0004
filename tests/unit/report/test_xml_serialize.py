"""write_xml serialises plain trees itself (issue 13: ElementTree's serialiser was two thirds of a
10,000-case JUnit write): its output must stay ElementTree's, byte for byte."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from orchestrator.report import xml_text
from orchestrator.report.junit import junit_tree

from .factory import run_result


def _element_tree(root: ET.Element) -> str:
    out: list[str] = []
    sink = xml_text.XmlSafeSink(out.append)
    sink.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    ET.ElementTree(root).write(sink, encoding="unicode")
    sink.write("\n")
    sink.flush()
    return "".join(out)


def _ours(root: ET.Element) -> str:
    out: list[str] = []
    xml_text.write_xml(root, out.append)
    return "".join(out)


@pytest.mark.parametrize("hostile", [False, True])
@pytest.mark.parametrize("flavor", ["default", "strict"])
def test_junit_is_written_as_elementtree_writes_it(hostile: bool, flavor: str) -> None:
    root = junit_tree(run_result(hostile=hostile), flavor=flavor)
    assert _ours(root) == _element_tree(root)


@pytest.mark.parametrize("hostile", [False, True])
def test_the_streamed_junit_is_the_tree_as_elementtree_writes_it(hostile: bool) -> None:
    """The default flavour is written case by case (junit._stream), never as one tree: it must
    be what serialising the whole tree would give."""
    from orchestrator.report.junit import _stream

    run = run_result(hostile=hostile)
    quoted = replace(run.cases[0], name='q"uo\nte\r\t<&>', file="", line=0, duration_s=0.0, level=None, tags=())
    run = replace(run, cases=(quoted,) + run.cases[1:])
    out: list[str] = []
    _stream(run, out.append)
    assert "".join(out) == _element_tree(junit_tree(run))
    empty: list[str] = []
    _stream(replace(run, cases=(), plans=()), empty.append)
    assert "".join(empty) == _element_tree(junit_tree(replace(run, cases=(), plans=())))


def test_escaping_empty_elements_tails_and_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xml_text.XmlSafeSink, "PIECES", 3)  # many small blocks: none lost
    root = ET.Element("a", {"q": 'x"<&>\n\r\t', "empty": ""})
    for n in range(50):
        child = ET.SubElement(root, "b", {"n": str(n)})
        child.text = "" if n % 3 == 0 else f"<{n}> & ]]> \u2028"
        child.tail = "\n  " if n % 2 else None
        ET.SubElement(child, "c")
    assert _ours(root) == _element_tree(root)


def test_a_tree_with_a_comment_or_a_namespace_goes_to_elementtree() -> None:
    root = ET.Element("{urn:x}a")
    root.append(ET.Comment("note"))
    assert not xml_text._plain_tree(root)
    assert _ours(root) == _element_tree(root)
