"""A JSON Schema compiled once into nested Python closures that answer one question: is this
value valid? Plans that are (nearly all of them) never import jsonschema, which costs ~40 ms to
import and ~1 ms per case to run; plans that are not go to jsonschema, which words the errors.

Only the keywords the plan schema uses are compiled (draft 2020-12 meanings). A schema with any
other keyword raises `Unsupported` at compile time (or, compiled lazily, when the check first
meets it), so a keyword added to the schema later can never be silently ignored: the caller
then validates with jsonschema alone. A test checks that this checker and jsonschema agree on
every shipped plan and fixture. The keywords of one kind of value are checked together
(schema_fused).
"""
from __future__ import annotations

import re
from typing import Any

from orchestrator.plan.schema_fused import LIST_KEYWORDS, OBJECT_KEYWORDS, STRING_KEYWORDS, TYPES, Check, all_of, \
    is_integer, json_equal, list_check, mapping_check, plain_types, string_check

# Words that describe a value without constraining it.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default",
                          "deprecated", "readOnly", "writeOnly"})


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not know."""


class Compiler:
    """Compiles the schemas of one document; `$ref`s into it are compiled once and may recurse."""

    def __init__(self, root: dict[str, Any], *, lazy: bool = False) -> None:
        self.root = root
        self.lazy = lazy  # a mapping's property schemas compiled when first needed (see compile_schema)
        self._refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        keys = [key for key in schema if key not in _ANNOTATIONS and not key.startswith("x-")]
        checks: list[Check] = []
        # The keywords of one kind of value checked together: a mapping's in one pass over its keys.
        for kind, words in (("object", OBJECT_KEYWORDS), ("array", LIST_KEYWORDS), ("string", STRING_KEYWORDS)):
            if words.intersection(keys) and "patternProperties" not in schema and "prefixItems" not in schema:
                keys = [key for key in keys if key not in words and not (key == "type" and schema[key] == kind)]
                checks.append(self._fused(kind, schema))
        found = [self._keyword(key, schema[key], schema) for key in keys]
        checks.extend(c for c in found if c is not None)
        if not checks:
            return lambda v: True
        return all_of(checks)

    def _fused(self, kind: str, schema: dict[str, Any]) -> Check:
        if kind == "object":
            others = ("dependentRequired", "propertyNames", "minProperties", "maxProperties")
            rest = [c for c in (self._keyword(key, schema[key], schema) for key in others if key in schema)
                    if c is not None]
            return mapping_check(schema, self.compile, self.lazy, all_of(rest) if rest else None)
        if kind == "array":
            return list_check(schema, self.compile, self._k_uniqueItems(schema.get("uniqueItems", False), schema))
        return string_check(schema)

    def _ref(self, ref: str) -> Check:
        refs = self._refs
        if ref not in refs:
            if not ref.startswith("#/"):
                raise Unsupported(f"$ref {ref}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            refs[ref] = lambda v: False  # a recursive $ref met while compiling; replaced below
            refs[ref] = self.compile(target)
        return lambda v: refs[ref](v)

    def _keyword(self, key: str, value: Any, schema: dict[str, Any]) -> Check | None:
        method = getattr(self, "_k_" + key.replace("$", "dollar_"), None)
        if method is None:
            raise Unsupported(key)
        result: Check | None = method(value, schema)
        return result

    # -- any value -----------------------------------------------------------------------------
    def _k_dollar_ref(self, ref: str, schema: dict[str, Any]) -> Check:
        return self._ref(ref)

    def _k_type(self, kinds: Any, schema: dict[str, Any]) -> Check:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        if len(names) == 1:
            return TYPES[names[0]]
        plain = plain_types(names)
        if "number" in names and "boolean" in names:
            plain = plain + (int, float)  # bool is an int: all of them are allowed
        elif "number" in names:
            return lambda v: isinstance(v, plain) or (isinstance(v, (int, float)) and not isinstance(v, bool))
        if "integer" in names:
            return lambda v: isinstance(v, plain) or is_integer(v)
        return lambda v: isinstance(v, plain)

    def _k_enum(self, options: list[Any], schema: dict[str, Any]) -> Check:
        hashable = all(isinstance(o, str) for o in options)
        if hashable:
            members = frozenset(options)
            return lambda v: isinstance(v, str) and v in members
        return lambda v: any(json_equal(v, o) for o in options)

    def _k_const(self, const: Any, schema: dict[str, Any]) -> Check:
        return lambda v: json_equal(v, const)

    def _k_anyOf(self, branches: list[Any], schema: dict[str, Any]) -> Check:
        checks = [self.compile(b) for b in branches]
        if len(checks) == 2:
            a, b = checks
            return lambda v: a(v) or b(v)
        return lambda v: any(c(v) for c in checks)

    def _k_oneOf(self, branches: list[Any], schema: dict[str, Any]) -> Check:
        checks = [self.compile(b) for b in branches]
        if len(checks) == 2:
            a, b = checks
            return lambda v: bool(a(v)) != bool(b(v))
        return lambda v: sum(1 for c in checks if c(v)) == 1

    def _k_allOf(self, branches: list[Any], schema: dict[str, Any]) -> Check:
        checks = [self.compile(b) for b in branches]
        return lambda v: all(c(v) for c in checks)

    def _k_not(self, inner: Any, schema: dict[str, Any]) -> Check:
        check = self.compile(inner)
        return lambda v: not check(v)

    # -- mappings ------------------------------------------------------------------------------
    def _k_properties(self, props: dict[str, Any], schema: dict[str, Any]) -> Check:
        checks = {name: self.compile(sub) for name, sub in props.items()}

        def properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                check = checks.get(name)
                if check is not None and not check(value):
                    return False
            return True
        return properties

    def _k_additionalProperties(self, extra: Any, schema: dict[str, Any]) -> Check:
        known = frozenset(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        check = self.compile(extra)

        def additional(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                if name in known or any(p.search(name) for p in patterns):
                    continue
                if not check(value):
                    return False
            return True
        return additional

    def _k_patternProperties(self, props: dict[str, Any], schema: dict[str, Any]) -> Check:
        checks = [(re.compile(p), self.compile(sub)) for p, sub in props.items()]

        def pattern_properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            return all(check(value) for name, value in v.items() for p, check in checks if p.search(name))
        return pattern_properties

    def _k_required(self, names: list[str], schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)

    def _k_dependentRequired(self, needs: dict[str, list[str]], schema: dict[str, Any]) -> Check:
        pairs = [(key, tuple(need)) for key, need in needs.items()]

        def dependent_required(v: Any) -> bool:
            if isinstance(v, dict):
                for key, need in pairs:
                    if key in v:
                        for name in need:
                            if name not in v:
                                return False
            return True
        return dependent_required

    def _k_propertyNames(self, inner: Any, schema: dict[str, Any]) -> Check:
        check = self.compile(inner)
        return lambda v: not isinstance(v, dict) or all(check(name) for name in v)

    def _k_minProperties(self, low: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, dict) or len(v) >= low

    def _k_maxProperties(self, high: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, dict) or len(v) <= high

    # -- lists ---------------------------------------------------------------------------------
    def _k_items(self, inner: Any, schema: dict[str, Any]) -> Check:
        if "prefixItems" in schema:
            raise Unsupported("items with prefixItems")
        check = self.compile(inner)

        def items(v: Any) -> bool:
            if isinstance(v, list):
                for item in v:
                    if not check(item):
                        return False
            return True
        return items

    def _k_minItems(self, low: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= low

    def _k_maxItems(self, high: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, list) or len(v) <= high

    def _k_uniqueItems(self, unique: bool, schema: dict[str, Any]) -> Check | None:
        if not unique:
            return None
        return lambda v: not isinstance(v, list) or all(
            not json_equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))

    # -- numbers and strings -------------------------------------------------------------------
    def _k_minimum(self, low: float, schema: dict[str, Any]) -> Check:
        return lambda v: not TYPES["number"](v) or v >= low

    def _k_maximum(self, high: float, schema: dict[str, Any]) -> Check:
        return lambda v: not TYPES["number"](v) or v <= high

    def _k_exclusiveMinimum(self, low: float, schema: dict[str, Any]) -> Check:
        return lambda v: not TYPES["number"](v) or v > low

    def _k_exclusiveMaximum(self, high: float, schema: dict[str, Any]) -> Check:
        return lambda v: not TYPES["number"](v) or v < high

    def _k_minLength(self, low: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= low

    def _k_maxLength(self, high: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= high

    def _k_pattern(self, pattern: str, schema: dict[str, Any]) -> Check:
        search = re.compile(pattern).search
        return lambda v: not isinstance(v, str) or search(v) is not None


def compile_schema(schema: dict[str, Any], *, lazy: bool = False) -> Check:
    """`schema` (with its `$defs`) as one check; raises Unsupported for an unknown keyword.

    `lazy`: a mapping's property schemas are compiled when a value first has the property (a
    plan uses a few of the schema's ~400 subschemas: compiling them all was ~1.5 ms of every
    load); the check itself may then raise Unsupported."""
    return Compiler(schema, lazy=lazy).compile(schema)
