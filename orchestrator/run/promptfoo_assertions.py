"""promptfoo's deterministic assertion types, with promptfoo's semantics (0.123).

Each reads the step's main field (or `on:`) as promptfoo's `outputString` — text as is, any
other value as JSON — except `latency` (the `latencyMs` a provider returned, else the
`duration_ms` the orchestrator measured) and `cost` (the `cost` a provider returned). `not-X`
passes exactly when `X` fails. `threshold`: levenshtein's largest distance (default 5),
latency's milliseconds, cost's amount.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

import yaml

from orchestrator.plan.model import AssertionSpec
from orchestrator.plan.promptfoo_types import OWN, THRESHOLDS
from orchestrator.result.model import AssertionResult
from orchestrator.evaluation.templating import TemplateError, render
from orchestrator.evaluation.values import as_text

PROMPTFOO_KINDS = frozenset(OWN)
_SHOWN = 2000

Outcome = tuple[bool, str, Any]  # passed, why it failed (for the positive form), the actual value shown


def check_promptfoo(spec: AssertionSpec, on: str, actual: Any, fields: Mapping[str, Any],
                    variables: Mapping[str, Any]) -> AssertionResult:
    negated = spec.kind.startswith("not-")
    base = spec.kind[4:] if negated else spec.kind
    threshold = spec.threshold if spec.threshold is not None else THRESHOLDS.get(base)
    try:
        expected = render(spec.value, variables)
    except TemplateError as exc:
        return _result(spec, on, False, spec.value, actual, str(exc))
    if base in ("latency", "cost"):
        on, actual = _measure(base, fields)
        if actual is None:
            why = ("the provider returned no cost" if base == "cost" else "the step has no duration")
            return _result(spec, on, False, threshold, None, why)
        ok, why = _at_most(base, float(actual), float(threshold or 0), negated)
        return _result(spec, on, ok, threshold, actual, "" if ok else why)
    try:
        ok, why, shown = _CHECKS[base](expected, as_text(actual), threshold)
    except ValueError as exc:  # a value promptfoo would refuse: the assertion cannot hold
        return _result(spec, on, False, expected, actual, str(exc))
    if negated:
        ok, why = not ok, f"expected the opposite of {base}, and {base} held"
    return _result(spec, on, ok, expected if threshold is None else {"value": expected, "threshold": threshold},
                   shown if shown is not None else actual, "" if ok else why)


def _result(spec: AssertionSpec, on: str, ok: bool, expected: Any, actual: Any, message: str) -> AssertionResult:
    return AssertionResult(kind=spec.kind, passed=ok, expected=_display(expected), actual=_display(actual), on=on,
                           message=message, line=spec.location.line)


def _display(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _SHOWN:
        return value[:_SHOWN] + f"… [{len(value) - _SHOWN} more characters]"
    return value


def _measure(base: str, fields: Mapping[str, Any]) -> tuple[str, Any]:
    """latency: what the provider says it took, as promptfoo reads it, else what was measured."""
    if base == "cost":
        cost = fields.get("cost")
        return "cost", cost if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
    claimed = fields.get("latencyMs")
    if isinstance(claimed, (int, float)) and not isinstance(claimed, bool):
        return "latencyMs", claimed
    measured = fields.get("duration_ms")
    return "duration_ms", measured if isinstance(measured, (int, float)) else None


def _at_most(base: str, actual: float, threshold: float, negated: bool) -> tuple[bool, str]:
    unit = "ms" if base == "latency" else ""
    name = base.capitalize()
    if negated:
        return actual > threshold, f"{name} {actual:g}{unit} is less than or equal to threshold {threshold:g}{unit}"
    return actual <= threshold, f"{name} {actual:g}{unit} is greater than threshold {threshold:g}{unit}"


def _values(expected: Any, kind: str) -> list[str]:
    if isinstance(expected, str):
        return [part.strip() for part in expected.split(",") if part.strip()]
    if isinstance(expected, list) and expected:
        return [str(v) for v in expected]
    raise ValueError(f"'{kind}' needs a list of strings (or a comma-separated string), got {expected!r}")


def _contains_any(expected: Any, output: str, _: Any, fold: bool = False) -> Outcome:
    values = _values(expected, "contains-any")
    text = output.casefold() if fold else output
    ok = any((v.casefold() if fold else v) in text for v in values)
    return ok, f"contains none of {values}", None


def _contains_all(expected: Any, output: str, _: Any, fold: bool = False) -> Outcome:
    values = _values(expected, "contains-all")
    text = output.casefold() if fold else output
    missing = [v for v in values if (v.casefold() if fold else v) not in text]
    return not missing, f"missing {missing}", None


def _equals(expected: Any, output: str, _: Any) -> Outcome:
    if isinstance(expected, (dict, list)):  # promptfoo compares an object value with the parsed output
        try:
            return json.loads(output) == expected, "the parsed output differs", None
        except ValueError:
            return False, "the output is not JSON", None
    return output == str(expected), f"{output[:200]!r} != {str(expected)[:200]!r}", None


def _icontains(expected: Any, output: str, _: Any) -> Outcome:
    return str(expected).casefold() in output.casefold(), f"{expected!r} not found (ignoring case)", None


def _starts_with(expected: Any, output: str, _: Any) -> Outcome:
    return output.startswith(str(expected)), f"does not start with {expected!r}", None


def _regex(expected: Any, output: str, _: Any) -> Outcome:
    try:
        return re.search(str(expected), output) is not None, f"no match for /{expected}/", None
    except re.error as exc:
        raise ValueError(f"invalid regex /{expected}/: {exc}") from None


def _schema(expected: Any) -> Any:
    if expected is None or expected == "" or expected is True:
        return None
    schema = yaml.safe_load(expected) if isinstance(expected, str) else expected
    if not isinstance(schema, (dict, bool)):
        raise ValueError(f"the JSON schema must be a mapping, got {schema!r}")
    return schema


def _conforms(document: Any, schema: Any) -> str:
    """'' when `document` conforms, else the first schema error."""
    import jsonschema  # ~40 ms: only for the plans that check JSON against a schema

    try:
        jsonschema.validate(document, schema)
    except jsonschema.ValidationError as exc:
        return str(exc.message)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"invalid JSON schema: {exc.message}") from None
    return ""


def _is_json(expected: Any, output: str, _: Any) -> Outcome:
    schema = _schema(expected)
    try:
        document = json.loads(output)
    except ValueError:
        return False, "the output is not valid JSON", None
    error = _conforms(document, schema) if schema is not None else ""
    return not error, f"JSON does not conform to the schema: {error}", None


def _json_documents(text: str) -> list[Any]:
    """Every JSON object or array embedded in `text`, as promptfoo's extractJsonObjects finds them."""
    decoder, found, at = json.JSONDecoder(), list[Any](), 0
    while True:
        starts = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
        if not starts:
            return found
        start = min(starts)
        try:
            document, end = decoder.raw_decode(text, start)
        except ValueError:
            at = start + 1
            continue
        found.append(document)
        at = end


def _contains_json(expected: Any, output: str, _: Any) -> Outcome:
    schema = _schema(expected)
    documents = _json_documents(output)
    if not documents:
        return False, "the output contains no JSON", None
    if schema is None:
        return True, "", documents[0]
    errors = [_conforms(d, schema) for d in documents]
    return any(not e for e in errors), f"no JSON in the output conforms to the schema: {errors[0]}", documents[0]


def _levenshtein(expected: Any, output: str, threshold: Any) -> Outcome:
    if not isinstance(expected, str):
        raise ValueError(f"'levenshtein' needs a string value, got {expected!r}")
    distance = _distance(output, expected)
    limit = float(threshold if threshold is not None else 5)
    return distance <= limit, f"Levenshtein distance {distance} is greater than threshold {limit:g}", \
        {"distance": distance}


def _distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_CHECKS: dict[str, Callable[[Any, str, Any], Outcome]] = {
    "equals": _equals, "icontains": _icontains, "starts-with": _starts_with, "regex": _regex,
    "contains-any": _contains_any, "contains-all": _contains_all,
    "icontains-any": lambda e, o, t: _contains_any(e, o, t, fold=True),
    "icontains-all": lambda e, o, t: _contains_all(e, o, t, fold=True),
    "is-json": _is_json, "contains-json": _contains_json, "levenshtein": _levenshtein,
}
