"""`orchestrator validate` as a user reads it: every file its `ok` line or its errors, in one pass."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[3]
BAD = "tests/fixtures/bad_plans/names_in_expressions.yaml"
GOOD = "tests/fixtures/good_plans/small.yaml"


def test_several_files_each_get_ok_or_their_errors(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["validate", GOOD, BAD, "plans/code-execution.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith(f"{GOOD}: ok (")
    assert out.splitlines()[1].startswith("plans/code-execution.yaml: ok (")
    assert len(out.splitlines()) == 2
    assert f"{BAD}:16:19: unknown name 'bom'; did you mean 'boom'?" in err


def test_counts_are_pluralised(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("one.yaml").write_text("version: 1\nname: one\ncases:\n  - {id: A, name: a, steps: [{sleep: 1ms}]}\n")
    assert main(["validate", "one.yaml"]) == 0
    assert capsys.readouterr().out == "one.yaml: ok (1 case, 0 providers)\n"


def test_schema_problems_do_not_hide_the_checks_of_the_same_step(capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["validate", "tests/fixtures/bad_plans/several_mistakes_in_one_step.yaml"]) == 2
    err = capsys.readouterr().err
    assert "invalid duration 'soon'" in err and "unknown provider 'ecko'" in err
