"""Where the values of a loaded YAML file were written: `Source` keeps the composed document
and finds a value's place by walking it, only when asked (yaml_load builds the values)."""
from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Any, Union

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import Location
from orchestrator.records import mutable_record

PathKey = Union[str, int]
NodePath = tuple[PathKey, ...]

STD = "tag:yaml.org,2002:"
SCALAR_TAGS = {f"{STD}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
STR, SEQ, MAP = f"{STD}str", f"{STD}seq", f"{STD}map"


@mutable_record
class Source:
    """One loaded YAML file: its data and where every value and mapping key was written."""

    shown: str  # the path as the user wrote it (or relative to the cwd for included files)
    path: Path  # absolute
    data: Any = None
    # The composed document: a value's place is found by walking it along the value's path, only
    # when asked (at, key_at), as 20,000 cases have ~350,000 values and few problems. Only what
    # `data` was built from is reachable: a refused tag or key, or a repeated key, is not.
    root: Node | None = None
    text: str | None = field(default=None, repr=False)  # the file's text as read (for a second load)
    _index: dict[int, dict[str, tuple[Node, Node]]] = field(default_factory=dict, repr=False)
    _chain: list[tuple[Node | None, Node]] = field(default_factory=list, repr=False)  # the last walk
    _parts: NodePath = field(default=(), repr=False)  # the path of the last walk

    @property
    def directory(self) -> Path:
        return self.path.parent

    def at(self, path: NodePath) -> Location:
        """Where the value at `path` is (or its nearest existing ancestor)."""
        if self.root is None:
            return Location(self.shown, 1, 1)
        mark = self._walk(path)[-1][1].start_mark
        return Location(self.shown, mark.line + 1, mark.column + 1)

    def key_at(self, path: NodePath) -> Location:
        """Where the key naming the value at `path` is written."""
        if self.root is None or not path:
            return self.at(path)
        chain = self._walk(path)
        key = chain[-1][0]
        if len(chain) <= len(path) or key is None:  # not there, or a list item: it has no key
            return self.at(path)
        return Location(self.shown, key.start_mark.line + 1, key.start_mark.column + 1)

    def _walk(self, path: NodePath) -> list[tuple[Node | None, Node]]:
        """(key node or None, node) for the root and each part of `path` found, in order. Asked
        for the paths of one case after another, it starts where the last walk's path agrees."""
        chain = self._chain
        if not chain or chain[0][1] is not self.root:
            assert self.root is not None
            chain[:], self._parts = [(None, self.root)], ()
        parts = self._parts
        same = len(parts)
        if path[:same] != parts:  # the common case is a path that goes on from the last one
            same, limit = 0, min(same, len(path))
            while same < limit and parts[same] == path[same]:
                same += 1
            del chain[same + 1:]
        node = chain[-1][1]
        for part in path[same:]:
            found = self._child(node, part)
            if found is None:
                break
            chain.append(found)
            node = found[1]
            same += 1
        self._parts = path[:same]
        return chain

    def _child(self, node: Node, part: PathKey) -> tuple[Node | None, Node] | None:
        """(key node or None, value node) of `part` inside `node`, as the builder took it."""
        if node.__class__ is SequenceNode:
            if node.tag == SEQ and isinstance(part, int) and 0 <= part < len(node.value):
                return None, node.value[part]
            return None
        if node.__class__ is not MappingNode or node.tag != MAP or not isinstance(part, str):
            return None
        if len(node.value) <= 16:
            for key_node, value_node in node.value:  # usable_key's test, inlined: asked for every model object
                if key_node.value == part and key_node.__class__ is ScalarNode and key_node.tag in SCALAR_TAGS:
                    return key_node, value_node
            return None
        index = self._index.get(id(node))
        if index is None:
            index = self._index[id(node)] = {}
            for key_node, value_node in node.value:
                if usable_key(key_node) and key_node.value not in index:
                    index[key_node.value] = (key_node, value_node)
        return index.get(part)


def usable_key(key_node: Node) -> bool:
    """A key the builder takes (its first occurrence is the one it keeps)."""
    return key_node.__class__ is ScalarNode and key_node.tag in SCALAR_TAGS
