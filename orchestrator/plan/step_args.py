"""Each step action's arguments as a typed value, built once when the plan loads (plan/load.py)
and read by attribute when the step runs (run/).

The names are the schema's (`$defs/step` in schema/plan-v1.json; tests/unit/test_vocabulary.py
checks that each class has exactly its action's properties). Values are as written: a string
may still be a Jinja2 template, rendered only when the step runs (`rendered`, or the action
renders a field itself); durations written plainly are seconds already. None: not given.
`parallel`'s arguments hold steps, so they live beside StepSpec (plan/model.ParallelArgs).
"""
from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from dataclasses import field, fields, replace
from typing import Any, ClassVar, Mapping, Protocol, TypeVar, Union

from orchestrator.evaluation.templating import render
from orchestrator.records import record

Duration = Union[float, str, None]  # seconds, or a template that renders to a duration
Whole = Union[int, str]  # a whole number, or a template that renders to one


class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


A = TypeVar("A", bound=_Dataclass)


@record
class CallArgs:
    """`call: PROVIDER` and its sibling keys."""

    provider: str
    prompt: Any = ""
    vars: Mapping[str, Any] | None = None
    options: Mapping[str, Any] | None = None
    context: Mapping[str, Any] | None = None
    session: Any = None


@record
class ExecArgs:
    command: Any = None  # a list (argv) or a string
    code: str | None = None
    language: str | None = None
    env: Mapping[str, Any] | None = None
    cwd: str | None = None
    stdin: str | None = None
    junit: str | None = None
    shell: bool | str = False
    timeout: Duration = None


@record
class ReadyArgs:
    """`spawn: {ready: ...}`: when the process counts as started."""

    stdout_contains: str | None = None
    port: Whole | None = None
    delay: Duration = None


@record
class SpawnArgs:
    name: str
    command: Any = None
    code: str | None = None
    language: str | None = None
    env: Mapping[str, Any] | None = None
    cwd: str | None = None
    ready: ReadyArgs | None = None


@record
class SignalArgs:
    target: str
    signal: str | int = "SIGTERM"
    delay: Duration = None


@record
class Selector:
    """A process selector: the `processes` step's arguments, and `wait: {processes: ...}`."""

    of: str | None = None  # None: "run"
    cmdline: str | None = None
    name: str | None = None

    def as_written(self) -> dict[str, Any]:
        """The keys given, as error messages show the selector: {'of': 'srv', 'cmdline': 'x'}."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@record
class WaitArgs:
    exit: str | None = None  # a spawn name
    processes: Selector | None = None
    within: Duration = None
    count: Whole = 0


@record
class SleepArgs:
    """`sleep: DURATION`."""

    duration: Duration = 0.0


@record
class LoadArgs:
    call: str  # the provider id
    prompt: Any = ""
    requests: Whole | None = None
    duration: Duration = None
    concurrency: Whole = 1
    warmup: Whole = 0
    vars: Mapping[str, Any] | None = None
    options: Mapping[str, Any] | None = None
    session: Any = None


@record
class HttpArgs:
    url: str
    method: str | None = None  # None: POST when a json or body is given, else GET
    json: Any = None
    headers: Mapping[str, Any] | None = None
    body: str | None = None
    timeout: Duration = None
    # Whether `json:` or `body:` was written at all (`json: null` still makes the default a POST):
    # worked out by build_args, not a key of the plan.
    has_body: bool = field(default=False, metadata={"derived": True})


# The argument type of every action but `parallel` (plan/model.ParallelArgs), by action name.
ARGS_TYPES: Mapping[str, type] = {
    "call": CallArgs, "exec": ExecArgs, "spawn": SpawnArgs, "signal": SignalArgs, "wait": WaitArgs,
    "processes": Selector, "sleep": SleepArgs, "load": LoadArgs, "http": HttpArgs,
}
ActionArgs = Union[CallArgs, ExecArgs, SpawnArgs, SignalArgs, WaitArgs, Selector, SleepArgs, LoadArgs, HttpArgs]


def build_args(action: str, given: Mapping[str, Any]) -> ActionArgs:
    """The typed arguments of `action` from its keys as the plan gives them (validated by the
    schema: every key is a field of the action's type)."""
    values = dict(given)
    # collections.abc's Mapping: typing's answers the same, ~20x slower (asked for every step)
    if isinstance(values.get("ready"), AnyMapping):
        values["ready"] = ReadyArgs(**values["ready"])
    if action == "wait" and isinstance(values.get("processes"), AnyMapping):
        values["processes"] = Selector(**values["processes"])
    if action == "http":
        values["has_body"] = "json" in values or "body" in values
    built: ActionArgs = ARGS_TYPES[action](**values)
    return built


def rendered(args: A, variables: Mapping[str, Any]) -> A:
    """`args` with every template in it rendered (nested argument types too), as a step that
    uses all its arguments at once renders them."""
    changes = {}
    for f in fields(args):
        value = getattr(args, f.name)
        nested = isinstance(value, (ReadyArgs, Selector))
        changes[f.name] = rendered(value, variables) if nested else render(value, variables)
    return replace(args, **changes)


__all__ = ["ARGS_TYPES", "ActionArgs", "CallArgs", "Duration", "ExecArgs", "HttpArgs", "LoadArgs", "ReadyArgs",
           "Selector", "SignalArgs", "SleepArgs", "SpawnArgs", "WaitArgs", "Whole", "build_args", "rendered"]
