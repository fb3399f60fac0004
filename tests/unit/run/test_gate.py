from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.plan.model import GateSpec
from orchestrator.result.model import CaseResult, GateResult, PlanInfo, RecordedGate, RunResult, Status
from orchestrator.result.store import read_json, write_json
from orchestrator.run.gate import PlanGate, judge, judge_plans, recorded_gate


def evaluate_gate(gate: GateSpec | None, cases: list[CaseResult], interrupted: bool = False,
                  selection: str = "", deadline: str | None = None) -> GateResult:
    """One plan's gate over all `cases`."""
    return judge([PlanGate("", recorded_gate(gate))], cases, interrupted, selection, deadline)


def case(id: str, status: Status, priority: str = "P2", covers: tuple[str, ...] = (), plan: str = "p") -> CaseResult:
    return CaseResult(id=id, name=id, plan=plan, file="p.yaml", line=1, status=status, message="",
                      duration_s=0.0, priority=priority, covers=covers)


def rules(verdict):  # type: ignore[no-untyped-def]
    return {r.rule: r for r in verdict.rules}


def test_without_gate_any_failure_or_error_fails_the_run() -> None:
    assert evaluate_gate(None, [case("A", Status.PASSED), case("B", Status.SKIPPED)]).passed
    verdict = evaluate_gate(None, [case("A", Status.PASSED), case("B", Status.ERROR)])
    assert not verdict.passed
    assert verdict.rules[0].detail == "1 case(s) failed or errored: B"


def test_pass_rate_per_priority_counts_only_cases_that_ran() -> None:
    gate = GateSpec(pass_rate={"P0": 1.0, "P1": 0.5, "P2": 0.0})
    cases = [case("A", Status.PASSED, "P0"), case("B", Status.SKIPPED, "P0"),
             case("C", Status.FAILED, "P1"), case("D", Status.PASSED, "P1"), case("E", Status.FAILED, "P2")]
    verdict = evaluate_gate(gate, cases)
    assert verdict.passed
    assert [(r.rule, r.passed, r.detail) for r in verdict.rules] == [
        ("pass_rate[P0] >= 100%", True, "1/1 passed (100%)"),
        ("pass_rate[P1] >= 50%", True, "1/2 passed (50%)"),
        ("pass_rate[P2] >= 0%", True, "0/1 passed (0%)"),
    ]
    assert not evaluate_gate(GateSpec(pass_rate={"P1": 0.95, "P2": 0.0}), cases).passed


@pytest.mark.parametrize("gate", [
    GateSpec(max_flaky=0),
    GateSpec(max_flaky=5),
    GateSpec(require_covered=("AC-1",)),
    GateSpec(pass_rate={"P1": 0.9}),
    GateSpec(pass_rate={"P3": 0.0}, max_flaky=0),
    GateSpec(),  # gate: {}
])
@pytest.mark.parametrize("bad", [Status.FAILED, Status.ERROR])
@pytest.mark.parametrize("priority", ["P0", "P2"])
def test_a_gate_relaxes_only_what_it_names(gate: GateSpec, bad: Status, priority: str) -> None:
    """`gate: {max_flaky: 0}` with a failing P0 case used to pass: unnamed priorities need 100 %."""
    cases = [case("OK", Status.PASSED, "P1", covers=("AC-1",)), case("BAD", bad, priority)]
    verdict = evaluate_gate(gate, cases)
    assert not verdict.passed
    failing = [r for r in verdict.rules if not r.passed]
    assert "BAD" in failing[0].detail or "0/1 passed" in failing[0].detail


def test_the_implied_rule_says_where_it_comes_from() -> None:
    verdict = evaluate_gate(GateSpec(pass_rate={"P0": 1.0}), [case("A", Status.PASSED, "P0"),
                                                             case("B", Status.FAILED, "P2")])
    rule = rules(verdict)["pass_rate[P2] >= 100% (default)"]
    assert not rule.passed
    assert rule.detail == "0/1 passed (0%); P2 is not named in pass_rate, so every P2 case must pass"


def test_a_named_zero_tolerates_that_priority_only() -> None:
    cases = [case("A", Status.PASSED, "P0"), case("B", Status.FAILED, "P3")]
    assert evaluate_gate(GateSpec(pass_rate={"P3": 0.0}), cases).passed
    assert not evaluate_gate(GateSpec(pass_rate={"P3": 0.0}), cases + [case("C", Status.ERROR, "P1")]).passed


def test_an_empty_gate_is_no_gate() -> None:
    cases = [case("A", Status.PASSED, "P0"), case("B", Status.SKIPPED, "P1")]
    assert evaluate_gate(GateSpec(), cases) == evaluate_gate(None, cases)
    assert judge_plans([PlanInfo("p", "", "p.yaml", gate=recorded_gate(GateSpec()))], cases) == evaluate_gate(None, cases)


@pytest.mark.parametrize("gate", [GateSpec(pass_rate={"P0": 1.0}), GateSpec(pass_rate={"P0": 0.5}),
                                  GateSpec(max_flaky=0), GateSpec(pass_rate={"P1": 1.0})])
def test_a_priority_whose_selected_cases_all_did_not_run_fails_nothing_ran(gate: GateSpec) -> None:
    cases = [case("A", Status.SKIPPED, "P0"), case("B", Status.SKIPPED, "P0"), case("C", Status.PASSED, "P1")]
    verdict = evaluate_gate(gate, cases)
    assert not verdict.passed
    (bad,) = [r for r in verdict.rules if not r.passed]
    assert bad.rule.startswith("pass_rate[P0]")
    assert bad.detail == "nothing ran: none of 2 P0 case(s) ran (2 skipped)"


def test_nothing_ran_passes_only_where_0_percent_is_required() -> None:
    verdict = evaluate_gate(GateSpec(pass_rate={"P3": 0.0}), [case("A", Status.SKIPPED, "P3")])
    assert verdict.passed and verdict.rules[0].detail == "nothing ran (1 skipped); 0% required"


def test_a_named_priority_without_cases_is_not_judged() -> None:
    verdict = evaluate_gate(GateSpec(pass_rate={"P0": 1.0, "P1": 0.9}), [case("A", Status.PASSED, "P0")])
    rule = rules(verdict)["pass_rate[P1] >= 90%"]
    assert verdict.passed and rule.passed and not rule.judged
    assert rule.detail == "not judged: no P1 case in the run"


def test_xfailed_is_tolerated_and_xpassed_counts_as_passed_but_xfailed_covers_nothing() -> None:
    gate = GateSpec(pass_rate={"P0": 1.0}, require_covered=("AC-1", "AC-2"))
    cases = [case("XF", Status.XFAILED, "P0", covers=("AC-1",)), case("XP", Status.XPASSED, "P0", covers=("AC-2",))]
    verdict = rules(evaluate_gate(gate, cases))
    assert verdict["pass_rate[P0] >= 100%"].passed
    assert not verdict["covered AC-1"].passed and verdict["covered AC-1"].detail == "no covering case passed: XF xfailed"
    assert verdict["covered AC-2"].passed


def test_max_flaky_and_require_covered() -> None:
    gate = GateSpec(max_flaky=0, require_covered=("AC-1", "AC-2", "AC-3"))
    cases = [case("A", Status.FLAKY, covers=("AC-1",)), case("B", Status.FAILED, covers=("AC-2",))]
    by_rule = rules(evaluate_gate(gate, cases))
    assert not by_rule["max_flaky <= 0"].passed and by_rule["max_flaky <= 0"].detail == "1 flaky: A"
    assert by_rule["covered AC-1"].passed and by_rule["covered AC-1"].detail == "covered by A"
    assert by_rule["covered AC-2"].detail == "no covering case passed: B failed"
    assert by_rule["covered AC-3"].detail == "no case covers it"


def test_coverage_by_deselected_cases_is_not_judged_and_the_verdict_says_it_is_partial() -> None:
    """`--id E2E-001` on a plan with require_covered failed the gate; selecting nothing passed."""
    gate = RecordedGate(require_covered=("AC-1", "AC-2", "AC-3"))
    plan = PlanGate("p", gate, not_selected_covers=frozenset({"AC-2", "AC-3"}))
    cases = [case("E2E-001", Status.PASSED, covers=("AC-1",)), case("E2E-009", Status.FAILED, covers=("AC-3",))]
    verdict = judge([plan], cases, selection="--id E2E-001 --id E2E-009")
    by_rule = rules(verdict)
    assert by_rule["covered AC-1"].judged and by_rule["covered AC-1"].passed
    assert not by_rule["covered AC-2"].judged and by_rule["covered AC-2"].passed
    assert by_rule["covered AC-2"].detail == "not judged: covering cases not selected"
    assert not by_rule["covered AC-3"].passed  # a selected covering case failed: that is judged
    assert verdict.selection == "--id E2E-001 --id E2E-009"
    # a key that no case of the plan covers still fails, selection or not
    assert not judge([PlanGate("p", RecordedGate(require_covered=("AC-9",)))], cases[:1]).passed


def test_a_shard_leaves_coverage_by_other_shards_to_the_merge() -> None:
    plan = PlanGate("p", RecordedGate(require_covered=("AC-1",)), other_shards_cover=frozenset({"AC-1"}))
    verdict = judge([plan], [case("A", Status.PASSED)])
    assert verdict.passed and not verdict.rules[-1].judged
    assert verdict.selection == ""


def test_each_plan_gate_judges_its_own_cases() -> None:
    tolerant = PlanGate("a", RecordedGate(pass_rate={"P3": 0.0}))
    strict = PlanGate("b", RecordedGate(max_flaky=0))
    ok = [case("A1", Status.FAILED, "P3", plan="a"), case("B1", Status.PASSED, "P3", plan="b")]
    verdict = judge([tolerant, strict], ok)
    assert verdict.passed, verdict.rules
    assert {r.rule for r in verdict.rules} == {"a: pass_rate[P3] >= 0%", "b: pass_rate[P3] >= 100% (default)",
                                               "b: max_flaky <= 0"}
    bad = [case("A1", Status.PASSED, "P3", plan="a"), case("B1", Status.FAILED, "P3", plan="b")]
    assert not judge([tolerant, strict], bad).passed
    # a plan without a gate among gated ones: no failures among its own cases
    assert not judge([tolerant, PlanGate("b", None)], bad).passed


def test_an_interrupted_run_never_passes_the_gate() -> None:
    verdict = evaluate_gate(None, [case("A", Status.PASSED), case("B", Status.INTERRUPTED)], interrupted=True)
    assert not verdict.passed and verdict.rules[-1].rule == "run completed"


def test_a_case_that_did_not_finish_fails_the_gate_even_when_the_run_is_not_flagged_interrupted() -> None:
    """A results file rewritten while the run went on (or edited) holds unfinished cases."""
    for gate in (None, GateSpec(pass_rate={"P2": 0.0})):
        verdict = evaluate_gate(gate, [case("A", Status.PASSED), case("B", Status.INTERRUPTED)])
        assert not verdict.passed
        assert verdict.rules[-1].detail == "1 case(s) did not finish"


def test_the_recorded_gate_goes_through_results_json_unchanged_and_is_judged_alike(tmp_path: Path) -> None:
    """`merge` and `report` judge the gate again from what results.json keeps of it."""
    spec = GateSpec(pass_rate={"P0": 1.0, "P2": 0.5}, max_flaky=0, require_covered=("AC-1",))
    plan = PlanInfo("p", "", "p.yaml", gate=recorded_gate(spec))
    run = RunResult(plans=(plan,), cases=(), gate=GateResult(True), started_at=0.0, duration_s=0.0)
    write_json(run, tmp_path / "results.json")
    kept = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["plans"][0]["gate"]
    assert kept == {"pass_rate": {"P0": 1.0, "P2": 0.5}, "max_flaky": 0, "require_covered": ["AC-1"]}
    back = read_json(tmp_path / "results.json").plans[0].gate
    assert back == RecordedGate({"P0": 1.0, "P2": 0.5}, 0, ("AC-1",))
    cases = [case("A", Status.PASSED, "P0", covers=("AC-1",)), case("B", Status.FAILED, "P2"),
             case("C", Status.FLAKY, "P2")]
    assert judge_plans([replace(plan, gate=back)], cases) == evaluate_gate(spec, cases)
    assert not evaluate_gate(spec, cases).passed  # max_flaky 0
