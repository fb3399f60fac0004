"""Each file in tests/fixtures/bad_plans/ lists, as `# expect:` comments, exactly what a user sees."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.errors import PlanErrors
from orchestrator.plan.load import load_plan, load_plans

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "fixtures" / "bad_plans"
FIXTURES = sorted(p.name for p in BAD.glob("*.yaml"))


def expected_lines(relative: str) -> list[str]:
    """`# expect: L:C: msg` is in the fixture itself; `# expect: other.yaml:L:C: msg` in a sibling file;
    `# expect+ text` is a second line of the message above it."""
    out = []
    folder = str(Path(relative).parent)
    for line in (ROOT / relative).read_text().splitlines():
        if line.startswith("# expect+ "):
            out[-1] += "\n" + line[len("# expect+ "):]
        elif line.startswith("# expect: "):
            text = line[len("# expect: "):]
            out.append(f"{relative}:{text}" if text[0].isdigit() else f"{folder}/{text}")
    return out


def test_there_are_enough_fixtures() -> None:
    assert len(FIXTURES) >= 20


@pytest.mark.parametrize("name", FIXTURES)
def test_bad_plan_reports_exactly_its_expected_problems(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    relative = f"tests/fixtures/bad_plans/{name}"
    expected = expected_lines(relative)
    assert expected, f"{name} has no '# expect:' lines"
    started = time.perf_counter()
    with pytest.raises(PlanErrors) as caught:
        load_plan(relative)
    assert time.perf_counter() - started < 0.5
    assert [str(p) for p in caught.value.problems] == expected
    assert str(caught.value).splitlines() == "\n".join(expected).splitlines()


def test_load_plans_reports_the_problems_of_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    paths = ["tests/fixtures/bad_plans/typo_top_key.yaml", "tests/fixtures/good_plans/small.yaml",
             "tests/fixtures/bad_plans/bad_size.yaml"]
    with pytest.raises(PlanErrors) as caught:
        load_plans(paths)
    files = {p.location.file for p in caught.value.problems}
    assert files == {paths[0], paths[2]}


def test_absolute_path_stays_absolute_in_messages() -> None:
    path = str(BAD / "typo_case_key.yaml")
    with pytest.raises(PlanErrors) as caught:
        load_plan(path)
    assert str(caught.value) == f"{path}:6:5: unknown key 'prioirty' in case (did you mean 'priority'?)"


def test_missing_file_and_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlanErrors) as caught:
        load_plan("nope.yaml")
    assert str(caught.value) == "nope.yaml:1:1: no such file"
    (tmp_path / "plans").mkdir()
    with pytest.raises(PlanErrors) as caught:
        load_plan("plans")
    assert str(caught.value) == "plans:1:1: is a directory, not a plan file"
