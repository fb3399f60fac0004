"""Plain Python values built from a composed YAML document (yaml_load composes it): no
constructor ever runs user-chosen code. A refused value (a tag, a merge key, a duplicate key)
is a Problem where it is written; nesting too deep or an alias inside what it names is a Fail.
"""
from __future__ import annotations

import sys
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import Location, Problem
from orchestrator.plan.yaml_source import MAP, SCALAR_TAGS, SEQ, STD, STR, Source, usable_key

MAX_DEPTH = 100

# Keys repeat in every case ("id", "steps", "call"...): one string each, not one per occurrence.
_intern = sys.intern


class Fail(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message



def _tag_shown(tag: str) -> str:
    return "!!" + tag[len(STD):] if tag.startswith(STD) else tag


class Builder:
    def __init__(self, source: Source, aliased: bool = True) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.constructor = SafeConstructor()
        # Without aliases the document is a tree: no value can contain itself, and nothing is
        # kept to find one (libyaml composes only documents without aliases, yaml_c).
        self.aliased = aliased
        self.active: set[int] = set()
        self.fatal = False
        # What `_compose_in_c` needs to know that the event composer would have agreed: how deep
        # the collections built went, and whether a part of the document was not built.
        self.deepest = 0
        self.skipped = False
        self.strings: dict[str, str] = {}

    def loc(self, node: Node) -> Location:
        return Location(self.source.shown, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Fail(*self._line_col(node), f"nesting deeper than {MAX_DEPTH} levels")
        if node.__class__ is ScalarNode:
            if node.tag == STR:  # a value written many times (a provider, a tag) is one string
                return self.strings.setdefault(node.value, node.value)
            return self.scalar(node)
        if depth > self.deepest:
            self.deepest = depth
        if not self.aliased:
            if isinstance(node, SequenceNode) and node.tag == SEQ:
                return self.sequence(node, depth)
            if isinstance(node, MappingNode) and node.tag == MAP:
                return self.mapping(node, depth)
        else:
            if id(node) in self.active:
                raise Fail(*self._line_col(node), "an alias refers to the value that contains it")
            self.active.add(id(node))
            try:
                if isinstance(node, SequenceNode) and node.tag == SEQ:
                    return self.sequence(node, depth)
                if isinstance(node, MappingNode) and node.tag == MAP:
                    return self.mapping(node, depth)
            finally:
                self.active.discard(id(node))
        self.skipped = True
        self.problems.append(Problem(self.loc(node), self._bad_tag(node.tag)))
        return None

    @staticmethod
    def _line_col(node: Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _bad_tag(self, tag: str) -> str:
        self.fatal = True
        return f"tag '{_tag_shown(tag)}' is not allowed (plans are data)"

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag not in SCALAR_TAGS:
            self.problems.append(Problem(self.loc(node), self._bad_tag(node.tag)))
            return None
        if node.tag in (f"{STD}str", f"{STD}timestamp"):
            return str(node.value)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self.problems.append(Problem(self.loc(node), f"invalid {_tag_shown(node.tag)} value "
                                                         f"'{node.value}': {exc}"))
            return None
        except KeyError:  # PyYAML's !!bool of a word it has no value for: it looks the word up
            self.problems.append(Problem(self.loc(node), f"invalid {_tag_shown(node.tag)} value "
                                                         f"'{node.value}': write true or false"))
            return None

    def sequence(self, node: SequenceNode, depth: int) -> list[Any]:
        items: list[Any] = []
        deeper = depth + 1
        strings = self.strings
        for item in node.value:
            if item.__class__ is ScalarNode and item.tag == STR and deeper <= MAX_DEPTH:
                items.append(strings.setdefault(item.value, item.value))  # build's, inlined
            else:
                items.append(self.build(item, deeper))
        return items

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        deeper = depth + 1
        strings = self.strings
        for key_node, value_node in node.value:
            if key_node.__class__ is ScalarNode and key_node.tag == STR:
                key = _intern(key_node.value)  # as written: `on:` and `yes:` stay strings
            elif key_node.tag == f"{STD}merge":
                self.fatal = self.skipped = True
                self.problems.append(Problem(self.loc(key_node), "merge keys ('<<') are not supported: write "
                                             "the keys out, or use 'defaults:' for shared case keys"))
                continue
            elif not isinstance(key_node, ScalarNode):
                self.fatal = self.skipped = True
                from orchestrator.plan.yaml_hints import unquoted_template  # here: only a broken plan needs it

                template = unquoted_template(node)
                self.problems.append(Problem(self.loc(node), template) if template
                                     else Problem(self.loc(key_node), "mapping keys must be plain strings"))
                continue
            elif key_node.tag not in SCALAR_TAGS:
                self.skipped = True
                self.problems.append(Problem(self.loc(key_node), self._bad_tag(key_node.tag)))
                continue
            else:
                key = _intern(str(key_node.value))
            if key in result:
                self.skipped = True
                self.problems.append(Problem(self.loc(key_node),
                                             f"duplicate key '{key}' (first at line {_first_line(node, key)})"))
                continue
            if value_node.__class__ is ScalarNode and value_node.tag == STR and deeper <= MAX_DEPTH:
                result[key] = strings.setdefault(value_node.value, value_node.value)  # build's, inlined
            else:
                result[key] = self.build(value_node, deeper)
        return result


def _first_line(node: MappingNode, key: str) -> int:
    """The line of the occurrence of `key` that the builder took: its first usable one."""
    line: int = next(k.start_mark.line + 1 for k, _ in node.value if usable_key(k) and str(k.value) == key)
    return line
