"""Running one case: its steps in order, then the verdict. Exceptions become statuses here."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from typing import Any, Mapping, Sequence

from orchestrator.errors import ErrorKind
from orchestrator.plan.model import CaseSpec, ParallelArgs, Plan, StepSpec
from orchestrator.procs.api import Pool
from orchestrator.procs.markers import new_case_token
from orchestrator.procs.memory import PeakSampler, attribute_starts, started_here
from orchestrator.procs import while_waiting
from orchestrator.procs.while_waiting import own_clock
from orchestrator.result.model import Attempt, CaseResult, ErrorInfo, Status, StepResult
from orchestrator.result.step_fields import CallFields, step_fields
from orchestrator.result.trim import LOG_KEEP_CHARS, stored_step, trimmed_text
from orchestrator.run.assertions import check
from orchestrator.run.actions import action_for
from orchestrator.run.schedule import case_providers
from orchestrator.run.free_ports import FreePorts
from orchestrator.run.scope import ALTERNATIVE_MAIN, NOTES, returned_names, shadow_notes
from orchestrator.run.steps import CaseContext, StepOutput, StepTimedOut
from orchestrator.run.tmp_scan import forget_case, may_read_tmp
from orchestrator.run.pool_stats import ProviderStats
from orchestrator import eval_clock
from orchestrator.eval_clock import case_deadline
from orchestrator.evaluation.templating import TemplateError, evaluate, render


def case_variables(plan: Plan, case: CaseSpec, environ: Mapping[str, str] | None = None,
                   tmp: str | None = None) -> dict[str, Any]:
    """The names a case's templates see. `environ`: a snapshot of os.environ taken once per run
    (copying os.environ costs ~0.2 ms, a third of a trivial case); `tmp`: the attempt's folder."""
    base: dict[str, Any] = {"tmp": tmp, **plan.vars, "plan_dir": _plan_dir(plan),
                            "env": dict(os.environ) if environ is None else environ,
                            "free_port": FreePorts()}  # one per attempt
    if not case.vars:
        return base  # a fresh dict already
    return {**base, **render(dict(case.vars), base)}


def _plan_dir(plan: Plan) -> str:
    """`plan_dir`, worked out once per plan (a Path's text is rebuilt on every str())."""
    global _LAST_PLAN_DIR
    known = _LAST_PLAN_DIR  # one read: another job thread may replace it meanwhile
    if known[0] is not plan.path:
        known = _LAST_PLAN_DIR = (plan.path, str(plan.directory))
    return known[1]


_LAST_PLAN_DIR: tuple[object, str] = (None, "")


def run_attempt(plan: Plan, case: CaseSpec, pools: Mapping[str, Pool], stop: threading.Event,
                job: int = 0, sampler: PeakSampler | None = None,
                environ: Mapping[str, str] | None = None) -> Attempt:
    started_wall, started, own_started = time.time(), time.monotonic(), own_clock()
    ctx = CaseContext(plan=plan, case=case, pools=pools, variables={}, stop=stop,
                      deadline=None if case.timeout_s is None else started + case.timeout_s,
                      marker=new_case_token(case.id))
    watch = None
    if sampler is not None:
        # Peak RSS of what serves the attempt: its providers' workers and the processes it starts
        # (worked out by the sampler's thread when it samples, not by every case).
        ident = threading.get_ident()
        attribute_starts(True)
        watch = sampler.watch(lambda: [*ctx.started_pids, *started_here(ident),
                                       *(pid for p in case_providers(case) if p in pools for pid in pools[p].pids())])
    steps: list[StepResult] = []
    broken: StepResult | None = None  # the first step that failed or errored
    # `tmp`: the attempt's own folder, made only for a case whose templates could name it
    # (a mkdir and an rmdir were a third of a trivial case's cost).
    scratch = tempfile.mkdtemp(prefix="orchestrator-") if may_read_tmp(plan, case) else None
    try:
        ctx.variables = case_variables(plan, case, environ, scratch)
        ctx.variables.setdefault("providers", ProviderStats(pools))  # live pool numbers (cold vs warm)
    except TemplateError as exc:
        broken = _error_step(0, "vars", "vars", ErrorInfo(ErrorKind.TEMPLATE, f"case vars: {exc}"), case.location.line)
        steps.append(broken)
    for index, step in enumerate(case.steps):
        if broken is not None and not step.always:
            steps.append(_not_run(index, step, f"not run: step {broken.index + 1} {broken.status.value}"))
            continue
        if stop.is_set() and not step.always:
            steps.append(_not_run(index, step, "not run: the run was interrupted"))
            continue
        result = run_step(index, step, ctx)
        if while_waiting.pending():  # the call it was handed to never got as far as its worker
            while_waiting.delayed(while_waiting.run_pending())
        steps.append(result)
        if broken is None and result.status in (Status.FAILED, Status.ERROR):
            broken = result
    if ctx.finalizers or ctx.started_pids or ctx.plan.provider_leaks == "fail":
        steps.extend(_finish_processes(ctx, len(steps)))
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    if broken is None and all([s.status is _PASSED for s in steps]):
        status, message = _PASSED, ""  # the usual case: what _verdict and _nothing_checked would say
    else:
        if broken is None:  # an error after the steps (the leak check)
            broken = next((s for s in steps if s.status is Status.ERROR), None)
        status, message = _verdict(steps, broken)
        if status is Status.PASSED:
            status, message = _nothing_checked(case.steps, steps) or (status, message)
        if stop.is_set() and status is not Status.PASSED:
            status, message = Status.INTERRUPTED, "the run was interrupted"
    peak = None if sampler is None or watch is None else sampler.unwatch(watch)
    if sampler is not None:
        attribute_starts(False)
    # Every field, in order, by position (status, duration_s, message, steps, stdout, stderr,
    # started_at, job, peak_rss_bytes): keyword arguments cost a third more, once an attempt.
    return Attempt(status, own_clock() - own_started, message, tuple([stored_step(s) for s in steps]),
                   trimmed_text("".join(ctx.stdout), LOG_KEEP_CHARS) if ctx.stdout else "",
                   trimmed_text("".join(ctx.stderr), LOG_KEEP_CHARS) if ctx.stderr else "",
                   started_wall, job, peak)


_PASSED = Status.PASSED
# Keys of an answer that neither shadow_notes nor returned_names has anything to say about.
_MAIN_KEYS = frozenset({"output", "error", *ALTERNATIVE_MAIN})


def run_step(index: int, step: StepSpec, ctx: CaseContext) -> StepResult:
    started = own_clock()
    line = step.location.line
    try:
        if step.condition is not None and not evaluate(step.condition, ctx.variables):
            return _not_run(index, step, f"skipped: if {step.condition!r} was false")
        if ctx.deadline is not None and ctx.remaining() == 0.0:
            raise StepTimedOut("no time left")
        if step.action == "parallel":
            return _run_parallel(index, step, ctx)
        output = action_for(step.action)(step, ctx)
    except StepTimedOut:
        error = ErrorInfo(ErrorKind.TIMEOUT, f"case timed out after {ctx.case.timeout_s:g}s")
        return _error_step(index, step.title, step.action, error, line, own_clock() - started)
    except TemplateError as exc:
        return _error_step(index, step.title, step.action, ErrorInfo(ErrorKind.TEMPLATE, str(exc)), line,
                           own_clock() - started)
    except Exception as exc:  # a bug of ours must cost one step, not the run
        error = ErrorInfo(ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}", _traceback_text(exc))
        return _error_step(index, step.title, step.action, error, line, own_clock() - started)
    try:
        return _judged(index, step, ctx, output, started)
    except Exception as exc:  # evaluating the step's results must cost this step, never the run
        error = ErrorInfo(ErrorKind.EVALUATION, f"the step's results could not be evaluated: "
                          f"{type(exc).__name__}: {exc}", _traceback_text(exc))
        return _error_step(index, step.title, step.action, error, line, own_clock() - started)


def _judged(index: int, step: StepSpec, ctx: CaseContext, output: StepOutput, started: float) -> StepResult:
    """The step's assertions over its fields; see orchestrator.run.scope for what names mean."""
    fields, returned = output.fields, output.returned
    # A call answered with its main field alone (most are) has no notes and no names of its own.
    plain = not returned or _MAIN_KEYS.issuperset(returned)
    notes = () if plain else shadow_notes(returned, ctx.variables)
    if notes:
        fields = {**fields, NOTES: [*fields.get(NOTES, ()), *notes]}
    view = fields if returned is None else {**fields, "result": returned}
    if step.as_name:
        ctx.variables[step.as_name] = view
    mine = () if plain else returned_names(returned)
    if not step.expect:
        assertions = output.checks
    elif ctx.deadline is None and getattr(eval_clock.state, "case_deadline", None) is None:
        assertions = output.checks + tuple([check(spec, step.action, view, ctx.variables, mine)
                                            for spec in step.expect])  # no deadline to set (as most cases)
    else:
        with case_deadline(ctx.deadline):  # a regex or expr never outlives the case
            assertions = output.checks + tuple([check(spec, step.action, view, ctx.variables, mine)
                                                for spec in step.expect])
    if output.error is not None and not any(a.kind == "error" for a in step.expect):
        status = Status.ERROR
    elif all([a.passed for a in assertions]):
        status = Status.PASSED
    else:
        status = Status.FAILED
    # Every field, in order, by position (a record's keyword arguments cost a third more: once a step).
    # A call's fields are a dict made for this step alone (the assertions read a copy, `view`):
    # its record holds that dict itself rather than a copy.
    stored = CallFields.wrap(fields) if step.action == "call" and view is not fields and type(fields) is dict \
        else step_fields(step.action, fields)
    return StepResult(index, step.title, step.action, status, own_clock() - started, assertions,
                      output.error, stored, step.location.line, output.tests)


def _finish_processes(ctx: CaseContext, index: int) -> list[StepResult]:
    """Stop what the case spawned, then the leak check: anything it started still alive is an error."""
    for finalize in reversed(ctx.finalizers):
        try:
            finalize()
        except Exception:  # one failing cleanup must not skip the others or the leak check
            pass
    with_calls = ctx.plan.provider_leaks == "fail"
    if not ctx.started_pids and not with_calls:
        return []  # nothing can carry the case's marker: spare the scan of the process table
    from orchestrator.procs.leaks import kill_leaks
    from orchestrator.procs.markers import case_value

    leaks = kill_leaks(ctx.started_pids, case_value(ctx.plan.name, ctx.marker), with_calls=with_calls)
    if not leaks:
        return []
    error = ErrorInfo(ErrorKind.PROCESS_LEAK, f"{len(leaks)} process(es) started for the case were still alive "
                      f"after it ended (now killed): " + "; ".join(leaks))
    return [_error_step(index, "leak check", "leak-check", error, ctx.case.location.line)]


def _run_parallel(index: int, step: StepSpec, ctx: CaseContext) -> StepResult:
    """Sub-steps run at once; the step is as bad as its worst sub-step, then its own `expect`."""
    started = time.monotonic()
    subs: Sequence[StepSpec] = step.args_as(ParallelArgs).steps
    from concurrent.futures import ThreadPoolExecutor  # here: ~10 ms to import, for `parallel` steps only

    with ThreadPoolExecutor(max_workers=max(1, len(subs)), thread_name_prefix="parallel") as executor:
        results = list(executor.map(lambda pair: run_step(pair[0], pair[1], ctx), enumerate(subs)))
    fields: dict[str, Any] = {
        "steps": [{"title": r.title, "status": r.status.value, **r.fields} for r in results],
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
    }
    if step.as_name:
        ctx.variables[step.as_name] = fields
    own = tuple(check(spec, "parallel", fields, ctx.variables) for spec in step.expect)
    inner = tuple(replace(a, message=f"[{r.title}] {a.message}" if a.message else a.message)
                  for r in results for a in r.assertions)
    error = next((r.error for r in results if r.status is Status.ERROR and r.error is not None), None)
    if error is not None:
        status = Status.ERROR
    elif results and all(r.status is Status.SKIPPED for r in results) and not own:
        status = Status.SKIPPED  # nothing in it ran
        fields["reason"] = "skipped: every step in it was skipped"
    elif all(r.status in (Status.PASSED, Status.SKIPPED) for r in results) and all(a.passed for a in own):
        status = Status.PASSED
    else:
        status = Status.FAILED
    return StepResult(index=index, title=step.title, action="parallel", status=status,
                      duration_s=time.monotonic() - started, assertions=inner + own, error=error,
                      fields=step_fields("parallel", fields), line=step.location.line,
                      tests=tuple(t for r in results for t in r.tests))


def _verdict(steps: list[StepResult], broken: StepResult | None) -> tuple[Status, str]:
    if broken is None:
        late = next((s for s in steps if s.status in (Status.FAILED, Status.ERROR)), None)
        if late is None:
            return Status.PASSED, ""
        broken = late  # only an `always` step failed
    where = f"step {broken.index + 1} ({broken.title})"
    if broken.status is Status.ERROR and broken.error is not None:
        return Status.ERROR, f"{where}: {broken.error.type}: {_first_line(broken.error.message)}"
    failed = next((a for a in broken.assertions if not a.passed), None)
    if failed is not None and failed.kind == "expr":
        return Status.FAILED, f"{where}: expr {failed.expected!r} {_first_line(failed.message)}"
    if failed is not None:
        return Status.FAILED, f"{where}: {failed.label}: {_first_line(failed.message)}"
    return broken.status, where


def _nothing_checked(specs: Sequence[StepSpec], steps: Sequence[StepResult]) -> tuple[Status, str] | None:
    """A case whose steps were all skipped by `if:` checked nothing: it is skipped, not passed.
    `always` (cleanup) steps are not checks, unless the case has nothing else."""
    if specs and steps and not specs[0].always and steps[0].status is not Status.SKIPPED:
        return None  # the usual case: the first step is a check, and it ran
    pairs = list(zip(specs, steps))
    checks = [s for spec, s in pairs if not spec.always] or [s for _, s in pairs]
    if not checks or any(s.status is not Status.SKIPPED for s in checks):
        return None
    first = checks[0]
    why = str(first.fields.get("reason", "skipped")).removeprefix("skipped: ")
    return Status.SKIPPED, f"no step ran (all skipped by if:); step {first.index + 1}: {why}"


def finish_case(plan: Plan, case: CaseSpec, attempts: list[Attempt]) -> CaseResult:
    """The case's verdict over its attempts: all pass → passed, mixed → flaky, none → the last's."""
    forget_case(case)
    status, message = _over_attempts(attempts)
    if case.xfail is None:
        pass  # the usual case
    elif status in (Status.FAILED, Status.ERROR):
        status, message = Status.XFAILED, f"xfail: {case.xfail} ({message})"
    elif status is Status.PASSED and case.xfail_strict:
        status, message = Status.FAILED, f"XPASS(strict): expected to fail ({case.xfail}) but passed"
    elif status is Status.PASSED:
        status, message = Status.XPASSED, f"xpassed: expected to fail ({case.xfail}) but passed"
    duration = 0 + attempts[0].duration_s if len(attempts) == 1 else sum(a.duration_s for a in attempts)  # as sum()
    return _case_result(plan, case, status, message, duration, tuple(attempts))


def _over_attempts(attempts: list[Attempt]) -> tuple[Status, str]:
    final = attempts[-1]
    if len(attempts) == 1:
        return final.status, final.message
    if any(a.status is Status.INTERRUPTED for a in attempts):
        bad = next((a for a in attempts if a.status is Status.INTERRUPTED), final)
        return bad.status, bad.message
    ran = [a for a in attempts if a.status is not Status.SKIPPED]  # checked nothing: neutral
    if not ran:
        return Status.SKIPPED, final.message
    passed = [a for a in ran if a.status is Status.PASSED]
    failed = [a for a in ran if a.status is not Status.PASSED]
    if not failed:
        return Status.PASSED, ""
    if passed:
        first = failed[0]
        return Status.FLAKY, (f"flaky: {len(failed)} of {len(attempts)} attempts did not pass; "
                              f"attempt {attempts.index(first) + 1}: {first.message}")
    return final.status, f"all {len(attempts)} attempts did not pass; last: {final.message}"


def crashed_case(plan: Plan, case: CaseSpec, error: ErrorInfo) -> CaseResult:
    """A case that an exception of the orchestrator's own (outside any step) cost: an ERROR whose
    one step carries the traceback, so that the reports show where it came from."""
    step = _error_step(0, "orchestrator", "internal", error, case.location.line)
    message = f"{error.type}: {_first_line(error.message)}"
    attempt = Attempt(status=Status.ERROR, duration_s=0.0, message=message, steps=(step,), started_at=time.time())
    return _case_result(plan, case, Status.ERROR, message, 0.0, (attempt,))


def internal_error(exc: BaseException) -> ErrorInfo:
    """An exception of ours as a case's error: the type and message of the bug, with its traceback."""
    return ErrorInfo(ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}", _traceback_text(exc))


def _traceback_text(exc: BaseException) -> str:
    import traceback  # here: only a bug of ours needs it (with textwrap, ~2 ms of every start)

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def unrun_case(plan: Plan, case: CaseSpec, status: Status, message: str) -> CaseResult:
    return _case_result(plan, case, status, message, 0.0, ())


def _case_result(plan: Plan, case: CaseSpec, status: Status, message: str, duration: float,
                 attempts: tuple[Attempt, ...]) -> CaseResult:
    file, line = case.location.file, case.location.line
    discovered = case.discovered
    if discovered is not None:  # a case per file: reports and annotations point at the file
        file, line = (discovered if os.path.isabs(file) else os.path.relpath(discovered)), 1
    # Every field, in order, by position (id, name, plan, file, line, status, message, duration_s,
    # attempts, priority, level, tags, covers, description): keyword arguments cost a third more.
    return CaseResult(case.id, case.name, plan.name, file, line, status, message, duration, attempts,
                      case.priority, case.level, case.tags, case.covers, case.description)


def _not_run(index: int, step: StepSpec, why: str) -> StepResult:
    return StepResult(index=index, title=step.title, action=step.action, status=Status.SKIPPED,
                      duration_s=0.0, fields=step_fields(step.action, {"reason": why}), line=step.location.line)


def _error_step(index: int, title: str, action: str, error: ErrorInfo, line: int,
                duration: float = 0.0) -> StepResult:
    return StepResult(index=index, title=title, action=action, status=Status.ERROR,
                      duration_s=duration, error=error, line=line)


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""
