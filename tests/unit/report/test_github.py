from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from orchestrator.report.github import annotation, escape_data, escape_property, report_to_github, summary

from .factory import SCRIPT, run_result


def test_escaping_follows_the_runner_rules() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_annotation_for_a_failed_case_points_at_the_failed_assertion() -> None:
    case = run_result().cases[1]  # the case is at line 5, its failed assertion at line 12
    assert annotation(case) == ("::error file=plans/smoke.yaml,line=12,title=C-2%3A fails [failed]::"
                                "assertion failed %0Asecond line")
    errored = run_result().cases[2]  # no assertion failed: the erroring step's line (10 + its index)
    assert f",line={errored.steps[-1].line}," in annotation(errored)
    not_run = replace(case, attempts=())  # nothing ran: the case's own line
    assert ",line=5," in annotation(not_run)


def test_nothing_outside_github_actions(tmp_path: Path) -> None:
    out = io.StringIO()
    report_to_github(run_result(), env={"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}, out=out)
    assert out.getvalue() == "" and not (tmp_path / "s.md").exists()


def test_annotations_and_summary_under_github_actions(tmp_path: Path) -> None:
    out = io.StringIO()
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(target)}
    assert report_to_github(run_result(hostile=True), env=env, out=out) == ""
    lines = out.getvalue().rstrip("\n").split("\n")
    assert [line.split("title=")[1].split("%3A")[0] for line in lines] == ["C-2", "C-3", "C-6", "C-8", "C-9"]
    assert all(line.startswith("::error file=plans/") for line in lines)  # one line each: CR/LF escaped
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## ")  # appended, never replaced
    assert "gate ❌ failed" in text and "| pass_rate[P0] &gt;= 100% | ❌ | 0/1 passed (0%) |" in text
    assert "| C-2: fails | failed | plans/smoke.yaml:5 | assertion failed" in text
    assert SCRIPT not in text and "&lt;/script&gt;" in text


def test_summary_of_a_passing_run() -> None:
    run = run_result(gate_passed=True)
    run = replace(run, cases=run.cases[:1])
    text = summary(run)
    assert "gate ✅ passed" in text and "did not pass" not in text and "| passed | total |" in text


def test_unwritable_summary_is_reported_not_raised(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path)}  # a directory
    problem = report_to_github(run_result(), env=env, out=io.StringIO())
    assert problem.startswith("cannot append the GitHub step summary")
