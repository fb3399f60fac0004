"""Hand-built RunResults for the report tests: every status, retries, a gate, hostile text."""
from __future__ import annotations

from orchestrator.result.model import (
    AssertionResult,
    Attempt,
    CaseResult,
    ErrorInfo,
    GateResult,
    GateRule,
    PlanInfo,
    RiskInfo,
    RunResult,
    Status,
    StepResult,
    WorkerStats,
)

SCRIPT = "</script><script>alert(1)</script>"
MARKUP = "<b>bold</b>"
HOSTILE = f"nul\x00 esc\x1b[31m vt\x0b fffe\ufffe ffff\uffff lo\ud800 hi\udfff {SCRIPT} ]]> {MARKUP} 😀 & \u2028\u2029 end"
BIG = "0123456789abcdef" * (5 * 2**20 // 16)  # 5 MiB of output
T0 = 1_700_000_000.0
STARTED = T0 + 1


def _assertion(passed: bool, actual: object = "ok", expected: object = "ok") -> AssertionResult:
    return AssertionResult(
        kind="contains", passed=passed, expected=expected, actual=actual, on="stdout",
        message="" if passed else f"stdout does not contain {expected!r}", line=12,
    )


def _step(status: Status, *, assertions: tuple[AssertionResult, ...] = (), error: ErrorInfo | None = None,
          index: int = 0, duration: float = 0.05) -> StepResult:
    return StepResult(index=index, title=f"step {index}", action="exec", status=status, duration_s=duration,
                      assertions=assertions, error=error, fields={"exit_code": 0, "worker": {"pid": 4242, "index": 1}},
                      line=10 + index)


def _attempt(status: Status, steps: tuple[StepResult, ...] = (), *, stdout: str = "", stderr: str = "",
             message: str = "", duration: float = 0.1, job: int = 0) -> Attempt:
    return Attempt(status=status, duration_s=duration, message=message, steps=steps, stdout=stdout,
                   stderr=stderr, started_at=STARTED, job=job, peak_rss_bytes=50_000_000)


def _case(cid: str, name: str, status: Status, message: str = "", attempts: tuple[Attempt, ...] = (),
          *, plan: str = "smoke", level: str | None = "e2e", duration: float = 0.12, line: int = 5,
          tags: tuple[str, ...] = ("smoke",), priority: str = "P1") -> CaseResult:
    return CaseResult(id=cid, name=name, plan=plan, file=f"plans/{plan}.yaml", line=line, status=status,
                      message=message, duration_s=duration, attempts=attempts, priority=priority, level=level,
                      tags=tags, covers=("AC-1",), description="a case")


def all_statuses(hostile: bool = False, big: bool = False) -> tuple[CaseResult, ...]:
    """One case per status (plus extras); with `hostile`, nasty text everywhere a user string goes."""
    h = HOSTILE if hostile else ""
    out = (BIG if big else "") + f"hello stdout {h}\n"
    err = f"warning on stderr {h}\n"
    ok = _step(Status.PASSED, assertions=(_assertion(True),))
    bad = _step(Status.FAILED, index=1, assertions=(_assertion(True), _assertion(False, actual=f"got {h}", expected="want")))
    boom = _step(Status.ERROR, index=1, error=ErrorInfo("ValueError", f"bad value {h}",
                                                        f"Traceback (most recent call last):\n  File \"x.py\"\nValueError: {h}"))
    return (
        _case("C-1", f"passes {h}".rstrip(), Status.PASSED, attempts=(_attempt(Status.PASSED, (ok,), stdout=out, stderr=err),)),
        _case("C-2", "fails", Status.FAILED, f"assertion failed {h}\nsecond line",
              (_attempt(Status.FAILED, (ok, bad), stdout=out, stderr=err),), priority="P0"),
        _case("C-3", "errors", Status.ERROR, f"ValueError: bad value {h}",
              (_attempt(Status.ERROR, (ok, boom), stdout=out),), level=None),
        _case("C-4", "skipped", Status.SKIPPED, f"not today {h}", duration=0.0, tags=()),
        _case("C-5", "xfails", Status.XFAILED, "known bug #12", (_attempt(Status.FAILED, (bad,)),)),
        _case("C-6", "xpasses", Status.XPASSED, "known bug #13", (_attempt(Status.PASSED, (ok,)),)),
        _case("C-7", "flaky", Status.FLAKY, "passed on retry",
              (_attempt(Status.FAILED, (bad,), stdout=f"first try {h}", job=1),
               _attempt(Status.PASSED, (ok,), stdout="second try", job=2)), plan="other"),
        _case("C-8", "interrupted", Status.INTERRUPTED, "run stopped by SIGINT",
              (_attempt(Status.INTERRUPTED, (), stdout=out),), plan="other"),
        _case("C-9", "repeat mixed fail", Status.FAILED, "2 of 3 repeats failed",
              (_attempt(Status.FAILED, (bad,)), _attempt(Status.PASSED, (ok,)), _attempt(Status.FAILED, (bad,))),
              plan="other", duration=0.0),
    )


def run_result(*, hostile: bool = False, big: bool = False, gate_passed: bool = False) -> RunResult:
    h = HOSTILE if hostile else ""
    rules = (GateRule("pass_rate[P0] >= 100%", gate_passed, "0/1 passed (0%)" if not gate_passed else "1/1 passed (100%)"),
             GateRule("max_flaky <= 1", True, f"1 flaky {h}"))
    return RunResult(
        plans=(PlanInfo("smoke", f"Smoke tests {h}", "plans/smoke.yaml", {"AC-1": "works"}, {"RISK-1": RiskInfo(impact="high")}),
               PlanInfo("other", "Other", "plans/other.yaml"),
               PlanInfo("empty", "No cases selected", "plans/empty.yaml")),
        cases=all_statuses(hostile, big),
        gate=GateResult(gate_passed, rules),
        started_at=T0,
        duration_s=3.21,
        interrupted=False,
        version="0.1.0",
        command=f"orchestrator run plans/smoke.yaml {h}",
        workers=(WorkerStats("echo", 0, 4242, 17, 1, ("crashed: SIGKILL",), 60_000_000, 120.5),
                 WorkerStats("echo", 1, None, 0, 0)),
    )


def many_cases(n: int) -> RunResult:
    ok = _step(Status.PASSED, assertions=(_assertion(True),))
    cases = tuple(_case(f"M-{i}", f"case number {i}", Status.FAILED if i % 10 == 0 else Status.PASSED,
                        "boom" if i % 10 == 0 else "", (_attempt(Status.PASSED, (ok,), stdout=f"out {i}\n" * 3),))
                  for i in range(n))
    return RunResult(plans=(PlanInfo("smoke", "Smoke", "plans/smoke.yaml"),), cases=cases,
                     gate=GateResult(True, ()), started_at=T0, duration_s=12.0)
