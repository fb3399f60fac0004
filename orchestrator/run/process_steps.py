"""Process steps: exec, spawn, signal, wait, processes. They turn step args into requests for
`orchestrator.procs` (which does all the process work) and outcomes into result fields.

Every pid a case starts goes into `ctx.started_pids` for the leak check; spawns register a
finalizer that kills their tree when the case ends and puts their output in the case log.
"""
from __future__ import annotations

import functools
from dataclasses import replace
import os
import random
import time
from pathlib import Path
from typing import Any, TypeVar, Union

from orchestrator.errors import ErrorKind
from orchestrator.plan.model import StepSpec
from orchestrator.plan.step_args import ExecArgs, ReadyArgs, Selector, SignalArgs, SpawnArgs, WaitArgs, rendered
from orchestrator.plan.semantic import SELECTOR_SCOPES
from orchestrator.plan.units import parse_duration
from orchestrator.procs import leaks, markers
from orchestrator.procs.command import CommandError, CommandRequest, argv_for, run_command, start_error
from orchestrator.procs.exits import exit_description, signal_name
from orchestrator.procs.ports import listener
from orchestrator.procs.spawned import Ready, Spawned, parse_signal, send_signal
from orchestrator.result.model import ErrorInfo
from orchestrator.run.junit_input import JUnitFile, Where
from orchestrator.run.process_select import StepProblem, ended_spawn, pool_named, snapshot, spawn_named
from orchestrator.run.steps import CaseContext, StepAction, StepOutput, StepTimedOut, effective_timeout
from orchestrator.evaluation.values import whole
from orchestrator.evaluation.templating import render

A = TypeVar("A", ExecArgs, SpawnArgs, SignalArgs, WaitArgs, Selector)
SPAWN_READY_TIMEOUT_S = 30.0
WAIT_WITHIN_S = 10.0
_POLL_S = 0.02


def _guarded(action: StepAction) -> StepAction:
    @functools.wraps(action)
    def run(step: StepSpec, ctx: CaseContext) -> StepOutput:
        try:
            output = action(step, ctx)
        except StepProblem as exc:
            output = StepOutput({}, ErrorInfo(exc.kind, str(exc)))
        except CommandError as exc:
            output = StepOutput({}, ErrorInfo(ErrorKind.INVALID_STEP, str(exc)))
        # `error:` / `no_error:` assertions read this field, as they do for calls
        error = None if output.error is None else {"type": output.error.type, "message": output.error.message}
        return replace(output, fields={**output.fields, "error": error})
    return run


# -- shared -------------------------------------------------------------------------------------

def _args(step: StepSpec, ctx: CaseContext, kind: type[A]) -> A:
    return rendered(step.args_as(kind), ctx.variables)


def _seconds(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise StepProblem(ErrorKind.INVALID_STEP, f"{what}: {exc}") from None


def _process_setup(args: Union[ExecArgs, SpawnArgs], ctx: CaseContext,
                   shell: bool = False) -> tuple[list[str], str, dict[str, str]]:
    argv = argv_for(args.command, shell=shell, code=args.code, language=args.language)
    cwd = Path(str(args.cwd or "."))
    cwd = cwd if cwd.is_absolute() else ctx.plan.directory / cwd
    if not cwd.is_dir():
        raise StepProblem("OSError", f"cwd does not exist or is not a directory: {cwd}")
    plan_env = render(dict(ctx.plan.env), ctx.variables)
    env = {**os.environ, **{k: str(v) for k, v in plan_env.items()},
           **{str(k): str(v) for k, v in (args.env or {}).items()}}
    return argv, str(cwd), markers.marked_env(env, markers.case_value(ctx.plan.name, ctx.marker), ctx.case.id)


def _started(ctx: CaseContext, pid: int, seen: tuple[int, ...] = ()) -> None:
    leaks.note_started(pid)
    ctx.started_pids.add(pid)
    ctx.started_pids.update(seen)


def _append_output(ctx: CaseContext, handle: Spawned) -> None:
    output = handle.take_output()
    if output is None:
        return
    for text, sink in zip(output, (ctx.stdout, ctx.stderr)):
        if text:
            sink.append("".join(f"[{handle.name}] {line}" for line in text.splitlines(keepends=True))
                        + ("" if text.endswith("\n") else "\n"))


def _case_ran_out(ctx: CaseContext) -> bool:
    return ctx.deadline is not None and ctx.remaining() == 0.0


# -- exec ---------------------------------------------------------------------------------------

def run_exec(step: StepSpec, ctx: CaseContext) -> StepOutput:
    args = _args(step, ctx, ExecArgs)
    argv, cwd, env = _process_setup(args, ctx, shell=bool(args.shell))
    leaks.become_subreaper()
    stdin = args.stdin
    timeout = effective_timeout(step, ctx, _seconds(args.timeout, "exec timeout"))
    junit = _junit_file(args.junit, cwd, ctx)
    outcome = run_command(CommandRequest(argv=argv, cwd=cwd, env=env, timeout_s=timeout,
                                         stdin=None if stdin is None else str(stdin)), ctx.stop)
    if outcome.pid is not None:
        _started(ctx, outcome.pid, outcome.descendants)
    fields = {"stdout": outcome.stdout, "stderr": outcome.stderr, "exit_code": outcome.exit_code,
              "signal": outcome.signal, "timed_out": outcome.timed_out,
              "duration_ms": outcome.duration_ms, "pid": outcome.pid}
    if outcome.timed_out and _case_ran_out(ctx):
        raise StepTimedOut(outcome.error_message)
    error = None if outcome.error_type is None else ErrorInfo(outcome.error_type, outcome.error_message)
    if junit is None:
        return StepOutput(fields, error)
    tests, checks, counts = junit.collect(step_failed=error is not None)
    return StepOutput({**fields, "tests": counts}, error, tests, checks)


def _junit_file(value: Any, cwd: str, ctx: CaseContext) -> JUnitFile | None:
    if value is None:
        return None
    if not str(value).strip():
        raise StepProblem(ErrorKind.INVALID_STEP, "junit: the path of the JUnit file is empty")
    path = Path(str(value))
    shown = ctx.case.location.file
    relative_to = None if os.path.isabs(shown) else Path.cwd()
    return JUnitFile(path if path.is_absolute() else Path(cwd) / path, Where(Path(cwd), relative_to))


# -- spawn --------------------------------------------------------------------------------------

def run_spawn(step: StepSpec, ctx: CaseContext) -> StepOutput:
    args = _args(step, ctx, SpawnArgs)
    name = str(args.name or "").strip()
    if not name:
        raise StepProblem(ErrorKind.INVALID_STEP, "spawn needs a 'name' (steps refer to it by name)")
    if name in ctx.spawned:
        raise StepProblem(ErrorKind.INVALID_STEP, f"a spawn named '{name}' already exists in this case")
    if name in SELECTOR_SCOPES:  # a template rendered to one (written plainly, validate says so)
        raise StepProblem(ErrorKind.INVALID_STEP, f"a spawn cannot be named '{name}': "
                          f"{', '.join(SELECTOR_SCOPES)} are process selectors")
    argv, cwd, env = _process_setup(args, ctx)
    ready = _ready(args.ready)
    own = SPAWN_READY_TIMEOUT_S if step.timeout_s is None else None
    limit = effective_timeout(step, ctx, own)
    if ready.port is not None:
        taken = listener(ready.port)
        if taken is not None:  # a stale server must not answer for the new one
            return StepOutput({"pid": None, "name": name}, ErrorInfo(
                "PortTaken", f"spawn '{name}': port {ready.port} is already taken by {taken.describe()} "
                "before the spawn started"))
    leaks.become_subreaper()
    handle = Spawned(name, argv, cwd=cwd, env=env)
    try:
        handle.start()
    except OSError as exc:
        handle.take_output()
        return StepOutput({"pid": None}, ErrorInfo(*start_error(argv, exc)))
    _started(ctx, handle.pid)
    ctx.spawned[name] = handle

    def finish() -> None:
        handle.stop(only_if_running=True)  # an exited root's leftovers are the leak check's
        _append_output(ctx, handle)

    ctx.finalizers.append(finish)
    began = time.monotonic()
    problem = handle.wait_ready(ready, SPAWN_READY_TIMEOUT_S if limit is None else limit, ctx.stop)
    fields = {"pid": handle.pid, "name": name, "ready_ms": round((time.monotonic() - began) * 1000, 3)}
    if problem is None:
        if ready.port is not None:
            owner = listener(ready.port)
            fields.update(port_pid=None if owner is None else owner.pid,
                          port_cmdline=None if owner is None else owner.cmdline)
        return StepOutput(fields)
    if problem.timed_out and _case_ran_out(ctx):
        raise StepTimedOut(problem.message)
    kind = ErrorKind.TIMEOUT if problem.timed_out else ErrorKind.SPAWN_EXITED
    return StepOutput(fields, ErrorInfo(kind, problem.message))


def _ready(value: ReadyArgs | None) -> Ready:
    if value is None:
        return Ready()
    port = value.port
    return Ready(stdout_contains=None if value.stdout_contains is None else str(value.stdout_contains),
                 port=None if port is None else _whole(port, "ready port"),
                 delay_s=_seconds(value.delay, "ready delay"))


def _whole(value: Any, what: str) -> int:
    try:
        return whole(value, what, 0)
    except ValueError as exc:
        raise StepProblem(ErrorKind.INVALID_STEP, str(exc)) from None


# -- signal -------------------------------------------------------------------------------------

def run_signal(step: StepSpec, ctx: CaseContext) -> StepOutput:
    args = _args(step, ctx, SignalArgs)
    target = str(args.target or "")
    try:
        sig = parse_signal(args.signal)
    except ValueError as exc:
        raise StepProblem(ErrorKind.INVALID_STEP, str(exc)) from None
    delay = _seconds(args.delay, "signal delay")
    if delay:  # e.g. inside `parallel`, to hit a load that is already under way
        limit = effective_timeout(step, ctx)
        ctx.stop.wait(delay if limit is None else min(delay, limit))
        if ctx.stop.is_set():
            return StepOutput({"pids": [], "signal": sig.name}, ErrorInfo(ErrorKind.INTERRUPTED, "run stopped before the signal"))
        if limit is not None and delay > limit:
            raise StepTimedOut(f"signal delay of {delay:g}s exceeds the time left")
    if target.startswith("provider:"):
        provider, _sep, pick = target[len("provider:"):].partition("#")
        pids = pool_named(ctx, provider).pids()
        if not pids:
            raise StepProblem("NoProcess", f"provider '{provider}' has no live worker to signal")
        if pick == "random":
            pids = [random.choice(pids)]
        elif pick:
            raise StepProblem(ErrorKind.INVALID_STEP, f"unknown selector '#{pick}' in '{target}' (use #random)")
        sent = send_signal(pids, sig)
    else:
        handle = spawn_named(ctx, target)
        sent = handle.send(sig)
        if not sent:
            raise StepProblem("NoProcess", f"spawn '{target}' has already exited; {sig.name} not sent")
    return StepOutput({"pids": sent, "signal": sig.name})


# -- processes and wait -------------------------------------------------------------------------

def run_processes(step: StepSpec, ctx: CaseContext) -> StepOutput:
    return StepOutput(snapshot(_args(step, ctx, Selector), ctx))


def run_wait(step: StepSpec, ctx: CaseContext) -> StepOutput:
    args = _args(step, ctx, WaitArgs)
    within = _seconds(args.within, "wait within") or WAIT_WITHIN_S
    limit = effective_timeout(step, ctx, within)
    limit = within if limit is None else limit
    began = time.monotonic()
    if args.exit is not None:
        handle = spawn_named(ctx, str(args.exit))
        code = handle.wait_exit(limit, ctx.stop)
        waited = round((time.monotonic() - began) * 1000, 3)
        if code is None:
            if _case_ran_out(ctx):
                raise StepTimedOut(f"spawn '{handle.name}' still running")
            return StepOutput({"exit_code": None, "waited_ms": waited}, ErrorInfo(
                ErrorKind.TIMEOUT, f"spawn '{handle.name}' still running after {limit:g}s"))
        _append_output(ctx, handle)
        return StepOutput({"exit_code": code if code >= 0 else None, "signal": signal_name(code),
                           "waited_ms": waited})
    if args.processes is None:
        raise StepProblem(ErrorKind.INVALID_STEP, "wait needs 'exit: SPAWN' or 'processes: SELECTOR'")
    selector = args.processes
    wanted = _whole(args.count, "wait count")
    while True:
        fields = snapshot(selector, ctx)
        waited = round((time.monotonic() - began) * 1000, 3)
        if fields["count"] == wanted:
            return StepOutput({**fields, "waited_ms": waited})
        if ctx.stop.is_set():  # cut short: what it waited for did not happen (the case is interrupted, not passed)
            return StepOutput({**fields, "waited_ms": waited}, ErrorInfo(
                ErrorKind.INTERRUPTED, f"the run was interrupted with {fields['count']} of the {wanted} "
                f"process(es) matching {selector.as_written()}"))
        ended = ended_spawn(selector, ctx) if fields["count"] < wanted else None
        if ended is not None:  # nothing is left that could start the missing processes
            fields = snapshot(selector, ctx)  # as of its end: what was counted above may have exited since
            tail = ended.stderr_tail()
            return StepOutput({**fields, "waited_ms": waited}, ErrorInfo(
                ErrorKind.PROCESS_EXITED, f"spawn '{ended.name}' {exit_description(ended.poll() or 0)} with "
                f"{fields['count']} of the {wanted} process(es) matching {selector.as_written()}"
                + (f"; stderr ends with:\n{tail}" if tail else " (no stderr)")))
        if time.monotonic() - began >= limit:
            if _case_ran_out(ctx):
                raise StepTimedOut("processes still running")
            shown = "; ".join(f"pid {p} ({c})" for p, c in zip(fields["pids"], fields["cmdlines"]))
            return StepOutput({**fields, "waited_ms": waited}, ErrorInfo(
                ErrorKind.TIMEOUT, f"{fields['count']} process(es) matching {selector.as_written()} still running after "
                f"{limit:g}s (expected {wanted}): {shown}"))
        time.sleep(_POLL_S)


PROCESS_ACTIONS: dict[str, StepAction] = {
    "exec": _guarded(run_exec), "spawn": _guarded(run_spawn), "signal": _guarded(run_signal),
    "wait": _guarded(run_wait), "processes": _guarded(run_processes),
}
