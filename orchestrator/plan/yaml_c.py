"""Composing with libyaml where that cannot change what a plan author sees (yaml_load decides,
and composes parser events itself for everything else)."""
from __future__ import annotations

import operator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_CLoader: Any = getattr(yaml, "CSafeLoader", None)

_LONGEST_LINE_IN_C = 1000  # block nesting is at most ~2 levels per column: libyaml recurses safely


def compose_in_c(text: str) -> tuple[bool, Node | None]:
    """(True, the document) composed by libyaml (~2x faster than composing its events here), for the
    plans where that cannot differ from yaml_load's event composer: no alias (so no alias to count or
    report), lines short enough that libyaml's recursive composer cannot overflow the C stack
    on hostile nesting (it crashes at ~100,000 levels), one document, no YAML error. Anything
    else returns (False, None), and the event composer gives the established result and messages.
    A document nested too deep is found while it is built (yaml_load, `too_deep`)."""
    if FAST_LOADER is None or "*" in text:
        return False, None
    if max(map(len, text.splitlines()), default=0) > _LONGEST_LINE_IN_C:
        return False, None
    try:
        root = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return False, None
    return True, root


def _fast_c_loader() -> Any:
    """libyaml's loader with PyYAML's implicit tag resolution done in one step: it is called for
    every value, and resolving paths (which a safe loader never has) cost as much again."""
    if _CLoader is None:
        return None
    resolvers = _CLoader.yaml_implicit_resolvers
    assert not _CLoader.yaml_path_resolvers
    wildcard = resolvers.get(None, [])
    by_first = {first: tuple(found + wildcard) for first, found in resolvers.items() if first is not None}
    none = tuple(wildcard)
    scalar, sequence, mapping = (_CLoader.DEFAULT_SCALAR_TAG, _CLoader.DEFAULT_SEQUENCE_TAG,
                                 _CLoader.DEFAULT_MAPPING_TAG)

    class FastCLoader(_CLoader):  # type: ignore[misc]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, regexp in by_first.get(value[:1], none):
                        if regexp.match(value):
                            return tag
                return scalar
            return sequence if kind is SequenceNode else mapping

        # libyaml calls these two around every node (a safe loader has no path resolvers to
        # track): builtins that take the same arguments and do nothing are called faster than
        # Python methods (~0.5 ms of a 1,000-case plan).
        descend_resolver = operator.is_  # (parent node, index) -> a bool nobody reads
        ascend_resolver = tuple  # () -> an empty tuple nobody reads

    return FastCLoader


FAST_LOADER: Any = _fast_c_loader()


def too_deep(root: Node, limit: int) -> bool:
    """A collection inside `limit` others: what yaml_load's event composer refuses."""
    level = [root] if not isinstance(root, ScalarNode) else []  # the collections `depth` deep
    depth = 0
    while level:
        if depth >= limit:
            return True
        deeper: list[Node] = []
        for node in level:
            if isinstance(node, MappingNode):
                deeper.extend(part for pair in node.value for part in pair if part.__class__ is not ScalarNode)
            else:
                deeper.extend(item for item in node.value if item.__class__ is not ScalarNode)
        level, depth = deeper, depth + 1
    return False
