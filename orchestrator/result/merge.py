"""`orchestrator merge`: the results of `--shard` runs become the one run they were cut from.

Cases come back in plan order (each plan's `case_ids`, which every shard carries); a case in
two files, or in none, is an error rather than a silently wrong report. The gate is evaluated
again over all cases by the caller's `judge` (the run stage owns gate logic; results do not).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from orchestrator.errors import UserError
from orchestrator.result.model import CaseResult, GateResult, PlanInfo, RunResult

Judge = Callable[[Sequence[PlanInfo], Sequence[CaseResult], bool, str, "str | None"], GateResult]


def merge_runs(runs: Sequence[tuple[str, RunResult]], judge: Judge, command: str = "") -> RunResult:
    """`runs` as (file name, run); raises UserError when they are not shards of one run."""
    if not runs:
        raise UserError("merge needs at least one results file")
    # Together the shards hold every selected case: no coverage is left to other shards.
    plans = [replace(p, other_shards_cover=()) for p in _plans(runs)]
    found: dict[tuple[str, str], tuple[str, CaseResult]] = {}
    for name, run in runs:
        for case in run.cases:
            key = (case.plan, case.id)
            if key in found:
                raise UserError(f"{name}: case {case.id} of plan {case.plan} is also in {found[key][0]}; "
                                "were these shards of one run?")
            found[key] = (name, case)
    cases: list[CaseResult] = []
    for plan in plans:
        ids = plan.case_ids or tuple(c.id for _, run in runs for c in run.cases if c.plan == plan.name)
        for case_id in ids:
            hit = found.pop((plan.name, case_id), None)
            if hit is None:
                raise UserError(f"case {case_id} of plan {plan.name} is in no results file "
                                f"(is a shard missing?)")
            cases.append(hit[1])
    if found:
        (plan_name, case_id), (name, _) = next(iter(found.items()))
        raise UserError(f"{name}: case {case_id} of plan {plan_name} is not in the plan's case list "
                        "of the other files; were these shards of one run?")
    start = min(run.started_at for _, run in runs)
    end = max(run.started_at + run.duration_s for _, run in runs)
    interrupted = any(run.interrupted for _, run in runs)
    deadline = next((run.deadline for _, run in runs if run.deadline), None)  # a shard its --timeout stopped
    first = runs[0][1]
    gate = judge(plans, cases, interrupted, first.gate.selection, deadline)
    return replace(first, plans=tuple(plans), cases=tuple(cases), gate=gate, deadline=deadline,
                   started_at=start, duration_s=end - start, interrupted=interrupted,
                   command=command or first.command, complete=all(run.complete for _, run in runs),
                   workers=tuple(w for _, run in runs for w in run.workers))


def _plans(runs: Sequence[tuple[str, RunResult]]) -> list[PlanInfo]:
    """Every plan once, in the first file's order; shards of one run agree on each plan's cases."""
    plans: dict[str, PlanInfo] = {}
    seen_in: dict[str, str] = {}
    for name, run in runs:
        for plan in run.plans:
            known = plans.get(plan.name)
            if known is None:
                plans[plan.name], seen_in[plan.name] = plan, name
            elif known.case_ids != plan.case_ids:
                raise UserError(f"{name}: plan {plan.name} lists other cases than in {seen_in[plan.name]} "
                                "(different plans, selections or versions); shards must come from one command")
    return list(plans.values())
