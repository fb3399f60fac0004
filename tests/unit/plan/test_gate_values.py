"""What a plan's `gate` means once loaded: pass_rate values are fractions, `gate: {}` is no gate."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import PlanErrors
from orchestrator.plan.load import load_plan

HEAD = "version: 1\nname: g\ncases:\n  - {id: A, name: a, steps: [{sleep: 0}]}\n"


def load(tmp_path: Path, gate: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.yaml"
    path.write_text(HEAD + gate, encoding="utf-8")
    return load_plan(str(path))


@pytest.mark.parametrize("written, fraction", [("1", 1.0), ("0.95", 0.95), ("0", 0.0), ("100%", 1.0),
                                               ("95%", 0.95), ("0%", 0.0), ("99.5 %", 0.995), ("1.0", 1.0)])
def test_pass_rate_is_a_percentage_or_a_fraction(tmp_path: Path, written: str, fraction: float) -> None:
    plan = load(tmp_path, f"gate: {{pass_rate: {{P0: {written}}}}}\n")
    assert plan.gate is not None and plan.gate.pass_rate["P0"] == pytest.approx(fraction)


@pytest.mark.parametrize("written", ["2", "1.5", "150%", "100.1%", "-1", "-0%", ".nan", ".NaN", ".inf", "95",
                                     "'95'", "true", "null"])
def test_anything_else_is_an_error_at_its_line(tmp_path: Path, written: str) -> None:
    """`{P0: 2}` meant 2 %, `1.5` meant 1.5 %, `150%` could never pass, `.nan` crashed the run."""
    with pytest.raises(PlanErrors) as caught:
        load(tmp_path, f"gate:\n  pass_rate:\n    P0: {written}\n")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.col) == (7, 9)
    assert "'P0' must be a percentage from 0% to 100% like 95%, or a fraction from 0 to 1 like 0.95" in str(problem)


@pytest.mark.parametrize("gate", ["gate: {}\n", "gate: {pass_rate: {}}\n",
                                  "gate: {pass_rate: {}, require_covered: []}\n"])
def test_an_empty_gate_is_no_gate(tmp_path: Path, gate: str) -> None:
    assert load(tmp_path, gate).gate is None
