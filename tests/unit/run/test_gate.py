from __future__ import annotations

from orchestrator.plan.model import GateSpec
from orchestrator.result.model import CaseResult, Status
from orchestrator.run.gate import evaluate_gate


def case(id: str, status: Status, priority: str = "P2", covers: tuple[str, ...] = ()) -> CaseResult:
    return CaseResult(id=id, name=id, plan="p", file="p.yaml", line=1, status=status, message="",
                      duration_s=0.0, priority=priority, covers=covers)


def test_without_gate_any_failure_or_error_fails_the_run() -> None:
    assert evaluate_gate(None, [case("A", Status.PASSED), case("B", Status.SKIPPED)]).passed
    verdict = evaluate_gate(None, [case("A", Status.PASSED), case("B", Status.ERROR)])
    assert not verdict.passed
    assert verdict.rules[0].detail == "1 case(s) failed or errored: B"


def test_pass_rate_per_priority_counts_only_cases_that_ran() -> None:
    gate = GateSpec(pass_rate={"P0": 1.0, "P1": 0.5})
    cases = [case("A", Status.PASSED, "P0"), case("B", Status.SKIPPED, "P0"),
             case("C", Status.FAILED, "P1"), case("D", Status.PASSED, "P1"), case("E", Status.FAILED, "P2")]
    verdict = evaluate_gate(gate, cases)
    assert verdict.passed
    assert [(r.rule, r.passed, r.detail) for r in verdict.rules] == [
        ("pass_rate[P0] >= 100%", True, "1/1 passed (100%)"),
        ("pass_rate[P1] >= 50%", True, "1/2 passed (50%)"),
    ]
    assert not evaluate_gate(GateSpec(pass_rate={"P1": 0.95}), cases).passed


def test_max_flaky_and_require_covered() -> None:
    gate = GateSpec(max_flaky=0, require_covered=("AC-1", "AC-2", "AC-3"))
    cases = [case("A", Status.FLAKY, covers=("AC-1",)), case("B", Status.FAILED, covers=("AC-2",))]
    rules = {r.rule: r for r in evaluate_gate(gate, cases).rules}
    assert not rules["max_flaky <= 0"].passed and rules["max_flaky <= 0"].detail == "1 flaky: A"
    assert rules["covered AC-1"].passed and rules["covered AC-1"].detail == "covered by A"
    assert rules["covered AC-2"].detail == "no covering case passed: B failed"
    assert rules["covered AC-3"].detail == "no case covers it"


def test_an_interrupted_run_never_passes_the_gate() -> None:
    verdict = evaluate_gate(None, [case("A", Status.PASSED), case("B", Status.INTERRUPTED)], interrupted=True)
    assert not verdict.passed and verdict.rules[-1].rule == "run completed"
