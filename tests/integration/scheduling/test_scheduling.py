"""Scheduling through the CLI, as a user runs it: order, exclusion, fail-fast, flakes, shards."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from tests.integration.conftest import orchestrator

PROVIDER = '''
import os, time
calls = 0

def call_api(prompt, options, context):
    global calls
    calls += 1
    kind, _, arg = prompt.partition(":")
    if kind == "sleep":
        time.sleep(float(arg))
    if kind == "bad":
        return {"output": "bad"}
    if kind == "flaky":  # every third call on this worker fails
        return {"output": "bad" if calls % 3 == 0 else "ok"}
    return {"output": "ok", "started": time.time()}
'''


def write_plan(folder: Path, cases: str, gate: str = "") -> Path:
    (folder / "prov.py").write_text(PROVIDER, encoding="utf-8")
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\nname: sched\nproviders:\n  p: {python: prov.py, workers: 4}\n"
                    + "  f: {python: prov.py, workers: 1}\n" + gate + "cases:\n"
                    + textwrap.indent(textwrap.dedent(cases), "  "), encoding="utf-8")
    return plan


def results(folder: Path, name: str = "out") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / name / "results.json").read_text(encoding="utf-8"))
    return data


def case(cid: str, prompt: str = "ok", priority: str = "P2", extra: str = "") -> str:
    return (f"- id: {cid}\n  name: {cid}\n  priority: {priority}\n{extra}  steps:\n"
            f"    - call: p\n      prompt: '{prompt}'\n      expect: [{{equals: ok}}]\n")


def test_plan_order_by_default_priority_order_on_request_results_in_plan_order(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, case("C-P2", priority="P2") + case("C-P0", priority="P0") + case("C-P1", priority="P1"))
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    printed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PASSED")]
    assert printed == ["C-P2", "C-P0", "C-P1"]  # the contract: -j 1 runs cases in plan order
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "--order", "priority")
    assert done.returncode == 0, done.stderr
    printed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PASSED")]
    assert printed == ["C-P0", "C-P1", "C-P2"]  # run (and printed) by priority
    assert [c["id"] for c in results(tmp_path)["cases"]] == ["C-P2", "C-P0", "C-P1"]  # reported in plan order


def test_serial_and_locked_cases_never_overlap(tmp_path: Path) -> None:
    cases = (case("L1", "sleep:0.3", extra="  lock: db\n") + case("L2", "sleep:0.3", extra="  lock: db\n")
             + case("S1", "sleep:0.3", extra="  serial: true\n") + case("F1", "sleep:0.3") + case("F2", "sleep:0.3"))
    plan = write_plan(tmp_path, cases)
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "-j", "4")
    assert done.returncode == 0, done.stderr
    spans = {c["id"]: (c["attempts"][0]["started_at"], c["attempts"][0]["started_at"] + c["attempts"][0]["duration_s"])
             for c in results(tmp_path)["cases"]}

    def overlap(a: str, b: str) -> bool:
        return spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]

    assert not overlap("L1", "L2")
    assert not any(overlap("S1", other) for other in spans if other != "S1")
    assert overlap("F1", "F2") or overlap("L1", "F1")  # the rest did run in parallel


def test_fail_fast_reports_the_rest_as_skipped(tmp_path: Path) -> None:
    cases = case("A", priority="P0") + case("B", "bad", priority="P0") + case("C") + case("D")
    plan = write_plan(tmp_path, cases)
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "--fail-fast")
    assert done.returncode == 1
    found = {c["id"]: (c["status"], c["message"]) for c in results(tmp_path)["cases"]}
    assert found["A"][0] == "passed" and found["B"][0] == "failed"
    assert found["C"] == ("skipped", "not run: fail-fast") and found["D"] == ("skipped", "not run: fail-fast")


def test_flaky_case_every_attempt_visible_and_the_gate_says_so(tmp_path: Path) -> None:
    flaky = ("- id: FLAKY\n  name: flaky\n  repeat: 6\n  steps:\n    - call: f\n      prompt: flaky\n"
             "      expect: [{equals: ok}]\n")
    plan = write_plan(tmp_path, flaky + case("OK"), gate="gate: {max_flaky: 0}\n")
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert "FLAKY       FLAKY" in done.stdout
    assert [line.split()[2] for line in done.stdout.splitlines() if line.strip().startswith("attempt")] == \
        ["passed", "passed", "failed", "passed", "passed", "failed"]
    assert "Flake rate: 2/6 attempts did not pass (33.3%)" in done.stdout
    assert "✘ max_flaky <= 0 — 1 flaky: FLAKY" in done.stdout
    data = results(tmp_path)
    flaky_case = data["cases"][0]
    assert flaky_case["status"] == "flaky" and len(flaky_case["attempts"]) == 6
    assert data["flake"]["cases"]["FLAKY"] == {"attempts": 6, "failed": 2, "rate": 2 / 6}
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="FLAKY' in junit


def test_repeat_for_the_run_and_stop_on_failure(tmp_path: Path) -> None:
    stopper = ("- id: STOP\n  name: stop\n  repeat: 50\n  stop_on_failure: true\n  steps:\n    - call: f\n"
               "      prompt: flaky\n      expect: [{equals: ok}]\n")
    plan = write_plan(tmp_path, stopper + case("OK"))
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"))
    first = {c["id"]: c for c in results(tmp_path)["cases"]}
    assert len(first["STOP"]["attempts"]) == 3 and first["STOP"]["status"] == "flaky", done.stdout
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out2"), "--repeat", "4", "--id", "OK")
    assert done.returncode == 0, done.stderr
    (only,) = results(tmp_path, "out2")["cases"]
    assert only["id"] == "OK" and len(only["attempts"]) == 4  # deselected cases are not reported


def test_k_that_does_not_parse_is_exit_2_in_one_line(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, case("A"))
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "-k", "smoke and (")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["orchestrator: error: -k 'smoke and (': expected a word at the end"]


def test_list_shows_what_runs_and_why_the_rest_does_not(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, case("SMOKE-1") + case("SMOKE-SLOW") + case("OTHER", priority="P1"))
    done = orchestrator("list", str(plan), "-k", "smoke and not slow")
    assert done.returncode == 0
    assert "  SMOKE-1  SMOKE-1  [P2]" in done.stdout
    assert "  - SMOKE-SLOW  SMOKE-SLOW  [deselected by -k 'smoke and not slow']" in done.stdout
    assert done.stdout.strip().endswith("1 case (2 left out)")


def test_two_shards_merged_equal_one_unsharded_run(tmp_path: Path) -> None:
    cases = "".join(case(f"C{i:02d}", priority=f"P{i % 3}", extra=f"  covers: [R{i % 4}]\n") for i in range(12))
    gate = ("requirements: {R0: a, R1: b, R2: c, R3: d}\n"
            "gate: {pass_rate: {P0: 100%}, max_flaky: 0, require_covered: [R0, R1, R2, R3]}\n")
    plan = write_plan(tmp_path, cases, gate=gate)
    whole = orchestrator("run", str(plan), "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stdout
    for i in (1, 2):
        shard = orchestrator("run", str(plan), "--out", str(tmp_path / f"s{i}"), "--shard", f"{i}/2",
                             "--durations", str(tmp_path / "whole" / "results.json"))
        assert shard.returncode == 0, shard.stdout
    parts = [results(tmp_path, f"s{i}")["cases"] for i in (1, 2)]
    assert parts[0] and parts[1] and not {c["id"] for c in parts[0]} & {c["id"] for c in parts[1]}
    merged = orchestrator("merge", str(tmp_path / "s2" / "results.json"), str(tmp_path / "s1" / "results.json"),
                          "--json", str(tmp_path / "merged" / "results.json"),
                          "--junit", str(tmp_path / "merged" / "junit.xml"))
    assert merged.returncode == 0, merged.stderr
    # the same words and gate block as `run`
    assert merged.stdout.startswith("Merged 2 results files: 12 cases\n")
    assert "Gate PASSED" in merged.stdout and "Report written: " + str(tmp_path / "merged" / "junit.xml") in merged.stdout
    assert re.search(r"^  [✔+] ", merged.stdout, re.M)
    one, two = results(tmp_path, "whole"), results(tmp_path, "merged")

    def essence(run: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(c["id"], c["status"], c["priority"], tuple(c["covers"]), len(c["attempts"])) for c in run["cases"]]

    assert essence(two) == essence(one)  # case for case, in plan order
    assert two["gate"] == one["gate"]
    assert (tmp_path / "merged" / "junit.xml").read_text(encoding="utf-8").count("<testcase") == 12
    missing = orchestrator("merge", str(tmp_path / "s1" / "results.json"), "--json", str(tmp_path / "m2.json"))
    assert missing.returncode == 2 and "is in no results file (is a shard missing?)" in missing.stderr


def test_max_memory_holds_cases_back_and_auto_jobs_run_in_parallel(tmp_path: Path) -> None:
    cases = "".join(case(f"M{i}", "sleep:0.3") for i in range(4))
    plan = write_plan(tmp_path, cases)
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "held"), "-j", "4", "--max-memory", "1B")
    assert done.returncode == 0, done.stderr
    spans = sorted((a["started_at"], a["started_at"] + a["duration_s"])
                   for c in results(tmp_path, "held")["cases"] for a in c["attempts"])
    assert all(end <= nxt_start + 0.05 for (_, end), (nxt_start, _) in zip(spans, spans[1:]))  # one at a time
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "auto"), "-j", "auto")
    assert done.returncode == 0, done.stderr
    jobs = {a["job"] for c in results(tmp_path, "auto")["cases"] for a in c["attempts"]}
    chosen = re.search(r"^-j auto: (\d+) cases? at once \(the smaller of (\d+) cores? and (\d+) = .* free memory / "
                       r".* a case", done.stdout, re.M)
    assert chosen and int(chosen.group(1)) == min(int(chosen.group(2)), int(chosen.group(3))), done.stdout
    assert len(jobs) >= 2  # 2 cores here, and far more than 2 GiB free
    bad = orchestrator("run", str(plan), "--out", str(tmp_path / "bad"), "--max-memory", "lots")
    assert bad.returncode == 2 and "--max-memory: invalid size 'lots'" in bad.stderr


def test_shipped_scheduling_plans_pass(tmp_path: Path) -> None:
    for plan in ("plans/flaky-detection.yaml", "plans/test-runner.yaml"):
        done = orchestrator("run", plan, "-q", "-j", "auto", "--out", str(tmp_path / Path(plan).stem))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Gate PASSED" in done.stdout
