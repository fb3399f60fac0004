"""XML text as ElementTree writes it, without ElementTree's serialiser and in blocks (JUnit).

Apart from report/sanitize (which every report and the console use) so that only writing XML
imports ElementTree (~1.5 ms of a run's start otherwise). Every block goes through
`sanitize.xml_safe` on its way out.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Callable

from orchestrator.report.sanitize import xml_safe


def write_xml(root: ET.Element, out: Callable[[str], object]) -> None:
    """Serialise `root` as a UTF-8 XML document to `out`, in ~1 MB blocks, never as one string.

    Each block goes through `xml_safe`: every string was sanitised on the way in, and this pass
    is the last line of defence (a few ms) so that no path can write a character XML 1.0 forbids.
    """
    sink = XmlSafeSink(out)
    sink.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if _plain_tree(root):
        _serialize(root, sink.pieces, sink.flush_if_full)
    else:  # namespaces, comments...: ElementTree's own serialiser
        ET.ElementTree(root).write(sink, encoding="unicode")
    sink.write("\n")
    sink.flush()


def _plain_tree(root: ET.Element) -> bool:
    """Only plain tags and string attributes and texts: what `_serialize` writes as ElementTree would."""
    for elem in root.iter():
        tag = elem.tag
        if not isinstance(tag, str) or tag.startswith("{") or not isinstance(elem.text or "", str) \
                or not isinstance(elem.tail or "", str):
            return False
        for key, value in elem.items():
            if not isinstance(key, str) or key.startswith("{") or not isinstance(value, str):
                return False
    return True


_escape_cdata = ET._escape_cdata  # type: ignore[attr-defined]
_escape_attrib = ET._escape_attrib  # type: ignore[attr-defined]


def _serialize(elem: ET.Element, out: list[str], flush_if_full: Callable[[], None]) -> None:
    """ElementTree's `write(encoding="unicode")` for a plain tree, byte for byte (its escaping
    functions, `<x />` for an empty element), without its namespace pass and per-piece calls:
    a 10,000-case JUnit file took 0.6 s, two thirds of it in ElementTree's serialiser."""
    tag = elem.tag
    out.append("<" + tag)
    for key, value in elem.items():
        out.append(f' {key}="{_escape_attrib(value)}"')
    text = elem.text
    if text or len(elem):
        out.append(">")
        if text:
            out.append(_escape_cdata(text))
        for child in elem:
            _serialize(child, out, flush_if_full)
        out.append("</" + tag + ">")
    else:
        out.append(" />")
    if elem.tail:
        out.append(_escape_cdata(elem.tail))
    flush_if_full()


def start_tag(tag: str, attrs: dict[str, str], empty: bool = False) -> str:
    """`<tag a="v">` (or `<tag a="v" />`) as ElementTree writes it."""
    text = "<" + tag + "".join(f' {key}="{_escape_attrib(value)}"' for key, value in attrs.items())
    return text + (" />" if empty else ">")


def write_indented(elem: ET.Element, level: int, sink: XmlSafeSink) -> None:
    """`elem` as the child of an element at `level - 1`, written as `ET.indent` (two spaces a
    level) and then `_serialize` would write it: its leading line break and indentation, then
    the element; its tail is its parent's business. One pass, no change to the tree."""
    pieces = sink.pieces
    pieces.append("\n" + "  " * level)
    _indented(elem, level, pieces)
    sink.flush_if_full()


_INDENTS = ["\n" + "  " * level for level in range(16)]


def _indented(elem: ET.Element, level: int, out: list[str]) -> None:
    tag = elem.tag
    attrib = elem.attrib
    start = "<" + tag + "".join([f' {key}="{_escape_attrib(value)}"' for key, value in attrib.items()]) \
        if attrib else "<" + tag
    text = elem.text
    if len(elem):
        inner = _INDENTS[level + 1] if level + 1 < len(_INDENTS) else "\n" + "  " * (level + 1)
        out.append(start + ">" + (_escape_cdata(text) if text and text.strip() else inner))
        last = len(elem) - 1
        for n, child in enumerate(elem):
            _indented(child, level + 1, out)
            tail = child.tail
            if tail and tail.strip():
                out.append(_escape_cdata(tail))
            else:
                out.append(inner if n < last else "\n" + "  " * level)
        out.append("</" + tag + ">")
    elif text:
        out.append(start + ">" + _escape_cdata(text) + "</" + tag + ">")
    else:
        out.append(start + " />")


class XmlSafeSink:
    """Collects the serialiser's small pieces and passes them on, made XML-safe, in blocks."""

    # 64 KiB: a block's pieces, its joined text, its XML-safe copy and its bytes are all alive at
    # once; with 1 MiB blocks that was ~6 MB at a run's peak (10,000 cases), and no faster.
    BLOCK = 1 << 16

    PIECES = 2048  # `_serialize` appends to `pieces` directly and calls flush_if_full

    def __init__(self, out: Callable[[str], object]) -> None:
        self._out = out
        self.pieces: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self.pieces.append(text)
        self._size += len(text)
        if self._size >= self.BLOCK:
            self.flush()
        return len(text)

    def flush_if_full(self) -> None:
        if len(self.pieces) >= self.PIECES:
            self.flush()

    def flush(self) -> None:
        if self.pieces:
            block = "".join(self.pieces)
            self.pieces.clear()  # in place: `_serialize` holds this list
            self._size = 0
            self._out(xml_safe(block))
