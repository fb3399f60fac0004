"""A JSON Schema compiled once into nested Python closures that answer one question: is this
value valid? Plans that are (nearly all of them) never import jsonschema, which costs ~40 ms to
import and ~1 ms per case to run; plans that are not go to jsonschema, which words the errors.

Only the keywords the plan schema uses are compiled (draft 2020-12 meanings). A schema with any
other keyword raises `Unsupported` at compile time, so a keyword added to the schema later can
never be silently ignored: the caller then validates with jsonschema alone. A test checks that
this checker and jsonschema agree on every shipped plan and fixture.
"""
from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

# Words that describe a value without constraining it.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default",
                          "deprecated", "readOnly", "writeOnly"})


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not know."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema means it: true is not 1, 1 is 1.0, containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return bool(a == b)


def _all_of(checks: list[Check]) -> Check:
    """One check that holds when all of `checks` hold (unrolled: a generator costs more than
    the checks themselves, and a plan calls these hundreds of thousands of times)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)
    first, rest = checks[0], _all_of(checks[1:])
    return lambda v: first(v) and rest(v)


class Compiler:
    """Compiles the schemas of one document; `$ref`s into it are compiled once and may recurse."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        found = [self._keyword(key, value, schema) for key, value in schema.items()
                 if key not in _ANNOTATIONS and not key.startswith("x-")]
        checks = [c for c in found if c is not None]
        if not checks:
            return lambda v: True
        return _all_of(checks)

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
        tests = [_TYPES[k] for k in ([kinds] if isinstance(kinds, str) else kinds)]
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(t(v) for t in tests)

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
        return lambda v: any(c(v) for c in checks)

    def _k_oneOf(self, branches: list[Any], schema: dict[str, Any]) -> Check:
        checks = [self.compile(b) for b in branches]
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
        pairs = list(needs.items())
        return lambda v: not isinstance(v, dict) or all(all(n in v for n in need) for key, need in pairs if key in v)

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
        return lambda v: not _TYPES["number"](v) or v >= low

    def _k_maximum(self, high: float, schema: dict[str, Any]) -> Check:
        return lambda v: not _TYPES["number"](v) or v <= high

    def _k_exclusiveMinimum(self, low: float, schema: dict[str, Any]) -> Check:
        return lambda v: not _TYPES["number"](v) or v > low

    def _k_exclusiveMaximum(self, high: float, schema: dict[str, Any]) -> Check:
        return lambda v: not _TYPES["number"](v) or v < high

    def _k_minLength(self, low: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= low

    def _k_maxLength(self, high: int, schema: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= high

    def _k_pattern(self, pattern: str, schema: dict[str, Any]) -> Check:
        search = re.compile(pattern).search
        return lambda v: not isinstance(v, str) or search(v) is not None


def compile_schema(schema: dict[str, Any]) -> Check:
    """`schema` (with its `$defs`) as one check; raises Unsupported for an unknown keyword."""
    return Compiler(schema).compile(schema)
