"""Public entry points: a plan file in, a validated `Plan` out, or every problem as FILE:LINE:COL.

    plan = load_plan("plans/release.yaml", overrides={"model": "tiny"})

Stages: yaml_load (values + locations) -> schema (as written) -> expand.merge_includes ->
semantic checks -> expand (defaults, discover, matrix) -> the model (this module; the cases:
case_model). A plain case (case_fused) is checked and built in one pass instead.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from orchestrator.errors import PlanErrors, Problem, UserError
from orchestrator.records import long_lived, paused_gc
from orchestrator.plan import expand as ex
from orchestrator.plan.model import CaseSpec, GateSpec, Plan, ProviderSpec, RiskSpec
from orchestrator.plan.case_fused import PlainCases
from orchestrator.plan.case_model import case_spec
from orchestrator.plan.known_values import KnownValues
from orchestrator.plan.expand import DISCOVER_VARS
from orchestrator.plan.paths import project_root
from orchestrator.plan.names_read import template_names
from orchestrator.plan.python_files import split_python
from orchestrator.plan.semantic import BUILTIN_NAMES, Checker
from orchestrator.plan.suggest import closest
from orchestrator.plan.units import parse_duration, parse_size
from orchestrator.plan.yaml_load import Source, load_yaml
from orchestrator.evaluation.templating import TemplateError, has_template, render


def load_plans(paths: Sequence[str], overrides: Mapping[str, str] | None = None,
               root: str | None = None) -> list[Plan]:
    """Load every plan; raise one PlanErrors with the problems of all of them."""
    plans: list[Plan] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            plans.append(load_plan(path, overrides, root))
        except PlanErrors as exc:
            problems.extend(exc.problems)
    if problems:
        raise PlanErrors(problems)
    check_overrides(plans, overrides or {})
    return plans


def check_overrides(plans: Sequence[Plan], overrides: Mapping[str, str]) -> None:
    """A --var that no plan declares and no template reads would be silently ignored: refuse it."""
    known = sorted(set().union(*(p.var_names for p in plans))) if plans else []
    wrong = []
    for name in overrides:
        if name in known:
            continue
        match = closest(name, known)
        if match is not None:
            why = f"did you mean '{match}'?"
        else:
            why = f"the plan's variables are {', '.join(known)}" if known else "the plan has no variables"
        wrong.append(f"--var {name}={overrides[name]}: unknown variable '{name}'; {why}")
    if wrong:
        raise UserError("\n".join(wrong))


def load_plan(path: str, overrides: Mapping[str, str] | None = None, root: str | None = None) -> Plan:
    """Load, validate and expand one plan file. Raises PlanErrors with ALL its problems.

    `include` and `discover` stay inside `root` (default: the plan's project root, plan.paths)."""
    with paused_gc():  # a big plan is millions of objects without cycles: collections only cost
        plan = _load_plan(path, overrides, root)
        # It lives as long as the run: the run's collections need not rescan it. Frozen before the
        # collector resumes, or its first collection scans all that the load allocated (0.5 s at
        # 20,000 cases).
        long_lived()
    return plan


def _load_plan(path: str, overrides: Mapping[str, str] | None, root: str | None, fused: bool = True) -> Plan:
    """`fused`: the plain cases (case_fused) are checked and built in one pass; a plan with a
    problem is then loaded again without it, so that its problems are found as they always were
    (what the first load built is freed by then)."""
    try:
        return _load_once(path, overrides, root, fused)
    except _LoadAgain as again:
        text = again.text
    return _load_once(path, overrides, root, False, text)  # out of the except: the first load is freed


class _LoadAgain(Exception):
    """The fused load found a problem after building plain cases: the general path says it."""

    def __init__(self, text: str | None) -> None:
        super().__init__()
        self.text = text  # the plan file as read (a pipe has no second reading)


def _load_once(path: str, overrides: Mapping[str, str] | None, root: str | None, fused: bool,
               text: str | None = None) -> Plan:
    """Raises _LoadAgain when the plan has a problem and plain cases were built (only when `fused`)."""
    main, problems = load_yaml(str(path), text=text)
    if main.data is None:
        raise PlanErrors(problems)
    project = Path(os.path.realpath(root)) if root is not None else project_root(main.path)
    ctx = ex.Context(main=main, overrides=dict(overrides or {}), root=project)
    ex.check_schema(ctx, main, problems, included=False)
    ex.merge_includes(ctx, main, (), problems)
    checker = Checker(ctx)
    checker.providers_exist()
    checker.gate()
    checker.defaults()
    env = _render_env(ctx, {k: f for k, f in ctx.sections["env"].items()}, problems)
    plain = None
    if fused and not problems and not checker.problems and not ctx.bad:
        plain = PlainCases(main, checker, {k: f.value for k, f in ctx.sections["defaults"].items()})
    cases: list[ex.Expanded] = []
    in_order: list[CaseSpec | ex.Expanded] = []  # the plain cases built, the others expanded
    raw_cases = main.data.get("cases")
    for index in range(len(raw_cases) if isinstance(raw_cases, list) else 0):
        if plain is not None and (problems or checker.problems):  # the plan has a problem: the general path
            if plain.taken:
                raise _LoadAgain(main.text)
            plain = None
        if plain is not None:
            spec = plain.case(index, raw_cases[index])
            if spec is not None:
                in_order.append(spec)
                continue
        keys = ex.case_keys(ctx, index)
        if keys is not None:
            checker.case(keys, ex.Field(raw_cases[index], main, ("cases", index)))
            expanded = ex.expand(ctx, index, keys, problems)
            cases.extend(expanded)
            in_order.extend(expanded)
    took_plain = plain is not None and plain.taken > 0
    if took_plain:
        checker.actions.add("call")  # what the checks of the plain cases noted
    checker.plan_vars()
    problems.extend(checker.problems)
    problems.extend(ex.duplicate_ids(cases))
    if problems or took_plain and len({case.id for case in in_order}) < len(in_order):
        if took_plain:
            raise _LoadAgain(main.text)
        raise PlanErrors(list(dict.fromkeys(problems)))
    providers = {pid: _provider(ctx, pid, f, env, problems) for pid, f in ctx.sections["providers"].items()}
    plan_scope = ctx.template_vars()
    for case in cases if ctx.overrides else ():  # --var wins over a case's own vars (never over a matrix value)
        own = case.keys["vars"].value if "vars" in case.keys and isinstance(case.keys["vars"].value, dict) else {}
        case.vars.update({k: v for k, v in ctx.overrides.items() if k in own and k not in case.matrix})
        for name in (k for k in case.matrix if k in ctx.overrides):
            field = case.keys["matrix"]
            problems.append(Problem(field.source.key_at(field.path + (name,)),
                                    f"--var {name}={ctx.overrides[name]} cannot change the matrix variable "
                                    f"'{name}': the matrix gives its values (select one with -k or --id)"))
    provider_ids = list(providers)
    built = tuple(c if isinstance(c, CaseSpec)
                  else case_spec(c, KnownValues(plan_scope, c.vars, provider_ids, problems)) for c in in_order)
    if problems:
        if took_plain:
            raise _LoadAgain(main.text)
        raise PlanErrors(list(dict.fromkeys(problems)))
    data = main.data
    return Plan(path=main.path, name=str(data["name"]), cases=built,
                title=str(data.get("title") or ""), description=str(data.get("description") or ""),
                vars=ctx.vars, env=env, providers=providers,
                requirements={str(k): _text(v) for k, v in (data.get("requirements") or {}).items()},
                risks={str(k): _risk(v) for k, v in (data.get("risks") or {}).items()},
                gate=_gate(main) if "gate" in data else None, secrets=tuple(ctx.secrets),
                provider_leaks=str(data.get("provider_leaks") or "warn"),
                var_names=_var_names(ctx, cases, checker),
                warnings=tuple(sorted(dict.fromkeys(checker.warnings),
                                      key=lambda w: (w.location.file, w.location.line, w.location.col))))


def _var_names(ctx: ex.Context, cases: Sequence[ex.Expanded], checker: Checker) -> frozenset[str]:
    """What a --var may name: declared plan, case and matrix vars, and every name a template reads."""
    names = checker.read - checker.bound - BUILTIN_NAMES - set(DISCOVER_VARS) - {"i"}
    names |= set(ctx.sections["vars"])
    for case in cases:
        for key in ("vars", "matrix"):
            if key in case.keys and isinstance(case.keys[key].value, dict):
                names |= {str(k) for k in case.keys[key].value}
    for section in ("providers", "env"):  # rendered with the plan's vars (url, headers, env values)
        for item in ctx.sections[section].values():
            names |= _read_by(item.value)
    return frozenset(names)


def _read_by(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_read_by(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_read_by(v) for v in value)) if value else set()
    if isinstance(value, str) and has_template(value):
        names = template_names(value)
        return set(names) if isinstance(names, frozenset) else set()
    return set()


def _render_env(ctx: ex.Context, fields: Mapping[str, ex.Field], problems: list[Problem]) -> dict[str, str]:
    variables = ctx.template_vars()
    out: dict[str, str] = {}
    for key, item in fields.items():
        try:
            out[key] = _env_text(render(item.value, variables))
        except TemplateError as exc:
            problems.append(Problem(item.location, f"env '{key}': {exc}"))
    return out


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _provider(ctx: ex.Context, pid: str, spec: ex.Field, plan_env: Mapping[str, str],
              problems: list[Problem]) -> ProviderSpec:
    raw: dict[str, Any] = spec.value
    own = {k: ex.Field(v, spec.source, spec.path + ("env", k)) for k, v in (raw.get("env") or {}).items()}
    common = dict(location=spec.location, cwd=spec.source.directory,
                  timeout_s=parse_duration(raw.get("timeout", 120.0)),
                  env={**plan_env, **_render_env(ctx, own, problems)})
    if "http" in raw:
        return ProviderSpec(id=pid, kind="http", url=str(raw["http"]), config=dict(raw.get("config") or {}),
                            method=str(raw.get("method", "POST")).upper(),
                            headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()},
                            **common)  # type: ignore[arg-type]
    file_name, function = split_python(str(raw["python"]))
    return ProviderSpec(
        id=pid, kind="python", python_file=(spec.source.directory / file_name).resolve(), function=function,
        interpreter=raw.get("interpreter"), workers=int(raw.get("workers", 1)),
        mode=str(raw.get("mode", "persistent")),
        startup_timeout_s=parse_duration(raw.get("startup_timeout", 60.0)),
        config=dict(raw.get("config") or {}), max_calls=raw.get("max_calls"),
        max_rss_bytes=parse_size(raw["max_rss"]) if "max_rss" in raw else None,
        affinity=raw.get("affinity"),
        queue_timeout_s=parse_duration(raw["queue_timeout"]) if "queue_timeout" in raw else None,
        max_restarts=raw.get("max_restarts"), **common)  # type: ignore[arg-type]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("title") or value.get("text") or value.get("description") or value)
    return "" if value is None else str(value)


def _risk(value: Any) -> RiskSpec:
    if isinstance(value, dict):
        return RiskSpec(title=str(value.get("title", "")), likelihood=value.get("likelihood"),
                        impact=value.get("impact"))
    return RiskSpec(title=str(value))


def _fraction(value: Any) -> float:
    """`95%` or `0.95` (validated: a percentage 0-100 % or a fraction 0-1, nothing else)."""
    if isinstance(value, str):
        return float(value.strip().rstrip("%").strip()) / 100.0
    return float(value)


def _gate(source: Source) -> GateSpec | None:
    raw = source.data["gate"] or {}
    if not any(raw.get(k) is not None and raw.get(k) != {} and raw.get(k) != [] for k in raw):
        return None  # `gate: {}` is no gate: the run passes when no case failed or errored
    return GateSpec(pass_rate={str(k): _fraction(v) for k, v in (raw.get("pass_rate") or {}).items()},
                    max_flaky=raw.get("max_flaky"), require_covered=tuple(raw.get("require_covered") or ()),
                    location=source.at(("gate",)))


__all__ = ["load_plan", "load_plans"]
