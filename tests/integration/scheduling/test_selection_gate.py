"""Selections and gates as a user meets them: an empty selection is an error, a gate relaxes only
what it names, a partial run says so, `report` judges the gate again, skipped is not passed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import orchestrator
from tests.integration.scheduling.test_scheduling import case, results, write_plan

CASES = (case("E2E-001", priority="P0", extra="  covers: [AC-1]\n  tags: [smoke]\n  level: e2e\n")
         + case("E2E-002", priority="P1", extra="  covers: [AC-2]\n  level: unit\n")
         + case("E2E-003", priority="P1", extra="  tags: [slow]\n"))
REQUIREMENTS = "requirements: {AC-1: one, AC-2: two}\n"


def plan_with(tmp_path: Path, gate: str = "gate: {require_covered: [AC-1, AC-2]}\n", cases: str = CASES) -> Path:
    return write_plan(tmp_path, cases, gate=REQUIREMENTS + gate)


@pytest.mark.parametrize("selection, message", [
    (["--priority", "P3"], "--priority P3 matched no case; priorities in the plan: P0, P1"),
    (["--priority", "p2,P3"], "--priority p2,P3 matched no case; priorities in the plan: P0, P1"),
    (["--priority", "p3"], "--priority p3 matched no case; priorities in the plan: P0, P1"),
    (["--level", "CHAOS", "--priority", "p0"], "--level CHAOS matched no case; levels in the plan: unit, e2e"),
    (["--tag", "typo"], "--tag typo matched no case; tags in the plan: slow, smoke"),
    (["--tag", "smoke,smoek"], "--tag smoek matched no case (did you mean 'smoke'?); tags in the plan: slow, smoke"),
    (["--id", "e2e-001"], "--id e2e-001 matched no case (did you mean 'E2E-001'?); "
                          "ids in the plan: E2E-001, E2E-002, E2E-003"),
    (["--level", "chaos"], "--level chaos matched no case; levels in the plan: unit, e2e"),
    (["-k", "nomatch"], "-k nomatch matched no case; -k matches words in case ids, names and tags; "
                        "ids in the plan: E2E-001, E2E-002, E2E-003"),
    (["--id", "NOPE"], "--id NOPE matched no case; ids in the plan: E2E-001, E2E-002, E2E-003"),
    (["--id", "E2E-001", "--id", "E2E-0003"], "--id E2E-0003 matched no case (did you mean 'E2E-003'?); "
                                         "ids in the plan: E2E-001, E2E-002, E2E-003"),
    (["--id", "X-*"], "--id X-* matched no case; ids in the plan: E2E-001, E2E-002, E2E-003"),
    (["--priority", "P1", "--tag", "smoke"], "--tag smoke --priority P1 matched no case (each option matches cases "
                                             "on its own, but no case matches all of them); ids in the plan: "
                                             "E2E-001, E2E-002, E2E-003"),
    (["--priority", "P5"], "--priority P5: no such value; use P0, P1, P2, P3"),
    (["--level", "e2ee"], "--level e2ee: no such value (did you mean 'e2e'?); use unit, integration, system, e2e, "
                          "performance, chaos"),
])
def test_a_run_that_selects_no_case_exits_2_naming_the_selection(tmp_path: Path, selection: list[str],
                                                                 message: str) -> None:
    plan = plan_with(tmp_path)
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), *selection)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [f"orchestrator: error: {message}"]
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written that could look like a green run


@pytest.mark.parametrize("option, value", [("--priority", "p0"), ("--priority", "P0"), ("--level", "E2E"),
                                           ("--level", "e2e")])
def test_priority_and_level_are_matched_case_insensitively(tmp_path: Path, option: str, value: str) -> None:
    done = orchestrator("run", str(plan_with(tmp_path)), "--out", str(tmp_path / "out"), option, value)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [c["id"] for c in results(tmp_path)["cases"]] == ["E2E-001"]


def test_list_of_an_empty_selection_is_not_an_error(tmp_path: Path) -> None:
    done = orchestrator("list", str(plan_with(tmp_path)), "--tag", "typo")
    assert done.returncode == 0
    assert done.stdout.strip().endswith("0 cases (3 left out)")


def test_a_typo_fails_every_shard_but_an_empty_shard_passes_and_merges(tmp_path: Path) -> None:
    plan = plan_with(tmp_path)
    for i in (1, 2, 3):
        typo = orchestrator("run", str(plan), "--out", str(tmp_path / f"t{i}"), "--shard", f"{i}/3", "-k", "smoek")
        assert typo.returncode == 2 and "-k smoek matched no case" in typo.stderr
    counts = []
    for i in range(1, 6):
        shard = orchestrator("run", str(plan), "--out", str(tmp_path / f"s{i}"), "--shard", f"{i}/5",
                             "--id", "E2E-001")
        assert shard.returncode == 0, shard.stdout + shard.stderr
        counts.append(len(results(tmp_path, f"s{i}")["cases"]))
    assert sorted(counts) == [0, 0, 0, 0, 1]  # four shards received no case
    merged = orchestrator("merge", *(str(tmp_path / f"s{i}" / "results.json") for i in range(1, 6)),
                          "--json", str(tmp_path / "merged.json"))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "not a full gate: only the cases selected by --id E2E-001 ran" in merged.stdout
    gate = json.loads((tmp_path / "merged.json").read_text(encoding="utf-8"))["gate"]
    rules = {r["rule"]: r for r in gate["rules"]}
    assert rules["covered AC-1"]["passed"] and rules["covered AC-1"]["judged"]
    assert rules["covered AC-2"] == {"rule": "covered AC-2", "passed": True, "judged": False,
                                     "detail": "not judged: covering cases not selected"}


def test_a_selection_does_not_fail_coverage_it_deselected_and_says_it_is_not_a_full_gate(tmp_path: Path) -> None:
    """`--id E2E-001` on a plan with require_covered failed the gate (AC-2's case was deselected)."""
    plan = plan_with(tmp_path)
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "--id", "E2E-001")
    assert done.returncode == 0, done.stdout
    assert "Gate PASSED (not a full gate: only the cases selected by --id E2E-001 ran)" in done.stdout
    assert "- covered AC-2 — not judged: covering cases not selected" in done.stdout
    assert results(tmp_path)["gate"]["selection"] == "--id E2E-001"
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="gate.scope" value="not a full gate: only the cases selected by --id E2E-001 ran"' in junit
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="gate-scope"' in html and 'class="notjudged"' in html
    full = orchestrator("run", str(plan), "--out", str(tmp_path / "full"))
    assert "Gate PASSED\n" in full.stdout and "not a full gate" not in full.stdout


@pytest.mark.parametrize("gate", ["gate: {max_flaky: 0}\n", "gate: {}\n", "gate: {require_covered: [AC-1]}\n",
                                  "gate: {pass_rate: {P1: 50%}}\n", "gate: {pass_rate: {P3: 0%}}\n"])
@pytest.mark.parametrize("priority", ["P0", "P2"])
def test_a_failing_case_fails_a_gate_that_does_not_tolerate_its_priority(tmp_path: Path, gate: str,
                                                                         priority: str) -> None:
    cases = case("OK", priority="P1", extra="  covers: [AC-1]\n") + case("BAD", "bad", priority=priority)
    done = orchestrator("run", str(plan_with(tmp_path, gate, cases)), "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout
    assert "Gate FAILED" in done.stdout


def test_a_named_0_percent_tolerates_that_priority(tmp_path: Path) -> None:
    cases = case("OK", priority="P0") + case("BAD", "bad", priority="P3")
    done = orchestrator("run", str(plan_with(tmp_path, "gate: {pass_rate: {P3: 0%}}\n", cases)),
                        "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout
    assert "✔ pass_rate[P3] >= 0% — 0/1 passed (0%)" in done.stdout


SKIPPED_BY_IF = ("- id: IFS\n  name: all skipped\n  priority: P0\n  vars: {go: false}\n  steps:\n"
                 "    - call: p\n      prompt: ok\n      if: go\n      expect: [{equals: ok}]\n")


def test_a_case_whose_steps_were_all_skipped_is_skipped_everywhere_and_fails_its_rule(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, "gate: {pass_rate: {P0: 100%}}\n", SKIPPED_BY_IF + case("OK", priority="P1"))
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "-v")
    assert done.returncode == 1, done.stdout
    assert "SKIPPED     IFS  all skipped" in done.stdout
    assert "no step ran (all skipped by if:); step 1: if 'go' was false" in done.stdout
    assert "step 1 call p: skipped 0.00s (if 'go' was false)" in done.stdout
    assert "✘ pass_rate[P0] >= 100% — nothing ran: none of 1 P0 case(s) ran (1 skipped)" in done.stdout
    (ifs, _) = results(tmp_path)["cases"]
    assert ifs["status"] == "skipped" and ifs["attempts"][0]["steps"][0]["status"] == "skipped"
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert '<skipped message="no step ran (all skipped by if:); step 1: if \'go\' was false"' in junit


def test_a_step_skipped_by_if_in_a_passing_case_is_noted_in_junit(tmp_path: Path) -> None:
    cases = ("- id: SOME\n  name: some skipped\n  steps:\n    - call: p\n      prompt: ok\n      if: 'false'\n"
             "    - call: p\n      prompt: ok\n")
    done = orchestrator("run", str(plan_with(tmp_path, "", cases)), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert "[orchestrator] step 1 'call p': skipped (if 'false' was false)" in junit


def test_report_judges_the_gate_again_and_says_when_the_file_disagrees(tmp_path: Path) -> None:
    """`report` used to trust the stored `gate.passed` of a hand-edited or stale file."""
    done = orchestrator("run", str(plan_with(tmp_path)), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout
    path = tmp_path / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["cases"][1]["status"] = "failed"  # the file says the gate passed; its cases say otherwise
    path.write_text(json.dumps(data), encoding="utf-8")
    again = orchestrator("report", str(path), "--out", str(tmp_path / "again"))
    assert again.returncode == 1, again.stdout + again.stderr
    assert again.stderr.strip().splitlines() == [
        f"orchestrator: {path}: the stored gate verdict (PASSED) disagrees with its cases; judged again: FAILED"]
    assert 'id="verdict" class="verdict failed"' in (tmp_path / "again" / "report.html").read_text(encoding="utf-8")
    data["cases"][1]["status"] = "passed"
    data["gate"]["passed"] = False  # a stale verdict the other way
    path.write_text(json.dumps(data), encoding="utf-8")
    fixed = orchestrator("report", str(path), "--out", str(tmp_path / "again"))
    assert fixed.returncode == 0 and "judged again: PASSED" in fixed.stderr
    agree = orchestrator("report", str(tmp_path / "again" / ".." / "out" / "results.json"), "--out",
                         str(tmp_path / "x"))
    assert agree.returncode == 0


def test_retries_with_repeat_hunt_flakes(tmp_path: Path) -> None:
    flaky = ("- id: FL\n  name: flaky\n  retries: 2\n  steps:\n    - call: f\n      prompt: flaky\n"
             "      expect: [{equals: ok}]\n")
    done = orchestrator("run", str(write_plan(tmp_path, flaky)), "--out", str(tmp_path / "out"), "--repeat", "4")
    (only,) = results(tmp_path)["cases"]
    # every third call fails; the failed repetition is retried: ok | ok | bad, ok | ok
    assert [a["status"] for a in only["attempts"]] == ["passed", "passed", "failed", "passed", "passed"], done.stdout
    assert only["status"] == "flaky"
