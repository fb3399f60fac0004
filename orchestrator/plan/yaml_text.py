"""Block YAML read line by line, as a person reads it: indentation, `- ` items, `key:`, values.

What the syntax-error hints (yaml_hints) look at around the place where PyYAML gave up; never
used to load a plan.
"""
from __future__ import annotations

import re
from typing import Iterator
from dataclasses import field

from orchestrator.records import mutable_record

KEY = re.compile(r"""("[^"]*"|'[^']*'|[^\s#"'{\[\]},&*!|>%@`][^#]*?)\s*:(?:\s|$)""")
CLOSE = {"[": "]", "{": "}"}


@mutable_record
class Line:
    """One line as block YAML sees it: indentation, `- ` item markers, and a `key:` if any."""

    number: int  # 0-based
    indent: int
    dashes: list[int] = field(default_factory=list)
    key: str | None = None
    key_col: int = 0
    colon: int = -1
    value_col: int = -1  # where the text after `key: ` starts (-1: nothing after the colon)

    @property
    def blank(self) -> bool:
        return self.indent < 0


def parse_line(number: int, raw: str) -> Line:
    stripped = raw.lstrip(" ")
    if not stripped.strip() or stripped.startswith("#"):
        return Line(number, -1)
    at = len(raw) - len(stripped)
    line = Line(number, at)
    while raw.startswith("- ", at) or raw[at:].rstrip() == "-":
        line.dashes.append(at)
        at += 1
        while at < len(raw) and raw[at] == " ":
            at += 1
    line.key_col = at
    if raw[at:at + 1] in ("'", '"'):
        line.value_col = at  # a quoted list item
    match = KEY.match(raw, at)
    if match:
        line.key = match.group(1).strip("'\"")
        line.colon = match.end(1) + (raw[match.end(1):].index(":"))
        rest = raw[line.colon + 1:]
        if rest.strip() and not rest.strip().startswith("#"):
            line.value_col = line.colon + 1 + len(rest) - len(rest.lstrip())
    return line


def open_above(lines: list[str], number: int) -> tuple[dict[int, Line], dict[int, Line]]:
    """Key columns and `-` columns that a line at `number` could still continue (nearest line each)."""
    keys: dict[int, Line] = {}
    dashes: dict[int, Line] = {}
    floor = 10**9
    for j in range(number - 1, -1, -1):
        line = parse_line(j, lines[j])
        if line.blank:
            continue
        if line.key is not None and line.key_col <= floor:
            keys.setdefault(line.key_col, line)
        for col in line.dashes:
            if col <= floor:
                dashes.setdefault(col, line)
        floor = min(floor, line.indent)
        if floor == 0 and 0 in keys:
            break
    return keys, dashes


def previous(lines: list[str], number: int) -> Line | None:
    for j in range(number - 1, -1, -1):
        line = parse_line(j, lines[j])
        if not line.blank:
            return line
    return None


def quoted(text: str) -> str:
    if '"' in text or "\\" in text:
        return "'" + text.replace("'", "''") + "'"
    return '"' + text + '"'


def value_text(raw: str, start: int) -> str:
    text = raw[start:]
    comment = re.search(r"\s#", text)
    return (text[:comment.start()] if comment else text).strip()


def flow_end(raw: str, start: int) -> int:
    """Where a value inside [ ] or { } that goes on at `start` ends: at its `,`, `]` or `}`."""
    end, depth = start, 0
    while end < len(raw):
        char = raw[end]
        if char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            break
        end += 1
    return end


def _depths(text: str, *, floor: int | None) -> Iterator[tuple[str, int]]:
    """Each character outside quotes with the [ / { depth after it (never below `floor`)."""
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
            continue
        if char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = depth - 1 if floor is None else max(floor, depth - 1)
        yield char, depth


def depth(text: str) -> int:
    """How many [ and { are still open at the end of `text` (quotes skipped)."""
    found = 0
    for _, found in _depths(text, floor=0):
        pass
    return found


def unbalanced(text: str) -> bool:
    """A bracket opened in `text` is still open at its end (the first one to close ends the check)."""
    depth = 0
    for char, depth in _depths(text, floor=None):
        if char in "]}" and depth == 0:
            return False
    return depth > 0


def closing_quote(raw: str, start: int) -> int:
    """Where the quoted text opening at `start` closes on its line, or -1."""
    quote, at = raw[start], start + 1
    while at < len(raw):
        if quote == '"' and raw[at] == "\\":
            at += 2
            continue
        if raw[at] == quote:
            if quote == "'" and raw[at + 1:at + 2] == "'":
                at += 2
                continue
            return at
        at += 1
    return -1
