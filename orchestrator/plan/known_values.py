"""Templates whose value is known when the plan is loaded, checked then rather than mid-run.

What is known: plan and case `vars`, matrix and discover values, `--var`, `plan_dir`, `env`.
- A templated provider name (`call: "{{ which }}"`, `load: {call: ...}`) is resolved to the
  provider's id: the providers a run starts must be known before it starts. One that reads
  anything else (an `as:` result), does not render, or names no provider is a FILE:LINE:COL error.
- A templated whole number or duration (`ready: {port: "{{ port }}"}`, `requests: "{{ n }}"`,
  `timeout: "{{ t }}"`) that reads only known names must render to one: `--var port=notaport`
  is an error at the line that uses it, not a step that dies mid-run. Templates that read
  results of steps are checked when they render (the step's error then says the same).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from orchestrator.errors import Location, Problem
from orchestrator.plan.suggest import did_you_mean
from orchestrator.plan.units import parse_duration
from orchestrator.plan.yaml_load import NodePath, Source
from orchestrator.evaluation.values import describe, whole
from orchestrator.evaluation.templating import TemplateError, check_template, has_template, render

# Step arguments that must be whole numbers or durations, by action: (path inside the action, kind).
TYPED_ARGS: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "load": ((("requests",), "number"), (("concurrency",), "number"), (("warmup",), "number"),
             (("duration",), "duration")),
    "spawn": ((("ready", "port"), "number"), (("ready", "delay"), "duration")),
    "wait": ((("count",), "number"), (("within",), "duration")),
    "exec": ((("timeout",), "duration"),),
    "http": ((("timeout",), "duration"),),
}


class KnownValues:
    """One expanded case's known names; problems found are appended to `problems`."""

    def __init__(self, plan_scope: Mapping[str, Any], case_vars: Mapping[str, Any], providers: Sequence[str],
                 problems: list[Problem]) -> None:
        self._plan_scope = plan_scope
        self._case_vars = case_vars
        self._scope: dict[str, Any] | None = None
        self._scope_error = ""
        self.providers = list(providers)
        self.problems = problems

    def _known(self) -> dict[str, Any] | None:
        if self._scope is None and not self._scope_error:
            try:
                self._scope = {**self._plan_scope, **render(dict(self._case_vars), self._plan_scope)}
            except TemplateError as exc:
                self._scope_error = str(exc)
        return self._scope

    def _render(self, value: str, at: Location, what: str, required: bool) -> tuple[bool, Any]:
        """(True, rendered) when every name `value` reads is known; (False, None) otherwise,
        with a problem noted when `required`."""
        variables = self._known()
        if variables is None:
            if required:
                self.problems.append(Problem(at, f"{what} {value!r} cannot be resolved: the case's vars: "
                                                 f"{self._scope_error}"))
            return False, None
        try:
            unknown = sorted(check_template(value) - set(variables))
            if unknown:
                if required:
                    self.problems.append(Problem(at, f"{what} {value!r} reads {', '.join(map(repr, unknown))}, which "
                                                     "is not known before the run: it may use vars, matrix values "
                                                     "and --var, not results of steps"))
                return False, None
            return True, render(value, variables)
        except TemplateError as exc:
            self.problems.append(Problem(at, f"{what} {value!r}: {exc}"))
            return False, None

    def provider(self, name: Any, at: Location) -> Any:
        """The provider id a (templated) provider name stands for."""
        if not isinstance(name, str) or not has_template(name):
            return name
        ok, rendered = self._render(name, at, "provider name", required=True)
        if not ok:
            return name
        resolved = str(rendered).strip()
        if resolved not in self.providers:
            known = f"defined providers: {', '.join(self.providers)}" if self.providers else "no providers are defined"
            self.problems.append(Problem(at, f"provider name {name!r} renders to '{resolved}', which is not a "
                                             f"provider{did_you_mean(resolved, self.providers)}; {known}"))
            return name
        return resolved

    def typed_args(self, action: str, args: Mapping[str, Any], source: Source, path: NodePath) -> None:
        """Templated whole numbers and durations of a step's action that render already."""
        for keys, kind in TYPED_ARGS.get(action, ()):
            value: Any = args
            for key in keys:
                value = value.get(key) if isinstance(value, Mapping) else None
            if isinstance(value, str) and has_template(value):
                self.typed(value, kind, source.at(path + (action, *keys)), ".".join((action, *keys)))

    def assertion(self, raw: Mapping[str, Any], source: Source, path: NodePath) -> None:
        """`count: "{{ n }}"`, `exit_code: "{{ code }}"`, `max_ms: "{{ limit }}"` rendering to no number."""
        for kind, typed in (("count", "number"), ("exit_code", "number"), ("max_ms", "ms")):
            value = raw.get(kind)
            if isinstance(value, str) and has_template(value):
                self.typed(value, typed, source.at(path + (kind,)), kind)

    def typed(self, value: str, kind: str, at: Location, what: str) -> None:
        ok, rendered = self._render(value, at, what, required=False)
        if not ok:
            return
        try:
            if kind == "number":
                whole(rendered, what, 0 if what != "exit_code" else None)
            elif kind == "ms":
                if isinstance(rendered, bool) or float(rendered) < 0:
                    raise ValueError(rendered)
            else:
                parse_duration(rendered)
        except (ValueError, TypeError):
            wanted = {"number": "a whole number", "ms": "a number of milliseconds"}.get(
                kind, "a duration (250ms, 5s, 2m or seconds)")
            self.problems.append(Problem(at, f"{what} {value!r} renders to {describe(rendered)}, "
                                             f"which is not {wanted}"))
