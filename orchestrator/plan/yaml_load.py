"""Safe YAML loading that remembers where every value and key came from.

libyaml composes the document where that cannot change a message (plan/yaml_c.py); otherwise
we compose PyYAML's parser events ourselves, iteratively. Plain Python values are built from the
nodes (so no constructor ever runs user-chosen code), and the document is kept until the plan is
built: `Source.at(path)` (plan/yaml_source.py) finds where a value was written by walking it.
The values are built by plan/yaml_build.py.
Hostile input (alias bombs, deep nesting, binary junk, huge files) ends in one clear Problem, fast.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import Location, Problem
from orchestrator.plan.yaml_build import MAX_DEPTH, Builder
from orchestrator.plan.yaml_build import Fail as _Fail
from orchestrator.plan.yaml_c import compose_in_c as _compose_in_c
from orchestrator.plan.yaml_c import too_deep
from orchestrator.plan.yaml_source import NodePath, PathKey, Source

__all__ = ["MAX_ALIAS_VALUES", "MAX_BYTES", "MAX_DEPTH", "NodePath", "PathKey", "Source", "load_yaml"]

MAX_BYTES = 10 * 1024 * 1024
MAX_ALIAS_VALUES = 100_000  # values that aliases may add to a plan, in all

_LIBYAML: Any = getattr(yaml, "CSafeLoader", None)
_EventLoader: Any = _LIBYAML or yaml.SafeLoader  # libyaml when available: ~10x faster
_RESOLVER = yaml.SafeLoader("")


def _events_to_node(text: str, aliases: list[tuple[Node, Any]]) -> Node | None:
    """Compose the single document of `text` from parser events, iteratively (no recursion).

    Refuses nesting deeper than MAX_DEPTH; aliases share nodes as PyYAML's composer does, and
    each use of one is appended to `aliases` as (the node it names, where it is written).
    """
    anchors: dict[str, Node] = {}
    stack: list[tuple[Node, list[Any]]] = []
    root: Node | None = None
    documents = 0

    def attach(node: Node) -> None:
        nonlocal root
        if stack:
            stack[-1][1].append(node)
        else:
            root = node

    for event in yaml.parse(text, Loader=_EventLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Fail(event.start_mark.line + 1, event.start_mark.column + 1,
                            "a plan file holds one YAML document; found a second one")
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _Fail(event.start_mark.line + 1, event.start_mark.column + 1,
                            f"found undefined alias '{event.anchor}'")
            aliases.append((anchors[event.anchor], event.start_mark))
            attach(anchors[event.anchor])
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(ScalarNode, event.value, event.implicit)
            node: Node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            if event.anchor is not None:
                anchors[event.anchor] = node
            attach(node)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise _Fail(event.start_mark.line + 1, event.start_mark.column + 1,
                            f"nesting deeper than {MAX_DEPTH} levels")
            kind = SequenceNode if isinstance(event, yaml.SequenceStartEvent) else MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = node
            attach(node)
            stack.append((node, node.value))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node, items = stack.pop()
            if isinstance(node, MappingNode):
                node.value = list(zip(items[0::2], items[1::2]))
    return root


def _read(source: Source) -> str:
    """The file's text; raises _Fail with the reason it is not a readable text plan."""
    path = source.path
    if not path.exists():
        raise _Fail(1, 1, "no such file")
    if path.is_dir():
        raise _Fail(1, 1, "is a directory, not a plan file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise _Fail(1, 1, f"file is too large ({size / 2**20:.1f} MiB; plans are limited to 10 MiB)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _Fail(1, 1, f"cannot read: {exc.strerror or exc}") from None
    bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _place(raw, nul, bom)
        raise _Fail(line, col, f"not a text file: NUL byte at line {line}")
    try:  # what the utf-8-sig codec does (its module is one import more): one leading BOM dropped
        return (raw[bom:] if bom else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + bom  # in the file, BOM included
        line, col = _place(raw, at, bom)
        raise _Fail(line, col, f"not UTF-8: invalid byte 0x{raw[at]:02x} at line {line}") from None


def _place(raw: bytes, at: int, bom: int) -> tuple[int, int]:
    """Line and column of the byte at `at`, the column in characters (as every other message
    counts it) and not counting a leading BOM."""
    line_start = max(raw.rfind(b"\n", 0, at) + 1, bom)
    return raw.count(b"\n", 0, at) + 1, len(raw[line_start:at].decode("utf-8", "replace")) + 1


def _check_aliases(aliases: list[tuple[Node, Any]]) -> None:
    """Fail fast, at the alias that crosses the line, when aliases would expand to more than
    MAX_ALIAS_VALUES values in all (a billion laughs), or an alias is inside what it names.

    Only what aliases add is counted: a big plan without aliases is just a big plan."""
    if not aliases:
        return
    sizes: dict[int, int] = {}
    active: set[int] = set()
    expanded = 0
    for target, mark in aliases:
        expanded += _expanded_size(target, 0, sizes, active)
        if expanded > MAX_ALIAS_VALUES:
            raise _Fail(mark.line + 1, mark.column + 1, f"aliases expand to more than {MAX_ALIAS_VALUES:,} "
                                                        "values (alias bomb?)")


def _expanded_size(node: Node, depth: int, sizes: dict[int, int], active: set[int]) -> int:
    """How many values `node` stands for, aliases expanded (`sizes` remembers each node's)."""
    if depth > MAX_DEPTH:
        raise _Fail(node.start_mark.line + 1, node.start_mark.column + 1,
                    f"nesting deeper than {MAX_DEPTH} levels")
    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in active:
        raise _Fail(node.start_mark.line + 1, node.start_mark.column + 1,
                    "an alias refers to the value that contains it")
    active.add(id(node))
    total = 1
    if isinstance(node, SequenceNode):
        total += sum(_expanded_size(item, depth + 1, sizes, active) for item in node.value)
    elif isinstance(node, MappingNode):
        total += sum(_expanded_size(k, depth + 1, sizes, active) + _expanded_size(v, depth + 1, sizes, active)
                     for k, v in node.value)
    active.discard(id(node))
    sizes[id(node)] = total
    return total


_FLOW_CHARS = re.compile(r"[\[\]{}\"'\n]")


def _check_flow_depth(text: str) -> None:
    """Refuse absurd [ / { nesting before PyYAML's scanner spends time on it."""
    depth, quote = 0, ""
    for match in _FLOW_CHARS.finditer(text):
        index, char = match.start(), match.group()
        if quote:
            if char == quote or (char == "\n" and depth == 0):  # an apostrophe in plain text
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, index) + 1
                raise _Fail(line, index - text.rfind("\n", 0, index), f"nesting deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth = max(0, depth - 1)


def _build_composed_in_c(source: Source, root: Node | None) -> tuple[Builder, Any] | None:
    """`_build` of what libyaml composed, or None when a collection is nested MAX_DEPTH deep: the
    event composer then refuses it where it always did. Building finds that at no extra cost
    unless it went that deep or left part of the document unbuilt (a refused key or tag)."""
    try:
        built = _build(source, root, aliased=False)
    except _Fail:
        if root is not None and too_deep(root, MAX_DEPTH):
            return None
        raise
    builder = built[0]
    if (builder.skipped or builder.deepest >= MAX_DEPTH) and root is not None and too_deep(root, MAX_DEPTH):
        return None
    return built


def _build(source: Source, root: Node | None, aliased: bool = True) -> tuple[Builder, Any]:
    if root is None:
        raise _Fail(1, 1, "empty plan")
    source.root = root
    builder = Builder(source, aliased)
    return builder, builder.build(root, 0)


def _load(source: Source, text: str) -> tuple[Builder, Any]:
    if text.count("[") + text.count("{") > MAX_DEPTH:
        from orchestrator.plan.yaml_flow import flow_depth_within  # here: a small plan never needs it

        if not flow_depth_within(text, MAX_DEPTH):
            _check_flow_depth(text)
    # Only where the events come from libyaml too: then its composer sees the same document.
    done, composed = _compose_in_c(text) if _EventLoader is _LIBYAML else (False, None)
    if done:
        built = _build_composed_in_c(source, composed)
        if built is not None:
            return built
    return _build(source, _compose_events(text))


def _compose_events(text: str) -> Node | None:
    aliases: list[tuple[Node, Any]] = []
    try:
        root = _events_to_node(text, aliases)
    except yaml.MarkedYAMLError as exc:
        from orchestrator.plan.yaml_hints import explain  # here: only a plan with a YAML error needs it

        raise _Fail(*explain(text, exc)) from None
    except yaml.reader.ReaderError as exc:
        position = min(exc.position, len(text))
        line = text.count("\n", 0, position) + 1
        col = position - text.rfind("\n", 0, position)
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise _Fail(line, col, f"not a text file: control character 0x{char:02x} at line {line}") from None
    except yaml.YAMLError as exc:
        raise _Fail(1, 1, f"invalid YAML: {exc}") from None
    _check_aliases(aliases)
    return root


def load_yaml(shown: str, path: Path | None = None, text: str | None = None) -> tuple[Source, list[Problem]]:
    """Load one plan file. Returns its Source and every problem found while reading it.

    When the problems are fatal (no usable data) `source.data` is None. `text`: the file's text
    as a first load read it (`source.text`): a pipe cannot be read twice.
    """
    source = Source(shown=shown, path=Path(os.path.abspath(path if path is not None else shown)))
    try:
        source.text = text if text is not None else _read(source)
        builder, data = _load(source, source.text)
    except _Fail as fail:
        source.root = None
        return source, [Problem(Location(shown, fail.line, fail.col), fail.message)]
    if builder.fatal:  # a value we refused (tag, merge key): what follows would only be noise
        return source, builder.problems
    if data is None and not builder.problems:
        return source, [Problem(Location(shown, 1, 1), "empty plan")]
    if not isinstance(data, dict):
        if not builder.problems:
            builder.problems.append(Problem(source.at(()), "a plan must be a mapping of keys (version, "
                                                            f"name, cases, ...), got {_kind(data)}"))
        return source, builder.problems
    source.data = data
    return source, builder.problems


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text '{value[:40]}'"
    return f"'{value}'"
