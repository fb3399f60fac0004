"""The plan model: what a validated plan file says, before anything runs.

Built by `orchestrator.plan.load`; read by `orchestrator.run`. Strings inside steps are still
Jinja2 templates here: they are rendered at run time, when `as:` results and vars are known.
"""
from __future__ import annotations

import sys
from dataclasses import field
from pathlib import Path
from typing import Any, Mapping, TypeVar, Union

from orchestrator.errors import Location, Problem
from orchestrator.plan.step_args import ActionArgs, CallArgs, Selector, SpawnArgs
from orchestrator.records import record
# The plan's vocabularies come from its schema (orchestrator.vocabulary); re-exported for the plan layer.
from orchestrator.vocabulary import ASSERTION_KINDS as ASSERTION_KINDS
from orchestrator.vocabulary import LEVELS as LEVELS
from orchestrator.vocabulary import PRIORITIES as PRIORITIES
from orchestrator.vocabulary import STEP_ACTIONS as STEP_ACTIONS
# The field an assertion reads when it has no `on:`, by step action.
MAIN_FIELD = {"call": "output", "exec": "stdout", "http": "text", "processes": "count", "load": "success_rate"}


@record
class ProviderSpec:
    id: str
    kind: str  # "python" | "http"
    location: Location
    cwd: Path  # the plan's directory: workers start here
    # python providers
    python_file: Path | None = None  # absolute
    function: str = "call_api"
    interpreter: str | None = None  # None: the orchestrator's own interpreter
    workers: int = 1
    mode: str = "persistent"  # | "ephemeral"
    timeout_s: float = 120.0
    startup_timeout_s: float = 60.0
    env: Mapping[str, str] = field(default_factory=dict)  # plan env + provider env, untemplated
    config: Mapping[str, Any] = field(default_factory=dict)
    max_calls: int | None = None
    max_rss_bytes: int | None = None
    affinity: str | None = None  # | "session"
    queue_timeout_s: float | None = None  # a call waiting longer for a free worker errors "pool busy"
    max_restarts: int | None = None  # a slot that fails to start this often in a row is given up
    # http providers
    url: str | None = None
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)


@record
class AssertionSpec:
    kind: str  # one of ASSERTION_KINDS, or a promptfoo type (plan/promptfoo_types.py)
    value: Any  # as written (strings may be templates)
    location: Location
    on: str | None = None  # field to read; None: MAIN_FIELD of the step's action
    threshold: float | None = None  # promptfoo's `threshold` (levenshtein, latency, cost)


@record
class ParallelArgs:
    """`parallel: [...]`: steps run at once (beside StepSpec because it holds steps)."""

    steps: tuple[StepSpec, ...]


StepArgs = Union[ActionArgs, ParallelArgs]
_Args = TypeVar("_Args")


@record
class StepSpec:
    """One step. `args` holds the action's parameters as written, typed per action
    (plan/step_args.py; `parallel`: ParallelArgs): strings may still be templates, durations
    written plainly are already seconds (float)."""

    action: str  # one of STEP_ACTIONS
    args: StepArgs
    location: Location
    name: str | None = None
    as_name: str | None = None
    expect: tuple[AssertionSpec, ...] = ()
    timeout_s: float | None = None
    always: bool = False
    condition: str | None = None  # `if:` expression; the step runs only when it is true

    @property
    def title(self) -> str:
        if self.name:
            return self.name
        args = self.args
        target = (args.provider if isinstance(args, CallArgs)
                  else args.name if isinstance(args, (SpawnArgs, Selector)) else None)
        # one string for every step of the same title ("call echo"): each case's result keeps it
        return sys.intern(f"{self.action} {target or ''}".strip())

    def args_as(self, kind: type[_Args]) -> _Args:
        """`args` as the type its action has: what the action's code reads."""
        if not isinstance(self.args, kind):
            raise TypeError(f"a '{self.action}' step has {type(self.args).__name__} arguments, not {kind.__name__}")
        return self.args


@record
class CaseSpec:
    id: str  # after matrix expansion: "E2E-006[n=1]"
    name: str
    location: Location
    steps: tuple[StepSpec, ...]
    description: str = ""
    level: str | None = None
    priority: str = "P2"
    tags: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    skip: str | None = None  # reason ("" is never used: `skip: true` becomes "skipped")
    xfail: str | None = None
    xfail_strict: bool = False  # an unexpected pass (XPASS) is a failure, as pytest's xfail_strict
    timeout_s: float | None = None
    retries: int = 0
    repeat: int = 1
    concurrency: int = 1
    vars: Mapping[str, Any] = field(default_factory=dict)  # case vars + matrix values + discover vars
    matrix: Mapping[str, Any] = field(default_factory=dict)  # this expansion's values only
    serial: bool = False  # runs alone: no other case at the same time
    lock: str | None = None  # cases naming the same lock never overlap
    stop_on_failure: bool = False  # with repeat: no new repetition after a failed one
    discovered: str | None = None  # a `discover` case: the file it was made from


@record
class RiskSpec:
    title: str
    likelihood: str | None = None
    impact: str | None = None


@record
class GateSpec:
    pass_rate: Mapping[str, float] = field(default_factory=dict)  # priority -> fraction 0..1
    max_flaky: int | None = None
    require_covered: tuple[str, ...] = ()
    location: Location | None = None


@record
class Plan:
    __slots__ = ("__weakref__",)  # run/ keeps per-plan memos by weak reference

    path: Path  # absolute
    name: str
    cases: tuple[CaseSpec, ...]
    title: str = ""
    description: str = ""
    vars: Mapping[str, Any] = field(default_factory=dict)  # after includes and --var overrides
    env: Mapping[str, str] = field(default_factory=dict)
    providers: Mapping[str, ProviderSpec] = field(default_factory=dict)
    requirements: Mapping[str, str] = field(default_factory=dict)
    risks: Mapping[str, RiskSpec] = field(default_factory=dict)
    gate: GateSpec | None = None
    secrets: tuple[str, ...] = ()  # environment variables whose values are masked in every report
    # Every variable name the plan declares (plan, case, matrix vars) or a template reads:
    # a --var naming none of them, in any selected plan, is a mistake (see load_plans).
    var_names: frozenset[str] = frozenset()
    warnings: tuple[Problem, ...] = ()  # "FILE:LINE:COL: warning: ..." the CLI prints; the plan is valid
    provider_leaks: str = "warn"  # | "fail": what provider calls leave fails the calling case

    @property
    def directory(self) -> Path:
        return self.path.parent

    def secret_values(self, environ: Mapping[str, str]) -> list[str]:
        """The values of the variables listed in `secrets`, wherever set: `environ` (the
        orchestrator's environment), the plan's `env`, a provider's `env`."""
        scopes = [environ, self.env, *(p.env for p in self.providers.values())]
        return [str(scope[name]) for name in self.secrets for scope in scopes if scope.get(name)]
