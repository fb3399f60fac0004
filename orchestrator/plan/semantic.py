"""Checks the schema cannot express: names that must exist, templates, regexes, provider files."""
from __future__ import annotations

import signal
from typing import AbstractSet, Any, Iterable

from orchestrator.evaluation import regex_safety
from orchestrator.errors import Problem
from orchestrator.plan import names
from orchestrator.plan.expand import DISCOVER_VARS, Context, Field
from orchestrator.plan.names_read import expression_error, expression_names, template_names
from orchestrator.plan.promptfoo_types import problems as promptfoo_problems
from orchestrator.plan.python_files import module_names, split_python
from orchestrator.plan.shadowing import case_warnings, warnings_for
from orchestrator.plan.suggest import did_you_mean, missing_file
from orchestrator.plan.yaml_load import NodePath, Source
from orchestrator.evaluation.templating import has_template

SIGNALS = sorted(s.name for s in signal.Signals if not s.name.startswith("SIG_"))
BUILTIN_NAMES = names.BUILTIN_NAMES
SELECTOR_SCOPES = ("case", "plan", "run", "machine")  # `of:` values that are not spawn names


class Checker:
    """Collects problems for one plan; one instance per load."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.problems: list[Problem] = []
        self.read: set[str] = set()  # every name a template or expression reads (for --var)
        self.bound: set[str] = set()  # names steps bind (as:, a call's vars): a --var cannot set them
        self.warnings: list[Problem] = []  # the plan is valid, but probably not what was meant
        self.actions: set[str] = set()  # step actions used by any case
        self.providers = sorted(k for k, f in ctx.sections["providers"].items())
        self._plan_scope: frozenset[str] | None = None  # the plan's vars and the built-ins
        self._defined: list[str] | None = None  # what `covers` may name

    def add(self, source: Source, path: NodePath, message: str) -> None:
        self.problems.append(Problem(source.at(path), message))

    # providers ------------------------------------------------------------------------------
    def providers_exist(self) -> None:
        for spec in self.ctx.sections["providers"].values():
            if isinstance(spec.value, dict) and isinstance(spec.value.get("python"), str) \
                    and self.ctx.clean(spec.source, spec.path + ("python",)):
                self._python_provider(spec)

    def _python_provider(self, spec: Field) -> None:
        file_name, function = split_python(spec.value["python"])
        path = spec.path + ("python",)
        target = spec.source.directory / file_name
        if not target.is_file():
            self.add(spec.source, path, missing_file(spec.source.directory, file_name))
            return
        names, error = module_names(str(target.resolve()), target.stat().st_mtime_ns)
        if error:
            self.add(spec.source, path, f"{target.name} does not parse: {error}")
        elif function not in names:
            self.add(spec.source, path, f"function '{function}' not found in {target.name}"
                                        f"{did_you_mean(function, names)}")

    def provider_named(self, name: Any, source: Source, path: NodePath) -> None:
        if not isinstance(name, str) or has_template(name) or name in self.providers:
            return
        known = f"defined providers: {', '.join(self.providers)}" if self.providers else "no providers are defined"
        self.add(source, path, f"unknown provider '{name}'{did_you_mean(name, self.providers)}; {known}")

    # cases ----------------------------------------------------------------------------------
    def case(self, keys: dict[str, Field], entry: Field) -> None:
        for key in ("steps",) if "discover" in keys else ("name", "steps"):
            if key not in keys and key not in entry.value:
                self.add(entry.source, entry.path, f"missing required key '{key}'")
        if "covers" in keys:
            defined = self.coverable()
            for i, key in enumerate(keys["covers"].value):
                if key not in defined:
                    self.add(keys["covers"].source, keys["covers"].path + (i,),
                             f"'{key}' is not defined in requirements or risks{did_you_mean(str(key), defined)}")
        scope = set(self.plan_scope())
        if "vars" in keys:
            self.templates(keys["vars"].value, keys["vars"].source, keys["vars"].path, scope)
            scope |= set(keys["vars"].value)
        if "matrix" in keys:
            scope |= set(keys["matrix"].value)
        if "discover" in keys:
            scope |= set(DISCOVER_VARS)
        if "steps" in keys and isinstance(keys["steps"].value, list):
            steps = keys["steps"]
            spawns = spawn_names(steps.value)
            for i, step in enumerate(steps.value):
                self.step(step, steps.source, steps.path + (i,), scope, spawns)
            self._shadowing(keys, steps)

    def plan_scope(self) -> frozenset[str]:
        """What every case's templates may read: the plan's vars and the built-ins."""
        if self._plan_scope is None:  # the plan's vars are merged before any case is checked
            self._plan_scope = frozenset(self.ctx.vars) | BUILTIN_NAMES
        return self._plan_scope

    def _shadowing(self, keys: dict[str, Field], steps: Field) -> None:
        actions, found = case_warnings(keys, steps)
        self.actions |= actions
        self.warnings.extend(found)

    def plan_vars(self) -> None:
        """Warn about plan variables that the fields of steps some case uses hide."""
        declared = {k: (f.source, f.path) for k, f in self.ctx.sections["vars"].items()}
        self.warnings.extend(warnings_for(declared, self.actions, "variable"))

    def coverable(self) -> list[str]:
        if self._defined is None:
            data = self.ctx.main.data
            self._defined = [str(k) for section in ("requirements", "risks") if isinstance(data.get(section), dict)
                             for k in data[section]]
        return self._defined

    def gate(self) -> None:
        gate = self.ctx.main.data.get("gate")
        rates = gate.get("pass_rate") if isinstance(gate, dict) else None
        for priority, rate in (rates.items() if isinstance(rates, dict) else ()):
            if isinstance(rate, float) and rate != rate:  # NaN passes every JSON Schema bound
                self.add(self.ctx.main, ("gate", "pass_rate", priority), f"'{priority}' must be a percentage "
                         "from 0% to 100% like 95%, or a fraction from 0 to 1 like 0.95, got .nan")
        if not isinstance(gate, dict) or not isinstance(gate.get("require_covered"), list):
            return
        defined = self.coverable()
        for i, key in enumerate(gate["require_covered"]):
            if key not in defined:
                self.add(self.ctx.main, ("gate", "require_covered", i),
                         f"'{key}' is not defined in requirements or risks{did_you_mean(str(key), defined)}")

    def defaults(self) -> None:
        """`defaults: {xfail: {strict: true}}` reads like a plan-wide strictness, but would mark
        every case as expected to fail (tolerating its failures): say what to write instead."""
        default = self.ctx.sections["defaults"].get("xfail")
        if default is not None and isinstance(default.value, dict) and not default.value.get("reason") \
                and self.ctx.clean(default.source, default.path):
            self.add(default.source, default.path, "xfail in defaults marks every case as expected to fail; "
                     "for strict xfail across the plan write 'xfail_strict: true' in defaults")

    # steps ----------------------------------------------------------------------------------
    def step(self, step: Any, source: Source, path: NodePath, scope: set[str], spawns: set[str]) -> None:
        """Check one step; names it binds with `as:` are added to `scope` for later steps."""
        if not isinstance(step, dict):
            return
        # A misspelt key must not hide a misspelt provider in the same step: each key is checked
        # when it is itself clean, so one pass shows every problem.
        if self.ctx.broken(source, path):
            return self._bind(step, scope)
        clean = step if not self.ctx.bad else {key: value for key, value in step.items()
                                                if self.ctx.clean(source, path + (key,))}
        action = next((a for a in step if a in _ACTIONS), None)
        # the sub-steps of a `parallel` are each checked on their own, clean or not
        if action is not None and (action in clean or action == "parallel" and isinstance(step[action], list)):
            checked = step if clean is step else {**clean, action: step[action]}  # the handlers only read it
            _ACTIONS[action](self, checked, source, path, scope, spawns)
        if isinstance(clean.get("if"), str):
            self.expression(clean["if"], source, path + ("if",), scope)
        expect = step.get("expect")
        if action is not None and isinstance(expect, list):
            own = names.expect_scope(action, scope, step.get("as"))
            for i, spec in enumerate(expect):
                if self.ctx.clean(source, path + ("expect", i)):
                    self.assertion(spec, source, path + ("expect", i), own, action in names.OPEN_RESULTS)
        self._bind(step, scope)

    def _bind(self, step: dict[str, Any], scope: set[str]) -> None:
        if isinstance(step.get("as"), str):
            scope.add(step["as"])
            self.bound.add(step["as"])

    def _call(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str], _: set[str]) -> None:
        self.provider_named(step["call"], source, path + ("call",))
        # As in promptfoo, a call's vars are template variables of its prompt (and of its other
        # fields) as well as context["vars"] for the provider; they are rendered first, in the
        # outer scope, so they cannot refer to each other.
        call_vars = {str(k) for k in step["vars"]} if isinstance(step.get("vars"), dict) else set()
        self.bound |= call_vars
        for key in ("call", "prompt", "vars", "options", "context", "session"):
            if key in step:
                self.templates(step[key], source, path + (key,),
                               scope if key == "vars" or not call_vars else scope | call_vars, call_vars)

    def _load(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str], _: set[str]) -> None:
        self.provider_named(step["load"].get("call"), source, path + ("load", "call"))
        self.templates(step["load"], source, path + ("load",), scope | {"i"})

    def _process(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str],
                 spawns: set[str]) -> None:
        action = "exec" if "exec" in step else "spawn"
        args, at = step[action], path + (action,)
        if ("command" in args) == ("code" in args):
            self.add(source, at, f"{action} needs exactly one of 'command' or 'code'")
        elif "language" in args and "code" not in args:
            self.add(source, at + ("language",), "'language' goes with 'code'")
        if action == "spawn" and args.get("name") in SELECTOR_SCOPES:
            self.add(source, at + ("name",), f"a spawn cannot be named '{args['name']}': "
                     f"{', '.join(SELECTOR_SCOPES)} are process selectors (`of: {args['name']}`)")
        ready = args.get("ready")
        if isinstance(ready, dict) and len(ready) != 1:
            self.add(source, at + ("ready",), "ready needs exactly one of stdout_contains, port, delay")
        self.templates(args, source, at, scope)

    def _signal(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str],
                spawns: set[str]) -> None:
        args = step["signal"]
        self.target(args.get("target"), source, path + ("signal", "target"), spawns)
        name = args.get("signal")
        if isinstance(name, str) and not has_template(name):
            full = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
            if full not in SIGNALS:
                self.add(source, path + ("signal", "signal"), f"unknown signal '{name}'{did_you_mean(full, SIGNALS)}")
        self.templates(args, source, path + ("signal",), scope)

    def _wait(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str],
              spawns: set[str]) -> None:
        args = step["wait"]
        if ("exit" in args) == ("processes" in args):
            self.add(source, path + ("wait",), "wait needs exactly one of 'exit' or 'processes'")
        if "exit" in args:
            self.target(args["exit"], source, path + ("wait", "exit"), spawns, providers=False)
        if isinstance(args.get("processes"), dict):
            self.target(args["processes"].get("of"), source, path + ("wait", "processes", "of"), spawns, run=True)
        self.templates(args, source, path + ("wait",), scope)

    def _processes(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str],
                   spawns: set[str]) -> None:
        self.target(step["processes"].get("of"), source, path + ("processes", "of"), spawns, run=True)
        self.templates(step["processes"], source, path + ("processes",), scope)

    def _plain(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str], _: set[str]) -> None:
        action = "http" if "http" in step else "sleep"
        self.templates(step[action], source, path + (action,), scope)

    def _parallel(self, step: dict[str, Any], source: Source, path: NodePath, scope: set[str],
                  spawns: set[str]) -> None:
        bound: set[str] = set()
        for i, sub in enumerate(step["parallel"]):
            inner = set(scope)
            self.step(sub, source, path + ("parallel", i), inner, spawns)
            bound |= inner - scope
        scope |= bound  # results of parallel steps are there once they all finished

    def target(self, name: Any, source: Source, path: NodePath, spawns: set[str], *,
               providers: bool = True, run: bool = False) -> None:
        if not isinstance(name, str) or has_template(name) or (run and name in SELECTOR_SCOPES):
            return
        if providers and name.startswith("provider:"):
            self.provider_named(name[len("provider:"):].split("#", 1)[0], source, path)
            return
        if name not in spawns:
            what = "a spawn name" + (", provider:ID" if providers else "") + (
                " or one of " + ", ".join(SELECTOR_SCOPES) if run else "")
            known = f"; spawned in this case: {', '.join(sorted(spawns))}" if spawns else ""
            self.add(source, path, f"unknown process '{name}': give {what}{did_you_mean(name, spawns)}{known}")

    # assertions and templates -----------------------------------------------------------------
    def assertion(self, spec: Any, source: Source, path: NodePath, scope: set[str], open_result: bool) -> None:
        if not isinstance(spec, dict) or not self.ctx.clean(source, path):
            return
        if "type" in spec:
            for key, message in promptfoo_problems(spec):
                self.add(source, path + (key,), message)
        kind = _PROMPTFOO.get(str(spec.get("type")), spec.get("type")) if "type" in spec else \
            next((k for k in spec if k != "on"), None)
        value_key = "value" if "type" in spec else kind
        value = spec.get(value_key)
        at = path + (str(value_key),)
        if kind == "expr" and isinstance(value, str):
            self.expression(value, source, at, scope, open_result)
            return
        if kind == "matches":
            self.regex(value, source, at)
        if kind == "json" and isinstance(value, dict) and "matches" in value:
            self.regex(value["matches"], source, at + ("matches",))
        if kind == "equals_file" and isinstance(value, str) and not has_template(value) \
                and not (source.directory / value).is_file():
            self.add(source, at, missing_file(source.directory, value))
        self.templates(value, source, at, scope, open_result=open_result)

    def regex(self, pattern: Any, source: Source, path: NodePath) -> None:
        if isinstance(pattern, str) and not has_template(pattern):
            why = regex_safety.problem(pattern)
            if why is not None:
                self.add(source, path, f"invalid regex '{pattern}': {why}")

    def expression(self, text: str, source: Source, path: NodePath, scope: set[str], open_result: bool = False) -> None:
        error = expression_error(text)
        if error:
            self.add(source, path, error)
            return
        found = expression_names(text)
        if not isinstance(found, str):
            self.names(found, source, path, scope, open_result=open_result)

    def names(self, found: AbstractSet[str], source: Source, path: NodePath, scope: set[str], *,
              open_result: bool = False, call_vars: AbstractSet[str] = frozenset()) -> None:
        self.read |= found
        bound = scope - BUILTIN_NAMES - names.ALL_FIELDS  # the plan's vars and as: names
        for message in names.unknown_names(found, scope, bound=bound, open_result=open_result, call_vars=call_vars):
            self.add(source, path, message)

    def templates(self, value: Any, source: Source, path: NodePath, scope: set[str],
                  call_vars: AbstractSet[str] = frozenset(), *, open_result: bool = False) -> None:
        """Every template string inside `value` must compile and read only names in `scope`."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.templates(item, source, path + (key,), scope, call_vars, open_result=open_result)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.templates(item, source, path + (i,), scope, call_vars, open_result=open_result)
        elif isinstance(value, str) and has_template(value):
            found = template_names(value)
            if isinstance(found, str):
                self.add(source, path, found)
                return
            self.names(found, source, path, scope, open_result=open_result, call_vars=call_vars)


_ACTIONS = {"call": Checker._call, "load": Checker._load, "exec": Checker._process, "spawn": Checker._process,
            "signal": Checker._signal, "wait": Checker._wait, "processes": Checker._processes,
            "http": Checker._plain, "sleep": Checker._plain, "parallel": Checker._parallel}
_PROMPTFOO = {"not-contains": "not_contains", "starts-with": "starts_with", "regex": "matches", "not-regex": "matches"}


def spawn_names(steps: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for step in steps:
        if isinstance(step, dict) and isinstance(step.get("spawn"), dict) and isinstance(step["spawn"].get("name"), str):
            names.add(step["spawn"]["name"])
        if isinstance(step, dict) and isinstance(step.get("parallel"), list):
            names |= spawn_names(step["parallel"])
    return names
