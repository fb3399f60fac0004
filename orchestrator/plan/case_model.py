"""A case of the plan as the model has it (CaseSpec, its StepSpecs and AssertionSpecs), built
from its keys once the plan is valid (plan/load.py); templated provider names, numbers and
durations that are known before the run are checked on the way (plan/known_values.py).
"""
from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from orchestrator.evaluation.templating import has_template
from orchestrator.plan import expand as ex
from orchestrator.plan.known_values import KnownValues
from orchestrator.plan.model import STEP_ACTIONS, AssertionSpec, CaseSpec, ParallelArgs, StepArgs, StepSpec
from orchestrator.plan.promptfoo_types import kind_of
from orchestrator.plan.step_args import build_args
from orchestrator.plan.units import parse_duration
from orchestrator.plan.yaml_load import NodePath, Source

# One empty mapping for every case without vars or matrix values (most cases): two empty dicts
# a case were ~1.3 MB at 10,000 cases. Read-only, as the model's Mapping says.
NO_VALUES: Mapping[str, Any] = MappingProxyType({})
_ACTIONS = frozenset(STEP_ACTIONS)
_DURATION_ARGS = {"exec": ("timeout",), "spawn": (), "wait": ("within",), "load": ("duration",),
                  "http": ("timeout",)}


def case_spec(case: ex.Expanded, known: KnownValues) -> CaseSpec:
    keys = case.keys
    steps = keys["steps"]
    return CaseSpec(
        id=case.id, name=str(case.name if case.name is not None else case.id), location=case.entry.location,
        steps=tuple(_step(s, steps.source, steps.path + (i,), known) for i, s in enumerate(steps.value)),
        vars=case.vars or NO_VALUES, matrix=case.matrix or NO_VALUES,
        discovered=str(case.vars["path"]) if "discover" in keys else None,
        **(_fields_of({k: f.value for k, f in keys.items()}) if keys.keys() - _CASE_OWN else _default_fields()))


_CASE_OWN = frozenset({"id", "name", "steps"})  # what case_spec reads itself (most cases have only these)


def case_fields(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """The CaseSpec fields a case's keys (their values) give, but those case_spec sets itself."""
    return _fields_of(values) if values.keys() - _CASE_OWN else _default_fields()


@lru_cache(maxsize=1)
def _default_fields() -> Mapping[str, Any]:
    """The fields of a case that gives none of them (do not change it)."""
    return _fields_of({})


def _fields_of(value: Mapping[str, Any]) -> dict[str, Any]:
    """The CaseSpec fields a case's keys give, but those case_spec sets itself."""
    xfail, xfail_strict = _xfail(value)
    return dict(
        description=str(value.get("description") or ""), level=value.get("level"),
        priority=str(value.get("priority", "P2")), tags=tuple(value.get("tags") or ()),
        covers=tuple(value.get("covers") or ()), skip=_reason(value.get("skip"), "skipped by plan"),
        xfail=_reason(xfail, "expected to fail"), xfail_strict=xfail_strict,
        timeout_s=parse_duration(value["timeout"]) if "timeout" in value else None,
        retries=int(value.get("retries", 0)), repeat=int(value.get("repeat", 1)),
        concurrency=int(value.get("concurrency", 1)),
        serial=bool(value.get("serial", False)), lock=str(value["lock"]) if value.get("lock") else None,
        stop_on_failure=bool(value.get("stop_on_failure", False)))


def _xfail(case: Mapping[str, Any]) -> tuple[Any, bool]:
    """(`xfail` as true/reason, strict): `xfail: {reason, strict}` wins over `xfail_strict`."""
    value = case.get("xfail")
    strict = bool(case.get("xfail_strict", False))
    if isinstance(value, dict):
        return value.get("reason") or True, bool(value.get("strict", strict))
    return value, strict


def _reason(value: Any, default: str) -> str | None:
    if value is True:
        return default
    if value is False or value is None:
        return None
    return str(value) or default


def _duration(value: Any) -> Any:
    """Seconds, or the template string as written (rendered at run time)."""
    return value if isinstance(value, str) and has_template(value) else parse_duration(value)


def _step(raw: dict[str, Any], source: Source, path: NodePath, known: KnownValues) -> StepSpec:
    action = next(a for a in raw if a in _ACTIONS)
    value = raw[action]
    location = source.at(path)  # before its assertions': Source walks on from the last path asked
    args: dict[str, Any]
    if action == "call":
        args = {"provider": _provider_id(value, known, source, path + ("call",)),
                **{k: raw[k] for k in ("prompt", "vars", "options", "context", "session") if k in raw}}
    elif action == "sleep":
        args = {"duration": _duration(value)}
    elif action == "parallel":
        args = {"steps": tuple(_step(s, source, path + ("parallel", i), known) for i, s in enumerate(value))}
    else:
        args = dict(value)
        if action == "load" and "call" in args:
            args["call"] = _provider_id(args["call"], known, source, path + ("load", "call"))
        known.typed_args(action, args, source, path)
        for key in _DURATION_ARGS.get(action, ()):
            if key in args:
                args[key] = _duration(args[key])
        if isinstance(args.get("ready"), dict) and "delay" in args["ready"]:
            args["ready"] = {**args["ready"], "delay": _duration(args["ready"]["delay"])}
    if isinstance(raw.get("timeout"), str) and has_template(raw["timeout"]):
        known.typed(raw["timeout"], "duration", source.at(path + ("timeout",)), "timeout")
    if action == "sleep" and isinstance(value, str) and has_template(value):
        known.typed(value, "duration", source.at(path + ("sleep",)), "sleep")
    expect = []
    for i, spec in enumerate(raw.get("expect") or ()):
        at = path + ("expect", i)
        known.assertion(spec, source, at)
        expect.append(_assertion(spec, source, at))
    typed: StepArgs = ParallelArgs(**args) if action == "parallel" else build_args(action, args)
    return StepSpec(action=action, args=typed, location=location, name=raw.get("name"),
                    as_name=raw.get("as"), expect=tuple(expect),
                    timeout_s=_duration(raw["timeout"]) if "timeout" in raw else None,
                    always=bool(raw.get("always", False)), condition=raw.get("if"))


def _provider_id(name: Any, known: KnownValues, source: Source, path: NodePath) -> Any:
    """The provider a step names; its place is looked up only for a templated name (that may not render)."""
    return known.provider(name, source.at(path)) if isinstance(name, str) and has_template(name) else name


def _assertion(raw: dict[str, Any], source: Source, path: NodePath) -> AssertionSpec:
    if "type" in raw:
        kind = kind_of(raw["type"])
        value = raw.get("value", True if kind == "is_json" else None)
    else:
        kind = next(k for k in raw if k != "on")
        value = raw[kind]
    if kind == "equals_file" and isinstance(value, str) and not has_template(value):
        value = str((source.directory / value).resolve())
    threshold = raw.get("threshold")
    return AssertionSpec(kind=kind, value=value, location=source.at(path), on=raw.get("on"),
                         threshold=None if threshold is None else float(threshold))
