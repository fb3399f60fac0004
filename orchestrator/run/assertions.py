"""Assertions: pure functions from (assertion, step result) to a recorded AssertionResult.

Every assertion records expected and actual, whether it held or not, so reports can show both.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

from orchestrator.evaluation import regex_safety
from orchestrator.plan.model import MAIN_FIELD, AssertionSpec
from orchestrator.result.model import AssertionResult
from orchestrator.run.promptfoo_assertions import PROMPTFOO_KINDS, check_promptfoo
from orchestrator.run.scope import ALTERNATIVE_MAIN, step_scope
from orchestrator.run import strict_checks
from orchestrator.evaluation.values import as_text, json_safe, safe_repr
from orchestrator.evaluation.templating import TemplateError, evaluate, has_template, render

_SHOWN_CHARS = 2000
# `matches` uses the `regex` engine for its time limit (regex_safety): a backtracking pattern
# fails its assertion instead of holding the GIL (and the run, and its signal handlers) for
# hours; the GIL is released while matching, so the main thread still handles SIGINT/SIGTERM.
MATCH_TIMEOUT_S = regex_safety.MATCH_TIMEOUT_S
_MISSING = object()

# Assertions whose natural field is not the step's main one.
_DEFAULT_FIELD = {"exit_code": "exit_code", "error": "error", "no_error": "error", "max_ms": "duration_ms"}


def field_for(spec: AssertionSpec, action: str, fields: Mapping[str, Any] | None = None) -> str:
    if spec.on:
        return spec.on
    if spec.kind == "max_ms" and action == "load":
        return "latency_ms.p95"
    own = _DEFAULT_FIELD.get(spec.kind)
    if own:
        return own
    if action == "call" and fields is not None and fields.get("output") is None:
        # embedding and classification functions answer with that field instead of `output`
        found = next((k for k in ALTERNATIVE_MAIN if fields.get(k) is not None), None)
        if found:
            return found
    return MAIN_FIELD.get(action, "output")


@lru_cache(maxsize=1024)
def _path_parts(path: str) -> tuple[str, ...]:
    """A field path's parts, parsed once (every case's assertions read the same few paths)."""
    return tuple(re.findall(r"[^.\[\]]+|\[\d+\]", path))


def lookup(fields: Mapping[str, Any], path: str) -> Any:
    """`a.b[0].c` inside nested dicts/lists; _MISSING when absent."""
    if type(fields) is dict and path in fields and path.isidentifier():
        return fields[path]  # the usual case, a top-level field (`output`): no parsing of the path
    current: Any = fields
    for part in _path_parts(path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(current, list) or index >= len(current):
                return _MISSING
            current = current[index]
        elif isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def check(spec: AssertionSpec, action: str, fields: Mapping[str, Any],
          variables: Mapping[str, Any], returned: Collection[str] = ()) -> AssertionResult:
    """Judge one assertion. `variables`: the case's variables; `returned`: the names among
    `fields` a provider returned (they rank below variables, see orchestrator.run.scope).
    Never raises: whatever goes wrong evaluating it is this assertion's failure."""
    on = field_for(spec, action, fields)
    actual: Any = None
    try:
        actual = lookup(fields, on) if spec.kind != "expr" else None
        if spec.kind in PROMPTFOO_KINDS:  # promptfoo's own types, with its semantics
            return check_promptfoo(spec, on, None if actual is _MISSING else actual, fields,
                                   step_scope(fields, variables, returned))
        if spec.kind == "expr":
            scope = step_scope(fields, variables, returned)
            expected = spec.value
            outcome = evaluate(str(spec.value), scope)
            actual = _expression_values(str(spec.value), scope, fields, variables)
            ok, why = bool(outcome), ""
            if not ok:
                why = _expression_failed(str(spec.value), outcome, actual, variables, returned)
            on = "expression"
        else:
            # The scope is built only for a value that renders: most are plain text or numbers.
            expected = spec.value
            if not _plain_value(expected):
                expected = render(expected, step_scope(fields, variables, returned))
            if actual is _MISSING and spec.kind not in ("error", "no_error"):
                return _result(spec, on, False, expected, None, f"the result has no field '{on}'")
            ok, why = CHECKS[spec.kind](expected, None if actual is _MISSING else actual)
    except TemplateError as exc:
        return _result(spec, on, False, spec.value, _display(actual), str(exc))
    except Exception as exc:  # a value the check cannot take: this assertion fails, the run goes on
        return _result(spec, on, False, spec.value, _display(actual),
                       f"could not be evaluated: {type(exc).__name__}: {_first_line(str(exc))}")
    return _result(spec, on, ok, expected, _display(actual), "" if ok else why)


def _expression_failed(source: str, outcome: Any, read: Mapping[str, Any], variables: Mapping[str, Any],
                       returned: Collection[str]) -> str:
    """Why an `expr` did not hold: its value, what it read, and the provider's names it hid."""
    values = ", ".join(f"{k}={_short(v)}" for k, v in read.items())
    why = f"was {_short(outcome)}" + (f" where {values}" if values else "")
    hidden = [k for k in dict.fromkeys(_names_in(source)) if k in returned and k in variables]
    if hidden:
        why += "; " + ", ".join(f"'{k}' is the variable, the provider's '{k}' is result.{k}" for k in hidden)
    return why


def _plain_value(value: Any) -> bool:
    """What `render` gives back unchanged: a string without a template, a number, a bool, None."""
    if isinstance(value, str):
        return not has_template(value)
    return not isinstance(value, (dict, list, tuple))


def _result(spec: AssertionSpec, on: str, ok: bool, expected: Any, actual: Any, message: str) -> AssertionResult:
    # kind, passed, expected, actual, on, message, line: by position (keywords cost a third more)
    return AssertionResult(spec.kind, ok, _display(expected), actual, on, message, spec.location.line)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _names_in(source: str) -> list[str]:
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source)


# `providers.chaos.restarts`, `r1.worker.pid`: dotted reads of earlier results and live stats.
_CHAINS = re.compile(r"(?<![\w.'\"])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def _expression_values(source: str, scope: Mapping[str, Any], fields: Mapping[str, Any],
                       variables: Mapping[str, Any]) -> dict[str, Any]:
    """What an `expr` read, for the report: the step's fields it names, and the value of each
    dotted path into anything else (an earlier step's `as`, `providers`), when that is plain data."""
    read = {k: scope[k] for k in _names_in(source) if k in scope and (k in fields or k not in variables)}
    for chain in dict.fromkeys(_CHAINS.findall(source)):
        head = chain.split(".", 1)[0]
        if head in read or head not in scope:
            continue
        try:
            value = evaluate(chain, scope)
        except TemplateError:
            continue
        if _plain(value):
            read[chain] = value
    return read


def _plain(value: Any) -> bool:
    if callable(value):
        return False
    try:
        json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


_short = safe_repr


def _display(value: Any) -> Any:
    """Keep results small and JSON-safe: long strings are cut with a note, NaN, huge integers
    and objects become text."""
    if type(value) is str and len(value) <= _SHOWN_CHARS or value is None or type(value) is bool:
        return value  # the usual case, as json_safe gives it back
    if value is _MISSING:
        return None
    value = json_safe(value)[0]
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return value[:_SHOWN_CHARS] + f"… [{len(value) - _SHOWN_CHARS} more characters]"
    if isinstance(value, (dict, list)):
        text = as_text(value)
        if len(text) > _SHOWN_CHARS:
            return text[:_SHOWN_CHARS] + f"… [{len(text) - _SHOWN_CHARS} more characters]"
    return value


Check = Callable[[Any, Any], "tuple[bool, str]"]


# A check's message is made only when it fails: a passing assertion records none.
def _contains(expected: Any, actual: Any) -> tuple[bool, str]:
    if isinstance(actual, list):
        ok = strict_checks.contains_item(actual, expected) or str(expected) in as_text(actual)
        return ok, "" if ok else f"{_short(expected)} is not in the list"
    ok = str(expected) in as_text(actual)
    return ok, "" if ok else f"{_short(expected)} not found"


def _not_contains(expected: Any, actual: Any) -> tuple[bool, str]:
    found, _ = _contains(expected, actual)
    return not found, f"{_short(expected)} was found" if found else ""


def _icontains(expected: Any, actual: Any) -> tuple[bool, str]:
    ok = str(expected).casefold() in as_text(actual).casefold()
    return ok, "" if ok else f"{_short(expected)} not found (ignoring case)"


def _matches(expected: Any, actual: Any) -> tuple[bool, str]:
    try:
        found = regex_safety.search(str(expected), as_text(actual), MATCH_TIMEOUT_S)
    except ValueError as exc:
        return False, f"invalid regex /{expected}/: {exc}"
    except TimeoutError as exc:
        return False, (f"regex /{str(expected)[:200]}/ gave up after {exc.args[0] if exc.args else MATCH_TIMEOUT_S:g}s "
                       f"on {len(as_text(actual)):,} characters (catastrophic backtracking? make nested "
                       "repetitions unambiguous)")
    return found, "" if found else f"no match for /{expected}/"


def _starts_with(expected: Any, actual: Any) -> tuple[bool, str]:
    ok = as_text(actual).startswith(str(expected))
    return ok, "" if ok else f"does not start with {_short(expected)}"


def _parsed(actual: Any) -> Any:
    if isinstance(actual, (dict, list)):
        return actual
    return json.loads(as_text(actual), parse_constant=_not_json)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _is_json(expected: Any, actual: Any) -> tuple[bool, str]:
    try:
        _parsed(actual)
        valid = True
    except ValueError:
        valid = False
    return valid == bool(expected), "not valid JSON" if expected else "is valid JSON"


def _json(expected: Any, actual: Any) -> tuple[bool, str]:
    try:
        document = _parsed(actual)
    except ValueError as exc:
        return False, f"not valid JSON: {exc}"
    path = str(expected.get("path", ""))
    found = lookup({"$": document}, "$." + path if path else "$")
    if found is _MISSING:
        return False, f"no value at path {path!r}"
    for kind in ("equals", "contains", "matches"):
        if kind in expected:
            ok, why = CHECKS[kind](expected[kind], found)
            return ok, f"at {path!r}: {why}"
    return True, ""


def _error(expected: Any, actual: Any) -> tuple[bool, str]:
    if not actual:
        return False, f"expected an error{'' if expected is True else ' ' + str(expected)}, the call succeeded"
    if expected is True:
        return True, ""
    raised = str(actual.get("type", "")) if isinstance(actual, Mapping) else str(actual)
    ok = raised == str(expected) or raised.endswith("." + str(expected))
    return ok, f"raised {raised}, expected {expected}"


def _no_error(expected: Any, actual: Any) -> tuple[bool, str]:
    if not expected:
        return True, ""
    if isinstance(actual, Mapping):
        return False, f"{actual.get('type')}: {actual.get('message')}"
    return actual is None, f"error: {_short(actual)}"


def _equals_file(expected: Any, actual: Any) -> tuple[bool, str]:
    path = Path(str(expected))
    try:
        golden = path.read_text(encoding="utf-8")
    except OSError as exc:
        return False, f"cannot read {path}: {exc.strerror}"
    if as_text(actual) == golden:
        return True, ""
    for n, (got, want) in enumerate(zip(as_text(actual).splitlines(), golden.splitlines()), 1):
        if got != want:
            return False, f"differs from {path.name} at line {n}: {_short(got)} != {_short(want)}"
    return False, f"differs from {path.name} in length or trailing newline"


CHECKS: dict[str, Check] = {
    "contains": _contains, "not_contains": _not_contains, "icontains": _icontains,
    "equals": strict_checks.equals, "matches": _matches, "starts_with": _starts_with, "is_json": _is_json,
    "json": _json, "exit_code": strict_checks.exit_code, "error": _error, "no_error": _no_error,
    "max_ms": strict_checks.max_ms, "count": strict_checks.count, "equals_file": _equals_file,
}
