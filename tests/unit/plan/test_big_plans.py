"""Big plans are plans: only what aliases add counts towards the alias-bomb limit."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.errors import PlanErrors
from orchestrator.plan.load import load_plan


def test_ten_thousand_plain_cases_are_a_plan_not_an_alias_bomb(tmp_path: Path) -> None:
    """9,000 such cases used to be refused as an "alias bomb?"; 20,000 validate in ~7 s of CPU
    (the loader's speed is another issue's: here the bound only catches a hang)."""
    cases = "".join(f"  - id: C-{n}\n    name: case {n}\n    tags: [smoke]\n    steps:\n"
                    f"      - exec: {{command: [echo, '{n}']}}\n        expect: [{{contains: '{n}'}}, {{exit_code: 0}}]\n"
                    for n in range(10_000))
    path = tmp_path / "big.yaml"
    path.write_text(f"version: 1\nname: big\ncases:\n{cases}")
    started = time.monotonic()
    plan = load_plan(str(path))
    took = time.monotonic() - started
    assert len(plan.cases) == 10_000
    assert took < 30, f"{took:.1f}s"


def test_aliases_used_as_intended_in_a_big_plan_are_fine(tmp_path: Path) -> None:
    first = ("  - id: C-0\n    name: case 0\n    steps: &steps\n      - exec: {command: [echo, hi]}\n"
             "        expect: [{contains: hi}, {exit_code: 0}]\n      - sleep: 0\n")
    cases = "".join(f"  - id: C-{n}\n    name: case {n}\n    steps: *steps\n" for n in range(1, 2_500))
    path = tmp_path / "anchored.yaml"
    path.write_text(f"version: 1\nname: anchored\ncases:\n{first}{cases}")
    plan = load_plan(str(path))
    assert len(plan.cases) == 2_500 and plan.cases[-1].steps[0].action == "exec"


def test_a_billion_laughs_is_refused_at_its_line_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    path = tmp_path / "laughs.yaml"
    path.write_text("version: 1\nname: laughs\n" + "\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(PlanErrors) as caught:
        load_plan(str(path))
    assert time.monotonic() - started < 1.0
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7:29: aliases expand to more than 100,000 values (alias bomb?)"]
