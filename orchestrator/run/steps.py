"""Step actions: each turns a StepSpec into result fields (and maybe an error)."""
from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any, Callable, Mapping

from orchestrator.errors import ErrorKind
from orchestrator.plan.model import CaseSpec, Plan, ProviderSpec, StepSpec
from orchestrator.plan.step_args import CallArgs, SleepArgs
from orchestrator.procs.api import CallOutcome, CallRequest, Pool
from orchestrator.procs import while_waiting
from orchestrator.records import record
from orchestrator.result.model import AssertionResult, ErrorInfo, InnerTest
from orchestrator.run.scope import CALL_FIELDS, NOTES
from orchestrator.plan.units import parse_duration
from orchestrator.run.promptfoo_call import call_context, call_options
from orchestrator.evaluation.templating import TemplateError, render


class CaseContext:
    """What the steps of one attempt share: template scope, pools, deadline, captured output.

    A plain slotted class, not a @mutable_record: one is made per attempt, and a record's
    __init__ sets each of its twelve fields through a descriptor call (~2 us a case)."""

    __slots__ = ("plan", "case", "pools", "variables", "stop", "deadline", "stdout", "stderr", "started_pids",
                 "spawned", "finalizers", "marker", "__weakref__")

    def __init__(self, plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], variables: dict[str, Any],
                 stop: threading.Event, deadline: float | None = None, stdout: list[str] | None = None,
                 stderr: list[str] | None = None, started_pids: set[int] | None = None,
                 spawned: dict[str, Any] | None = None, finalizers: list[Callable[[], None]] | None = None,
                 marker: str = "") -> None:
        self.plan = plan
        self.case = case
        self.pools = pools
        self.variables = variables
        self.stop = stop
        self.deadline = deadline  # time.monotonic() at which the case times out
        self.stdout: list[str] = [] if stdout is None else stdout
        self.stderr: list[str] = [] if stderr is None else stderr
        # Process steps (exec, spawn) record here what they start, for the leak check and cleanup.
        self.started_pids: set[int] = set() if started_pids is None else started_pids
        self.spawned: dict[str, Any] = {} if spawned is None else spawned  # spawn name -> handle
        self.finalizers: list[Callable[[], None]] = [] if finalizers is None else finalizers  # run last-first at the end
        self.marker = marker  # this attempt's case token (procs/markers.py): what it starts carries it

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def __repr__(self) -> str:
        return f"CaseContext(case={self.case.id!r}, deadline={self.deadline!r}, marker={self.marker!r})"


@record
class StepOutput:
    fields: dict[str, Any]
    error: ErrorInfo | None = None
    tests: tuple[InnerTest, ...] = ()  # what an exec's `junit:` file reported
    checks: tuple[AssertionResult, ...] = ()  # checks the action makes itself (the `junit:` file's verdict)
    # A call's answer as the provider returned it: its keys rank below variables in `expr`
    # and are all readable as `result.KEY` (orchestrator.run.scope).
    returned: Mapping[str, Any] | None = None


class StepTimedOut(Exception):
    """The case's own deadline ran out during a step."""


StepAction = Callable[[StepSpec, CaseContext], StepOutput]
_NUMBERS = (int, float)
_CALL_FIELDS = frozenset(CALL_FIELDS)


def seconds(value: Any, ctx: CaseContext) -> float | None:
    """A duration that may still be a template (`timeout: "{{ t }}"`), in seconds."""
    if value is None or isinstance(value, (int, float)):
        return value
    rendered = render(value, ctx.variables)
    try:
        return parse_duration(rendered)
    except ValueError as exc:
        raise TemplateError(f"{value!r} rendered to {rendered!r}: {exc}") from None


def effective_timeout(step: StepSpec, ctx: CaseContext, own: float | None = None) -> float | None:
    """The tightest of the step's timeout, the action's own, and what is left of the case's."""
    if step.timeout_s is None and ctx.deadline is None and (own is None or type(own) in _NUMBERS):
        return own  # the usual case: the action's own limit, nothing to render or compare
    limits = [t for t in (seconds(step.timeout_s, ctx), seconds(own, ctx), ctx.remaining()) if t is not None]
    return min(limits) if limits else None


def run_call(step: StepSpec, ctx: CaseContext) -> StepOutput:
    given = step.args_as(CallArgs)
    provider_id = str(given.provider)
    spec = ctx.plan.providers[provider_id]
    pool = ctx.pools.get(provider_id)
    if pool is None:
        return StepOutput({"output": None}, ErrorInfo(ErrorKind.UNSUPPORTED_PROVIDER,
                          f"provider '{provider_id}' ({spec.kind}) cannot be called in this version"))
    # The call's own vars first (in the case's scope); the rest of the step sees them too.
    call_vars = dict(render(given.vars, ctx.variables)) if given.vars else {}
    scope = {**ctx.variables, **call_vars} if call_vars else ctx.variables
    prompt = render(given.prompt, scope)
    # Arguments the step does not give (None) render to themselves: not rendered.
    options = None if given.options is None else render(given.options, scope)
    context = None if given.context is None else render(given.context, scope)
    session = None if given.session is None else render(given.session, scope)
    options = call_options(spec, ctx.plan, dict(options)) if options else _plain_options(spec, ctx.plan)
    request = provider_request(ctx, options, prompt, call_vars, context,
                               effective_timeout(step, ctx, spec.timeout_s), session)
    delayed_before = 0.0 if ctx.deadline is None else while_waiting.delayed_s()
    outcome = pool.call(request)
    if ctx.deadline is not None:  # the case's time is its own too: the previous case's report is not in it
        ctx.deadline += while_waiting.delayed_s() - delayed_before
    _capture(ctx, provider_id, outcome)
    error = _call_error(outcome)
    fields = call_fields(outcome, error)
    fields["provider"] = provider_id  # last, or where the provider's own `provider` was: usage totals are per provider
    if error and error.type == ErrorKind.TIMEOUT and ctx.deadline is not None and ctx.remaining() == 0.0:
        raise StepTimedOut(error.message)
    # fields, error, tests, checks, returned: by position
    return StepOutput(fields, error, (), (), dict(outcome.result) if outcome.result else {})


# The options of a step that gives none: the same for every call of a provider in a plan (a load
# step shares one dict across its requests too), so made once per provider. By id, with the spec
# itself and a weak reference to its plan telling whether the id is still theirs.
_PLAIN_OPTIONS: dict[int, tuple[ProviderSpec, weakref.ref[Plan], dict[str, Any]]] = {}


def _plain_options(spec: ProviderSpec, plan: Plan) -> dict[str, Any]:
    known = _PLAIN_OPTIONS.get(id(spec))
    if known is None or known[0] is not spec or known[1]() is not plan:
        options = call_options(spec, plan, {})
        base_path = options["config"].get("basePath") if spec.python_file is not None else None
        if base_path is not None and not os.path.isabs(base_path):
            return options  # a plan folder given relative to the current one: as call_options says each time
        if len(_PLAIN_OPTIONS) > 256:  # many plans loaded in one process (tests): start afresh
            _PLAIN_OPTIONS.clear()
        known = _PLAIN_OPTIONS[id(spec)] = (spec, weakref.ref(plan), options)
    return known[2]


def call_fields(outcome: CallOutcome, error: ErrorInfo | None) -> dict[str, Any]:
    """The call's fields: what the provider returned, then the fields the orchestrator measures
    (a returned key of the same name is kept only under `result.KEY`). `error`: _call_error's."""
    returned = outcome.result
    if returned is not None and len(returned) == 1 and "output" in returned and not outcome.notes:
        result: Mapping[str, Any] = returned  # the usual answer, {"output": ...}: nothing to leave out
    else:
        result = {k: v for k, v in (returned or {}).items() if k not in _CALL_FIELDS or k == "output"}
    worker = outcome.worker
    return {
        **result,
        **({NOTES: list(outcome.notes)} if outcome.notes else {}),
        "output": result.get("output"),
        "error": None if error is None else {"type": error.type, "message": error.message,
                                             "traceback": error.traceback},
        "duration_ms": round(outcome.duration_ms, 3),
        "worker": None if worker is None else {"pid": worker.pid, "index": worker.index,
                                               "calls": worker.calls, "restarts": worker.restarts},
    }


def _call_error(outcome: CallOutcome) -> ErrorInfo | None:
    if outcome.error is not None:
        return ErrorInfo(outcome.error.type, outcome.error.message, outcome.error.traceback)
    returned = (outcome.result or {}).get("error")
    if returned:  # promptfoo providers report failures as {"error": "..."}
        return ErrorInfo(ErrorKind.PROVIDER, str(returned))
    return None


def _capture(ctx: CaseContext, source: str, outcome: CallOutcome) -> None:
    if outcome.stdout:
        ctx.stdout.append(_labelled(source, outcome.stdout))
    if outcome.stderr:
        ctx.stderr.append(_labelled(source, outcome.stderr))


def _labelled(source: str, text: str) -> str:
    return "".join(f"[{source}] {line}" for line in text.splitlines(keepends=True)) + (
        "" if text.endswith("\n") else "\n")


def provider_request(ctx: CaseContext, options: Mapping[str, Any], prompt: Any, call_vars: Mapping[str, Any],
                     step_context: Mapping[str, Any] | None, timeout_s: float | None, session: Any) -> CallRequest:
    """One provider call, for `call` and for each request of `load`: promptfoo's context (the plan's
    and case's vars under the call's own, the case as `test`) and this attempt's ownership marker."""
    plan_vars, own_vars = ctx.plan.vars, ctx.case.vars
    case_vars = {k: v for k, v in ctx.variables.items() if k in plan_vars or k in own_vars} \
        if plan_vars or own_vars else {}
    context = call_context(ctx.case, prompt, {**case_vars, **call_vars}, step_context)
    # prompt, options, context, timeout_s, session, marker, case_id: by position
    return CallRequest(prompt, options, context, timeout_s, None if session is None else str(session),
                       ctx.marker or None, ctx.case.id)


def run_sleep(step: StepSpec, ctx: CaseContext) -> StepOutput:
    duration = seconds(step.args_as(SleepArgs).duration, ctx) or 0.0
    limit = effective_timeout(step, ctx)
    started = time.monotonic()
    stopped = ctx.stop.wait(duration if limit is None else min(duration, limit))
    slept = {"duration_ms": round((time.monotonic() - started) * 1000, 3)}
    if stopped:  # cut short: the step did not do what it says (and the case is interrupted, not passed)
        return StepOutput(slept, ErrorInfo(ErrorKind.INTERRUPTED, f"the run was interrupted during the sleep of {duration:g}s"))
    if limit is not None and duration > limit:
        raise StepTimedOut(f"sleep of {duration:g}s exceeds the time left")
    return StepOutput(slept)


def unsupported(step: StepSpec, ctx: CaseContext) -> StepOutput:
    return StepOutput({}, ErrorInfo(ErrorKind.UNSUPPORTED_STEP,
                                    f"the '{step.action}' step is not available in this version yet"))


ACTIONS: dict[str, StepAction] = {"call": run_call, "sleep": run_sleep}
