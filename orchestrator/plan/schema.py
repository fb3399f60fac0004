"""The JSON Schema of the plan format, and its errors turned into messages a person can act on."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from orchestrator.errors import Problem
from orchestrator.plan.model import ASSERTION_KINDS, STEP_ACTIONS
from orchestrator.plan.promptfoo_types import refusal
from orchestrator.plan.suggest import did_you_mean
from orchestrator.plan.units import parse_duration, parse_size
from orchestrator.plan.yaml_load import NodePath, Source
from orchestrator.plan.schema_fast import Unsupported, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

PathProblem = tuple[NodePath, Problem]


@lru_cache(maxsize=1)
def plan_schema() -> dict[str, Any]:
    """The plan-v1 JSON Schema shipped in the package (cached; do not mutate)."""
    from orchestrator.vocabulary import plan_schema_document  # the one reader of the file

    return plan_schema_document()


@lru_cache(maxsize=1)
def _checked_schema() -> dict[str, Any]:
    """The schema without the one-action / one-kind rules of steps and assertions.

    jsonschema evaluates every oneOf branch of every step and assertion, which made a 100-case
    plan take a few hundred ms; `_exclusive` checks the same rule by walking the data instead.
    """
    original = plan_schema()
    defs = dict(original["$defs"])  # copied where changed: plan_schema() stays as shipped
    for name in ("step", "assertion"):
        defs[name] = {k: v for k, v in defs[name].items() if k != "oneOf"}
    return _inline({**original, "$defs": defs}, defs)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    """jsonschema, for the plans the fast check found invalid: it words their errors."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_checked_schema())


@lru_cache(maxsize=2)
def _fast_check(included: bool) -> Callable[[Any], bool] | None:
    """The schema compiled once (schema_fast); None when it uses a keyword that compiler lacks."""
    schema = _checked_schema()
    if included:  # included files may omit version, name and cases
        schema = {k: v for k, v in schema.items() if k != "required"}
    try:
        return compile_schema(schema, lazy=True)
    except Unsupported:
        return None


def _fast_valid(data: Any, included: bool) -> bool:
    """True when the compiled check finds `data` valid; False when it is not, or cannot say."""
    fast = _fast_check(included)
    try:
        return fast is not None and fast(data)
    except Unsupported:  # a keyword met in a lazily compiled part: jsonschema decides
        return False


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Replace $refs (except the recursive one to `step`) by their target: lookups cost time."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref != "#/$defs/step":
        target = _inline(defs[ref[len("#/$defs/"):]], defs)
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return {k: (v if k == "$defs" else _inline(v, defs)) for k, v in node.items()}


def validate(source: Source, *, included: bool = False) -> list[PathProblem]:
    """Every schema violation in `source` as (path of the bad node, Problem)."""
    found: dict[Problem, NodePath] = {}
    schema_errors = [] if _fast_valid(source.data, included) else _validator().iter_errors(source.data)
    for error in schema_errors:
        if included and error.validator == "required" and not error.absolute_path:
            continue  # included files may omit version, name and cases
        for path, problem in _convert(error, source):
            found.setdefault(problem, path)
    for path, problem in _exclusive(source):
        found.setdefault(problem, path)
    return [(path, problem) for problem, path in found.items()]


def _exclusive(source: Source) -> list[PathProblem]:
    """Steps with no or several actions, assertions with no or several kinds."""
    out: list[PathProblem] = []
    data = source.data
    if isinstance(data.get("defaults"), dict):
        _exclusive_steps(data["defaults"].get("steps"), ("defaults", "steps"), source, out)
    for i, case in enumerate(data.get("cases") if isinstance(data.get("cases"), list) else ()):
        if isinstance(case, dict):
            _exclusive_steps(case.get("steps"), ("cases", i, "steps"), source, out)
    return out


def _exclusive_steps(items: Any, path: NodePath, source: Source, out: list[PathProblem]) -> None:
    # A function of the module, not a closure calling itself: that is a reference cycle, which
    # kept the whole file (its values and YAML nodes) alive until the collector ran.
    for i, step in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(step, dict):
            continue
        if len(step.keys() & _ACTIONS) != 1:  # exactly one: `_pick` has nothing to say
            out.extend(_pick(step, plan_schema()["$defs"]["step"], "a step", source, path + (i,), STEP_ACTIONS))
        if "parallel" in step:
            _exclusive_steps(step["parallel"], path + (i, "parallel"), source, out)
        expect = step.get("expect")
        for j, spec in enumerate(expect if isinstance(expect, list) else ()):
            if isinstance(spec, dict) and len(spec.keys() & _KINDS) != 1:
                out.extend(_pick(spec, plan_schema()["$defs"]["assertion"], "an assertion", source,
                                 path + (i, "expect", j), ASSERTION_KINDS + ("type",)))


_ACTIONS = frozenset(STEP_ACTIONS)
_KINDS = frozenset(ASSERTION_KINDS + ("type",))


def _convert(error: ValidationError, source: Source) -> list[PathProblem]:
    path: NodePath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = schema.get("x-kind")
    rule = error.validator
    if rule in ("oneOf", "type") and kind in _DIAGNOSE:
        return _DIAGNOSE[kind](error, source, path)
    if kind == "promptfoo-type":
        return _promptfoo_type(error, source, path)
    if rule == "dependentRequired":
        if kind == "provider" and not {"python", "http"} & set(error.instance):
            return []  # "provider needs 'python: FILE' or 'http: URL'" says it
        return [(path + (k,), Problem(source.key_at(path + (k,)), f"'{k}' only goes with '{needs[0]}'"))
                for k, needs in error.validator_value.items() if k in error.instance and needs[0] not in error.instance]
    if rule == "additionalProperties":
        return _unknown_keys(error, source, path)
    if rule == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return [(path + (k,), Problem(source.at(path), f"missing required key '{k}'")) for k in missing]
    if rule == "propertyNames":
        name = str(error.instance)
        return [(path + (name,), Problem(source.key_at(path + (name,)),
                                         f"invalid name '{name}': use letters, digits, '_', '.', '-'"))]
    if rule in ("anyOf", "oneOf") and kind is None and "x-expect" not in schema:
        inner = _branch_errors(error)
        if inner:  # e.g. a list where a list is allowed, but an item of it is wrong: say which
            return [pp for sub in inner for pp in _convert(sub, source)]
    message = _message(error, schema, kind, path)
    return [(path, Problem(source.at(path), message))]


_JSON_TYPES = {"string": str, "array": list, "object": dict, "boolean": bool}


def _branch_errors(error: ValidationError) -> list[ValidationError]:
    """The errors of the one anyOf/oneOf branch whose type the value has, if exactly one has it."""
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    matching = [i for i, branch in enumerate(branches) if isinstance(branch, dict)
                and any(isinstance(error.instance, _JSON_TYPES[t]) for t in _types(branch) if t in _JSON_TYPES)]
    if len(matching) != 1:
        return []
    return [sub for sub in error.context or () if sub.relative_schema_path and sub.relative_schema_path[0] == matching[0]]


def _message(error: ValidationError, schema: dict[str, Any], kind: Any, path: NodePath) -> str:
    if kind in ("duration", "size"):
        try:
            (parse_duration if kind == "duration" else parse_size)(error.instance)
        except ValueError as exc:
            return str(exc)
    if error.validator in ("minItems", "minProperties") and error.validator_value == 1:
        return f"{_field(path)} must not be empty"
    if error.validator == "minItems":
        return f"{_field(path)} must have at least {error.validator_value} items"
    hint = ""
    if "enum" in schema:
        hint = did_you_mean(str(error.instance), [str(v) for v in schema["enum"]])
    elif error.validator == "type" and "array" in _types(schema) and isinstance(error.instance, dict):
        hint = " (write each item on its own line starting with '- ')"
    elif error.validator == "pattern" and "x-expect" not in schema:
        return f"{_field(path)} must match the pattern {schema.get('pattern')}, got {shown(error.instance)}"
    if error.validator == "type" and "string" in _types(schema) and isinstance(error.instance, (bool, int, float)):
        hint = f" (YAML read it as a {'boolean' if isinstance(error.instance, bool) else 'number'}: quote it)"
    return f"{_field(path)} must be {describe(schema)}, got {shown(error.instance)}{hint}"


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _unknown_keys(error: ValidationError, source: Source, path: NodePath) -> list[PathProblem]:
    allowed = list(error.schema.get("properties", {}))
    title = error.schema.get("title", "mapping")
    out: list[PathProblem] = []
    for key in error.instance:
        if key in allowed:
            continue
        if title == "assertion":
            message = f"unknown assertion '{key}'{did_you_mean(key, ASSERTION_KINDS)}"
        else:
            hint = did_you_mean(key, allowed) or (f" (expected {', '.join(allowed)})" if len(allowed) <= 6 else "")
            message = f"unknown key '{key}' in {title}{hint}"
        out.append((path + (key,), Problem(source.key_at(path + (key,)), message)))
    return out


def _one(source: Source, path: NodePath, message: str, at: NodePath | None = None) -> list[PathProblem]:
    return [(path, Problem(source.key_at(at) if at is not None else source.at(path), message))]


def _misspelt(instance: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True when `instance` has unknown keys: those are reported already, and say it better."""
    return any(key not in schema.get("properties", {}) for key in instance)


def _pick(instance: Any, schema: dict[str, Any], what: str, source: Source, path: NodePath,
          choices: tuple[str, ...]) -> list[PathProblem]:
    """The one error for a mapping with none, or more than one, of its exclusive keys."""
    if not isinstance(instance, dict):
        return _one(source, path, f"{what} must be a mapping with one of {', '.join(choices)}, got {shown(instance)}")
    present = [k for k in instance if k in choices]
    if len(present) > 1:
        listed = " and ".join(f"'{k}'" for k in present)
        count = "two" if len(present) == 2 else str(len(present))
        return _one(source, path, f"{_PLURAL[what].format(count=count, listed=listed)}", at=path + (present[1],))
    if present or _misspelt(instance, schema):
        return []
    return _one(source, path, _NONE[what].format(choices=", ".join(choices)))


_PLURAL = {
    "a step": "step has {count} actions ({listed}); a step does exactly one thing",
    "an assertion": "assertion has {count} kinds ({listed}); write one assertion each",
    "a provider": "provider has both {listed}; give exactly one",
    "a case": "case has both {listed}: a discover entry makes its cases (and ids) from files",
}
_NONE = {
    "a step": "step has no action: give one of {choices}",
    "an assertion": "assertion has no kind: give one of {choices}",
    "a provider": "provider needs 'python: FILE[:FUNCTION]' or 'http: URL'",
    "a case": "missing required key 'id'",
}


def _diagnose_step(error: ValidationError, source: Source, path: NodePath) -> list[PathProblem]:
    return _pick(error.instance, error.schema, "a step", source, path, STEP_ACTIONS)


def _diagnose_assertion(error: ValidationError, source: Source, path: NodePath) -> list[PathProblem]:
    return _pick(error.instance, error.schema, "an assertion", source, path, ASSERTION_KINDS + ("type",))


def _diagnose_case(error: ValidationError, source: Source, path: NodePath) -> list[PathProblem]:
    return _pick(error.instance, error.schema, "a case", source, path, ("id", "discover"))


def _diagnose_provider(error: ValidationError, source: Source, path: NodePath) -> list[PathProblem]:
    return _pick(error.instance, error.schema, "a provider", source, path, ("python", "http"))


def _promptfoo_type(error: ValidationError, source: Source, path: NodePath) -> list[PathProblem]:
    kind = error.instance
    refused = refusal(kind) if isinstance(kind, str) else None
    if refused:
        return _one(source, path, refused)
    return _one(source, path, f"unknown assertion type {shown(kind)}"
                              f"{did_you_mean(str(kind), error.schema.get('enum', ()))}")


_DIAGNOSE = {"step": _diagnose_step, "assertion": _diagnose_assertion, "case": _diagnose_case,
             "provider": _diagnose_provider}


def _field(path: NodePath) -> str:
    if not path:
        return "the plan"
    last = path[-1]
    if isinstance(last, int):
        parent = next((p for p in reversed(path) if isinstance(p, str)), "list")
        return f"item {last + 1} of '{parent}'"
    return f"'{last}'"


def shown(value: Any) -> str:
    """A value as a message shows it: 'text', 3, true, null, a list, a mapping."""
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def describe(schema: dict[str, Any]) -> str:
    """What a schema accepts, in words: 'an integer >= 1', 'one of low, medium, high'."""
    if "x-expect" in schema:
        return str(schema["x-expect"])
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return "" if name == "template" else describe(plan_schema()["$defs"][name])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return shown(schema["const"])
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        parts = [d for d in (describe(b) for b in branches) if d]
        return " or ".join(dict.fromkeys(parts))
    types = schema.get("type", [])
    return " or ".join(_type_words(t, schema) for t in ([types] if isinstance(types, str) else types)) or "valid"


def _type_words(kind: str, schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    bound = f" between {low} and {high}" if low is not None and high is not None else (
        f" >= {low}" if low is not None else "")
    if kind == "array":
        items = schema.get("items", {})
        return "a list of strings" if items.get("type") == "string" else "a list"
    return {"integer": "an integer" + bound, "number": "a number" + bound, "string": "a string",
            "boolean": "true or false", "object": "a mapping", "null": "null"}.get(kind, kind)
