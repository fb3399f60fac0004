"""The cases most plans are made of, checked and built in one pass (plan/load.py): a case of
plain keys whose steps call a known provider with a prompt and plain assertions, whose
templates and expressions read only the plan's vars, built-ins, earlier steps' `as:` names and
the call's own fields. For such a case the semantic checks (plan/semantic.py) find nothing and
warn about nothing; what they do is note the `call` action, the names read and those bound.
Its CaseSpec is what case_model.case_spec builds, its places read off the composed nodes.

Everything else (vars, matrix, discover, other actions, `if:`, a name the checks would
question, an `as:` name a field hides...) is not "plain": `case` returns None and load.py
takes the general path for that case. The general path took ~25 us a plain case (keys as
Fields, the checker, Expanded, KnownValues, a walk of the document per located value); this
one ~8 us. `tests/unit/plan/test_case_fused.py` checks that both build the same plans.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from yaml.nodes import MappingNode, Node, ScalarNode

from orchestrator.errors import Location
from orchestrator.evaluation.templating import has_template
from orchestrator.plan import names
from orchestrator.plan.case_model import NO_VALUES, case_fields
from orchestrator.plan.model import ASSERTION_KINDS, AssertionSpec, CaseSpec, StepSpec
from orchestrator.plan.shadowing import field_names
from orchestrator.plan.names_read import expression_error, expression_names, template_names
from orchestrator.plan.semantic import Checker
from orchestrator.plan.step_args import CallArgs
from orchestrator.plan.yaml_source import SCALAR_TAGS, Source

# Case keys that no semantic check reads but `covers` (the schema judged their values;
# case_fields reads them).
_PLAIN_CASE_KEYS = frozenset({"id", "name", "steps", "description", "level", "priority", "tags", "covers", "skip",
                              "xfail", "xfail_strict", "timeout", "retries", "repeat", "concurrency", "serial",
                              "lock", "stop_on_failure"})
_PLAIN_STEP_KEYS = frozenset({"call", "prompt", "session", "expect", "name", "as"})
# `as:` names that the fields of a plain case's steps hide (shadowing warns about them).
_HIDDEN_BY_FIELDS = frozenset(field_names(frozenset({"call"})))
# Assertion kinds that no check reads beyond their value's templates (expr's expression is
# checked here; matches, json and equals_file have checks of their own); the typed ones
# (KnownValues) only untemplated.
_PLAIN_KINDS = frozenset(ASSERTION_KINDS) - {"matches", "json", "equals_file"}
_TYPED_KINDS = frozenset({"count", "exit_code", "max_ms"})
_PLAIN_VALUES = (int, float, bool, type(None))


class PlainCases:
    """Builds the plain cases of one valid plan file (no schema problem, no YAML problem: each
    built mapping and list has its nodes' items in the same order)."""

    def __init__(self, source: Source, checker: Checker, defaults: Mapping[str, Any]) -> None:
        self.shown = source.shown
        self.checker = checker
        self.providers = frozenset(checker.providers)
        self.scope = checker.plan_scope()  # what the first step's prompt may read
        self.expect_scope = frozenset(names.expect_scope("call", self.scope, None))
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
        self._default_fields = case_fields({})
        self._default_tail = _tail(self._default_fields)
        self._read: list[frozenset[str]] = []  # the names the templates of the case at hand read
        self._bound: list[str] = []  # the `as:` names of the case at hand

    def case(self, index: int, raw: Any) -> CaseSpec | None:
        """The CaseSpec of the case at `index` (its value `raw`), or None when it is not plain."""
        if raw.__class__ is not dict or index >= len(self.cases):
            return None
        keys = raw.keys()
        if not keys <= _PLAIN_CASE_KEYS or "id" not in keys or "name" not in keys:
            return None
        steps = raw.get("steps")
        if steps.__class__ is not list or not steps:
            return None
        self._read.clear()
        self._bound.clear()
        scope = self.scope
        for step in steps:
            later = self._plain_step(step, scope)
            if later is None:
                return None
            scope = later
        if self.defaults and not keys >= self.default_keys:
            raw = {**raw, **{k: v for k, v in self.defaults.items() if k not in keys}}
        covers = raw.get("covers")
        if covers is not None:
            defined = self.checker.coverable()
            if not all(key in defined for key in covers):
                return None
        try:  # what case_model.case_spec reads of the other keys (a value it refuses: the general path says so)
            fields = case_fields(raw)
        except Exception:  # noqa: BLE001 - the general path raises it again, where it did
            return None
        node = self.cases[index]
        steps_node = _value_node(node, "steps")
        if steps_node is None:
            return None
        for found in self._read:
            self.checker.read |= found
        self.checker.bound.update(self._bound)
        self.taken += 1
        name = raw["name"]
        case_id = str(raw["id"])
        shown = self.shown
        mark = node.start_mark
        step_nodes = steps_node.value
        built = tuple([self._step(step, step_nodes[i]) for i, step in enumerate(steps)])
        tail = self._default_tail if fields is self._default_fields else _tail(fields)
        return CaseSpec(case_id, str(name if name is not None else case_id),
                        Location(shown, mark.line + 1, mark.column + 1), built, *tail)

    def _plain_step(self, step: Any, scope: frozenset[str]) -> frozenset[str] | None:
        """The names later steps may read (`scope` and this step's `as:` name), or None when the
        step is not plain."""
        if step.__class__ is not dict or not step.keys() <= _PLAIN_STEP_KEYS:
            return None
        provider = step.get("call")
        if provider.__class__ is not str or provider not in self.providers:
            return None
        for key in ("prompt", "session"):
            value = step.get(key)
            if isinstance(value, str):
                if has_template(value) and not self._reads_known(template_names(value), scope):
                    return None
            elif value.__class__ not in (int, float) and value is not None:
                return None
        expect = step.get("expect", ())
        if expect.__class__ is not list and "expect" in step:
            return None
        as_name = step.get("as")
        if as_name is None and "as" not in step:
            own = self.expect_scope if scope is self.scope else frozenset(names.expect_scope("call", scope, None))
        elif as_name.__class__ is str and as_name not in _HIDDEN_BY_FIELDS:  # or a warning says it is hidden
            own = frozenset(names.expect_scope("call", scope, as_name))
            self._bound.append(as_name)
            scope = scope | {as_name}
        else:
            return None
        return scope if self._plain_expect(expect, own) else None

    def _plain_expect(self, expect: Any, scope: frozenset[str]) -> bool:
        for spec in expect:
            if spec.__class__ is not dict or len(spec) != 1:
                return False
            kind, value = next(iter(spec.items()))
            if kind not in _PLAIN_KINDS:
                return False
            if kind == "expr":
                if value.__class__ is not str or expression_error(value) is not None \
                        or not self._reads_known(expression_names(value), scope):
                    return False
            elif isinstance(value, str):
                if has_template(value) and (kind in _TYPED_KINDS
                                            or not self._reads_known(template_names(value), scope)):
                    return False
            elif not isinstance(value, _PLAIN_VALUES):
                return False
        return True

    def _reads_known(self, found: frozenset[str] | str, scope: frozenset[str]) -> bool:
        """True when a template (or expression) compiles and reads only names in `scope`."""
        if isinstance(found, str) or not found <= scope:
            return False
        self._read.append(found)
        return True

    def _step(self, raw: dict[str, Any], node: Node) -> StepSpec:
        shown = self.shown
        expect = raw.get("expect")
        if expect:
            expect_nodes = _value_node(node, "expect").value  # type: ignore[union-attr]
            assertions = []
            for i, spec in enumerate(expect):
                mark = expect_nodes[i].start_mark
                for kind, value in spec.items():
                    assertions.append(AssertionSpec(kind, value, Location(shown, mark.line + 1, mark.column + 1),
                                                    None, None))
            expected = tuple(assertions)
        else:
            expected = ()
        if "session" in raw:
            args = CallArgs(raw["call"], raw.get("prompt", ""), session=raw["session"])
        else:
            args = CallArgs(raw["call"], raw["prompt"]) if "prompt" in raw else CallArgs(raw["call"])
        mark = node.start_mark
        return StepSpec("call", args, Location(shown, mark.line + 1, mark.column + 1), raw.get("name"),
                        raw.get("as"), expected)


# CaseSpec's fields after id, name, location and steps, in order: case_fields gives all but these.
_TAIL = tuple(f.name for f in dataclasses.fields(CaseSpec))[4:]
_FIXED = {"vars": NO_VALUES, "matrix": NO_VALUES, "discovered": None}


def _tail(fields: Mapping[str, Any]) -> tuple[Any, ...]:
    """The CaseSpec arguments after id, name, location and steps, by position (a plain case has
    no vars, no matrix values and was not discovered)."""
    return tuple(fields[name] if name in fields else _FIXED[name] for name in _TAIL)


def _value_node(node: Node, key: str) -> Node | None:
    """The value node of `key` in a mapping node, as Source.at finds it (the first usable key)."""
    if node.__class__ is not MappingNode:
        return None
    for key_node, value_node in node.value:
        if key_node.value == key and key_node.__class__ is ScalarNode and key_node.tag in SCALAR_TAGS:
            return value_node
    return None
