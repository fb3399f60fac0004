"""The release gate: rules over case results, each with a verdict and a detail line."""
from __future__ import annotations

from typing import Iterable, Sequence

from orchestrator.plan.model import GateSpec
from orchestrator.result.model import CaseResult, GateResult, GateRule, Status

_BAD = (Status.FAILED, Status.ERROR)


def evaluate_gate(gate: GateSpec | None, cases: Sequence[CaseResult], interrupted: bool = False,
                  deadline: str | None = None) -> GateResult:
    """`deadline`: set (e.g. "30m") when the run's own --timeout stopped it."""
    rules = list(_default_rules(cases) if gate is None else _gate_rules(gate, cases))
    if interrupted:
        unfinished = sum(1 for c in cases if c.status is Status.INTERRUPTED)
        why = f"run deadline reached (--timeout {deadline})" if deadline is not None else "interrupted"
        rules.append(GateRule("run completed", False, f"{why}; {unfinished} case(s) did not finish"))
    return GateResult(passed=all(r.passed for r in rules), rules=tuple(rules))


def _default_rules(cases: Sequence[CaseResult]) -> Iterable[GateRule]:
    bad = [c for c in cases if c.status in _BAD]
    detail = "no case failed or errored" if not bad else (
        f"{len(bad)} case(s) failed or errored: " + ", ".join(c.id for c in bad[:5])
        + (" …" if len(bad) > 5 else ""))
    yield GateRule("no failures", not bad, detail)


def _gate_rules(gate: GateSpec, cases: Sequence[CaseResult]) -> Iterable[GateRule]:
    for priority, required in gate.pass_rate.items():
        ran = [c for c in cases if c.priority == priority and c.status.ran]
        passed = sum(1 for c in ran if c.status)
        rate = passed / len(ran) if ran else 1.0
        detail = f"{passed}/{len(ran)} passed ({_percent(rate)})" if ran else "no case of this priority ran"
        yield GateRule(f"pass_rate[{priority}] >= {_percent(required)}", rate + 1e-9 >= required, detail)
    if gate.max_flaky is not None:
        flaky = [c.id for c in cases if c.status is Status.FLAKY]
        detail = f"{len(flaky)} flaky" + (": " + ", ".join(flaky[:5]) if flaky else "")
        yield GateRule(f"max_flaky <= {gate.max_flaky}", len(flaky) <= gate.max_flaky, detail)
    for key in gate.require_covered:
        covering = [c for c in cases if key in c.covers]
        passing = [c.id for c in covering if c.status]
        if passing:
            detail = "covered by " + ", ".join(passing[:5])
        elif covering:
            detail = "no covering case passed: " + ", ".join(f"{c.id} {c.status.value}" for c in covering[:5])
        else:
            detail = "no case covers it"
        yield GateRule(f"covered {key}", bool(passing), detail)


def _percent(fraction: float) -> str:
    value = fraction * 100
    return f"{value:.0f}%" if abs(value - round(value)) < 1e-9 else f"{value:.1f}%"
