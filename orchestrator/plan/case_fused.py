"""The cases most plans are made of, checked and built in one pass (plan/load.py): a case of
plain keys whose steps are calls of a known provider with a prompt and plain assertions, none
of it templated. For such a case the semantic checks (plan/semantic.py) find nothing, warn
about nothing and note no name; what they would do is noting the `call` action. Its CaseSpec
is what case_model.case_spec builds, its places read off the composed nodes directly.

Everything else (vars, matrix, discover, templates, other actions, `as:`, `if:`...) is not
"plain": `case` returns None and load.py takes the general path for that case. The general
path took ~25 us a plain case (keys as Fields, the checker, Expanded, KnownValues, a walk of
the document per located value); this one ~6 us. `tests/unit/plan/test_case_fused.py` checks
that both build the same plans.
"""
from __future__ import annotations

from typing import Any, Collection, Mapping

from yaml.nodes import MappingNode, Node, ScalarNode

from orchestrator.errors import Location
from orchestrator.evaluation.templating import has_template
from orchestrator.plan.case_model import NO_VALUES, case_fields
from orchestrator.plan.model import ASSERTION_KINDS, AssertionSpec, CaseSpec, StepSpec
from orchestrator.plan.step_args import CallArgs
from orchestrator.plan.yaml_source import SCALAR_TAGS, Source

# Case keys that no semantic check reads (the schema judged their values; case_fields reads them).
_PLAIN_CASE_KEYS = frozenset({"id", "name", "steps", "description", "level", "priority", "tags", "skip", "xfail",
                              "xfail_strict", "timeout", "retries", "repeat", "concurrency", "serial", "lock",
                              "stop_on_failure"})
_PLAIN_STEP_KEYS = frozenset({"call", "prompt", "expect", "name"})
# Assertion kinds that no check reads beyond their value's templates (expr, matches, json and
# equals_file have checks of their own).
_PLAIN_KINDS = frozenset(ASSERTION_KINDS) - {"expr", "matches", "json", "equals_file"}
_PLAIN_VALUES = (int, float, bool, type(None))


class PlainCases:
    """Builds the plain cases of one valid plan file (no schema problem, no YAML problem: each
    built mapping and list has its nodes' items in the same order)."""

    def __init__(self, source: Source, providers: Collection[str], defaults: Mapping[str, Any]) -> None:
        self.shown = source.shown
        self.providers = frozenset(providers)
        # what case_keys adds to a case that lacks the key (never id or discover)
        self.defaults = {k: v for k, v in defaults.items() if k not in ("id", "discover")}
        self.default_keys = frozenset(self.defaults)
        self.cases: list[Node] = []  # none: no case is plain
        root = source.root
        if root is not None and root.__class__ is MappingNode and self.default_keys <= _PLAIN_CASE_KEYS:
            found = _value_node(root, "cases")
            if found is not None and isinstance(found.value, list):
                self.cases = found.value
        self.taken = 0  # how many cases were built here

    def case(self, index: int, raw: Any) -> CaseSpec | None:
        """The CaseSpec of the case at `index` (its value `raw`), or None when it is not plain."""
        if raw.__class__ is not dict or index >= len(self.cases):
            return None
        keys = raw.keys()
        if not keys <= _PLAIN_CASE_KEYS or "id" not in keys or "name" not in keys:
            return None
        steps = raw.get("steps")
        if steps.__class__ is not list or not steps or not all(map(self._plain_step, steps)):
            return None
        if self.defaults and not keys >= self.default_keys:
            raw = {**raw, **{k: v for k, v in self.defaults.items() if k not in keys}}
        try:  # what case_model.case_spec reads of the other keys (a value it refuses: the general path says so)
            fields = case_fields(raw)
        except Exception:  # noqa: BLE001 - the general path raises it again, where it did
            return None
        node = self.cases[index]
        steps_node = _value_node(node, "steps")
        if steps_node is None:
            return None
        name = raw["name"]
        case_id = str(raw["id"])
        self.taken += 1
        return CaseSpec(
            id=case_id, name=str(name if name is not None else case_id), location=self._at(node),
            steps=tuple(self._step(step, steps_node.value[i]) for i, step in enumerate(steps)),
            vars=NO_VALUES, matrix=NO_VALUES, discovered=None, **fields)

    def _plain_step(self, step: Any) -> bool:
        if step.__class__ is not dict or not step.keys() <= _PLAIN_STEP_KEYS:
            return False
        provider = step.get("call")
        if provider.__class__ is not str or provider not in self.providers:
            return False
        prompt = step.get("prompt")
        if isinstance(prompt, str) and has_template(prompt) or not isinstance(prompt, (str, int, float)) \
                and prompt is not None:
            return False
        for spec in step.get("expect") or ():
            if spec.__class__ is not dict or len(spec) != 1:
                return False
            kind, value = next(iter(spec.items()))
            if kind not in _PLAIN_KINDS:
                return False
            if not (isinstance(value, str) and not has_template(value) or isinstance(value, _PLAIN_VALUES)):
                return False
        return "expect" not in step or step["expect"].__class__ is list

    def _step(self, raw: dict[str, Any], node: Node) -> StepSpec:
        expect = raw.get("expect")
        if expect:
            expect_nodes = _value_node(node, "expect").value  # type: ignore[union-attr]
            assertions = tuple(AssertionSpec(kind, value, self._at(expect_nodes[i]), None, None)
                               for i, spec in enumerate(expect) for kind, value in spec.items())
        else:
            assertions = ()
        args = CallArgs(raw["call"], raw["prompt"]) if "prompt" in raw else CallArgs(raw["call"])
        return StepSpec("call", args, self._at(node), raw.get("name"), None, assertions)

    def _at(self, node: Node) -> Location:
        mark = node.start_mark
        return Location(self.shown, mark.line + 1, mark.column + 1)


def _value_node(node: Node, key: str) -> Node | None:
    """The value node of `key` in a mapping node, as Source.at finds it (the first usable key)."""
    if node.__class__ is not MappingNode:
        return None
    for key_node, value_node in node.value:
        if key_node.value == key and key_node.__class__ is ScalarNode and key_node.tag in SCALAR_TAGS:
            return value_node
    return None
