"""The release gate: rules over case results, each with a verdict and a detail line.

Safe by default: a gate relaxes only what it names. Every priority that has cases in the run
and is not named in `pass_rate` must pass 100 %; a priority whose selected cases all did not
run fails its rule ("nothing ran") unless 0 % is required. Without a gate (or with `gate: {}`)
the run passes when no case failed or errored. Each plan's gate judges that plan's cases.
Rules the run cannot judge (covering cases not selected, or in another shard) are marked not
judged: they do not fail the gate, and the verdict of a selection says it is not a full gate.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Sequence

from orchestrator.records import record
from orchestrator.result.model import CaseResult, GateResult, GateRule, PlanInfo, RecordedGate, Status
from orchestrator.vocabulary import PRIORITIES

if TYPE_CHECKING:  # `report` and `merge` judge gates without loading the plan model (~20 ms)
    from orchestrator.plan.model import GateSpec

_BAD = (Status.FAILED, Status.ERROR)
# What a case must end as to cover a requirement: it ran and held. An xfailed case is a known
# failure of what it covers, so it covers nothing.
_COVERS = (Status.PASSED, Status.FLAKY, Status.XPASSED)


@record
class PlanGate:
    """One plan's gate, and what its coverage rules need to know beyond the cases."""

    plan: str
    gate: RecordedGate | None
    not_selected_covers: frozenset[str] = frozenset()  # keys covered by cases the selection left out
    other_shards_cover: frozenset[str] = frozenset()  # keys covered by cases of other shards


def judge_plans(plans: Sequence[PlanInfo], cases: Sequence[CaseResult], interrupted: bool = False,
                selection: str = "", deadline: str | None = None) -> GateResult:
    """The gate of a run as its results file keeps it: what `run`, `merge` and `report` decide.
    `deadline`: set (e.g. "30m") when the run's own --timeout stopped it."""
    return judge([PlanGate(p.name, p.gate, frozenset(p.not_selected_covers),
                           frozenset(p.other_shards_cover)) for p in plans], cases, interrupted, selection, deadline)


def judge(plans: Sequence[PlanGate], cases: Sequence[CaseResult], interrupted: bool = False,
          selection: str = "", deadline: str | None = None) -> GateResult:
    plans = [replace(p, gate=_named(p.gate)) for p in plans]
    gated = [p for p in plans if p.gate is not None]
    rules: list[GateRule] = []
    if not gated:
        rules.extend(_default_rules(cases))
    elif len(plans) == 1:
        rules.extend(_gate_rules(plans[0], cases))
    else:  # several plans: each one's gate judges its own cases
        for plan in plans:
            own = [c for c in cases if c.plan == plan.plan]
            found = _default_rules(own) if plan.gate is None else _gate_rules(plan, own)
            rules.extend(replace(r, rule=f"{plan.plan}: {r.rule}") for r in found)
    unfinished = sum(1 for c in cases if c.status is Status.INTERRUPTED)
    if interrupted or unfinished:  # a case that did not finish was not checked, whatever the flag says
        why = "" if not interrupted else (
            f"run deadline reached (--timeout {deadline}); " if deadline is not None else "interrupted; ")
        rules.append(GateRule("run completed", False, f"{why}{unfinished} case(s) did not finish"))
    return GateResult(passed=all(r.passed for r in rules), rules=tuple(rules), selection=selection)


def _named(gate: RecordedGate | None) -> RecordedGate | None:
    """`gate: {}` (or a gate naming nothing) is no gate."""
    if gate is None or not (gate.pass_rate or gate.max_flaky is not None or gate.require_covered):
        return None
    return gate


def _default_rules(cases: Sequence[CaseResult]) -> Iterable[GateRule]:
    bad = [c for c in cases if c.status in _BAD]
    detail = "no case failed or errored" if not bad else (
        f"{len(bad)} case(s) failed or errored: " + ", ".join(c.id for c in bad[:5])
        + (" …" if len(bad) > 5 else ""))
    yield GateRule("no failures", not bad, detail)


def _gate_rules(plan: PlanGate, cases: Sequence[CaseResult]) -> Iterable[GateRule]:
    gate = plan.gate
    assert gate is not None
    present = {c.priority for c in cases}
    named = set(gate.pass_rate)
    for priority in sorted(named | present, key=_priority_order):
        required = gate.pass_rate.get(priority, 1.0)
        of_priority = [c for c in cases if c.priority == priority]
        yield _pass_rate(priority, required, priority not in named, of_priority)
    if gate.max_flaky is not None:
        flaky = [c.id for c in cases if c.status is Status.FLAKY]
        detail = f"{len(flaky)} flaky" + (": " + ", ".join(flaky[:5]) if flaky else "")
        yield GateRule(f"max_flaky <= {gate.max_flaky}", len(flaky) <= gate.max_flaky, detail)
    for key in gate.require_covered:
        yield _covered(key, plan, cases)


def _pass_rate(priority: str, required: float, implied: bool, cases: Sequence[CaseResult]) -> GateRule:
    rule = f"pass_rate[{priority}] >= {_percent(required)}" + (" (default)" if implied else "")
    if not cases:
        return GateRule(rule, True, f"not judged: no {priority} case in the run", judged=False)
    ran = [c for c in cases if c.status.ran]
    if not ran:
        why = ", ".join(f"{n} {s}" for s, n in _tally(cases).items())
        if required <= 0:
            return GateRule(rule, True, f"nothing ran ({why}); 0% required")
        return GateRule(rule, False, f"nothing ran: none of {len(cases)} {priority} case(s) ran ({why})")
    passed = sum(1 for c in ran if c.status)
    rate = passed / len(ran)
    detail = f"{passed}/{len(ran)} passed ({_percent(rate)})"
    ok = rate + 1e-9 >= required
    if implied and not ok:
        detail += f"; {priority} is not named in pass_rate, so every {priority} case must pass"
    return GateRule(rule, ok, detail)


def _covered(key: str, plan: PlanGate, cases: Sequence[CaseResult]) -> GateRule:
    rule = f"covered {key}"
    covering = [c for c in cases if key in c.covers]
    passing = [c.id for c in covering if c.status in _COVERS]
    if passing:
        return GateRule(rule, True, "covered by " + ", ".join(passing[:5]))
    if key in plan.other_shards_cover:
        return GateRule(rule, True, "not judged: cases of other shards cover it; the merged gate decides",
                        judged=False)
    if covering:
        return GateRule(rule, False, "no covering case passed: "
                        + ", ".join(f"{c.id} {c.status.value}" for c in covering[:5]))
    if key in plan.not_selected_covers:
        return GateRule(rule, True, "not judged: covering cases not selected", judged=False)
    return GateRule(rule, False, "no case covers it")


def _tally(cases: Sequence[CaseResult]) -> dict[str, int]:
    out: dict[str, int] = {}
    for case in cases:
        out[case.status.value] = out.get(case.status.value, 0) + 1
    return out


def _priority_order(priority: str) -> tuple[int, str]:
    return (PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES), priority)


def _percent(fraction: float) -> str:
    value = fraction * 100
    return f"{value:.0f}%" if abs(value - round(value)) < 1e-9 else f"{value:.1f}%"


def recorded_gate(gate: GateSpec | None) -> RecordedGate | None:
    """The plan's gate as the results file records it (PlanInfo.gate): what `merge` and `report`
    judge again. The results model writes and reads it as {pass_rate, max_flaky, require_covered}."""
    if gate is None:
        return None
    return RecordedGate(pass_rate=dict(gate.pass_rate), max_flaky=gate.max_flaky, require_covered=gate.require_covered)
