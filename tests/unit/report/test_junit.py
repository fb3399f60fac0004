from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import xunitparser
from junitparser import Error, Failure, JUnitXml, Skipped
from lxml import etree

from orchestrator.report.junit import write_junit
from orchestrator.result.model import GateResult, PlanInfo, RunResult

from .factory import SCRIPT, many_cases, run_result

VALIDATOR = Path(__file__).resolve().parents[3] / ".." / "shared" / "junit" / "validate_junit.py"
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@pytest.fixture(scope="module")
def hostile_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("junit") / "junit.xml"
    write_junit(run_result(hostile=True, big=True), path)
    return path


@pytest.fixture(scope="module")
def cases(hostile_xml: Path) -> dict[str, object]:
    xml = JUnitXml.fromfile(str(hostile_xml))
    return {case.name.split(":")[0]: case for suite in xml for case in suite}


def outcome(case: object) -> str:
    results = case.result  # type: ignore[attr-defined]
    if not results:
        return "passed"
    kind = results[0]
    return {Failure: "failure", Error: "error", Skipped: "skipped"}[type(kind)]


def test_junitparser_reads_every_status(cases: dict[str, object]) -> None:
    assert {cid: outcome(c) for cid, c in cases.items()} == {
        "C-1": "passed", "C-2": "failure", "C-3": "error", "C-4": "skipped", "C-5": "skipped",
        "C-6": "passed", "C-7": "passed", "C-8": "error", "C-9": "failure",
    }


def test_names_classnames_files_lines_and_times(cases: dict[str, object]) -> None:
    c2 = cases["C-2"]
    assert c2.name == "C-2: fails"  # type: ignore[attr-defined]
    assert c2.classname == "smoke.e2e"  # type: ignore[attr-defined]
    assert cases["C-3"].classname == "smoke.cases"  # type: ignore[attr-defined]
    assert c2._elem.get("file") == "plans/smoke.yaml" and c2._elem.get("line") == "5"  # type: ignore[attr-defined]
    assert c2.time == pytest.approx(0.12)  # type: ignore[attr-defined]
    assert cases["C-4"].time == 0.0  # type: ignore[attr-defined]
    assert all(c._elem.get("time") is not None for c in cases.values())  # type: ignore[attr-defined]


def test_failure_error_and_skip_details(cases: dict[str, object]) -> None:
    failure = cases["C-2"].result[0]  # type: ignore[attr-defined]
    assert failure.type == "AssertionFailed"
    assert failure.message.startswith("assertion failed nul\\x00 esc\\x1b[31m vt\\x0b")
    assert "\n" not in failure.message
    assert 'expected: "want"' in failure.text and "actual:   \"got nul" in failure.text
    error = cases["C-3"].result[0]  # type: ignore[attr-defined]
    assert error.type == "ValueError" and "Traceback (most recent call last)" in error.text
    assert cases["C-8"].result[0].type == "Interrupted"  # type: ignore[attr-defined]
    assert cases["C-4"].result[0].message.startswith("not today")  # type: ignore[attr-defined]
    assert cases["C-5"].result[0].message == "xfail: known bug #12"  # type: ignore[attr-defined]
    retried = cases["C-9"].result[0].text  # type: ignore[attr-defined]
    assert "--- attempt 1/3: failed" in retried and "--- attempt 3/3: failed" in retried


def test_xpassed_and_flaky_say_so_in_system_out(cases: dict[str, object]) -> None:
    assert cases["C-6"].system_out.startswith("[orchestrator] XPASSED")  # type: ignore[attr-defined]
    flaky = cases["C-7"].system_out  # type: ignore[attr-defined]
    assert flaky.startswith("[orchestrator] FLAKY: attempts disagreed (failed, passed)")
    assert "--- attempt 1/2 (failed) ---" in flaky and "second try" in flaky


def test_huge_output_is_truncated_with_a_note(cases: dict[str, object], hostile_xml: Path) -> None:
    out = cases["C-1"].system_out  # type: ignore[attr-defined]
    assert len(out) < 70_000
    assert re.search(r"\[\.\.\. [\d,]+ characters truncated; full output in results.json\]", out)
    assert hostile_xml.stat().st_size < 2 * 2**20


def test_hostile_text_is_escaped_visibly_and_survives_as_text(hostile_xml: Path, cases: dict[str, object]) -> None:
    raw = hostile_xml.read_bytes().decode("utf-8")
    assert not XML_ILLEGAL.search(raw)
    assert not re.search(r"&#x?0*(?:[0-8bcBC]|1[0-9a-fA-F]|d[89a-fA-F][0-9a-fA-F]{2});", raw)
    err = cases["C-1"].system_err  # type: ignore[attr-defined]
    assert SCRIPT in err and "]]>" in err and "😀" in err and "\\ud800" in err and "\\uffff" in err


def test_lxml_parses_with_default_limits(hostile_xml: Path) -> None:
    root = etree.parse(str(hostile_xml)).getroot()
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root] == ["smoke", "other"]  # the plan without cases is left out


def test_counts_match_what_consumers_recount(hostile_xml: Path) -> None:
    suite, result = xunitparser.parse(open(hostile_xml, "rb"))  # asserts root totals itself
    assert result.testsRun == 9
    assert (len(result.failures), len(result.errors), len(result.skipped)) == (2, 2, 2)
    root = etree.parse(str(hostile_xml)).getroot()
    for s in root:
        direct = s.findall("testcase")
        assert s.get("tests") == str(len(direct))
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert s.get(attr) == str(sum(1 for c in direct if c.find(tag) is not None))


def test_properties_carry_gate_and_case_metadata(hostile_xml: Path) -> None:
    root = etree.parse(str(hostile_xml)).getroot()
    first = root[0]
    props = {p.get("name"): p.get("value") for p in first.find("properties")}
    assert props["gate"] == "failed"
    assert props["gate: pass_rate[P0] >= 100%"] == "failed — 0/1 passed (0%)"
    assert props["gate: max_flaky <= 1"].startswith("passed — 1 flaky")
    assert root[1].find("properties") is None  # xunitparser: property names unique per document
    case = first.find("testcase[@name='C-2: fails']")
    case_props = {p.get("name"): p.get("value") for p in case.find("properties")}
    assert case_props == {"priority": "P0", "level": "e2e", "tags": "smoke", "covers": "AC-1", "status": "failed"}


def test_gate_passed_and_empty_run(tmp_path: Path) -> None:
    write_junit(run_result(gate_passed=True), tmp_path / "ok.xml")
    root = etree.parse(str(tmp_path / "ok.xml")).getroot()
    assert {p.get("name"): p.get("value") for p in root[0].find("properties")}["gate"] == "passed"
    empty = RunResult(plans=(PlanInfo("p", "P", "p.yaml"),), cases=(), gate=GateResult(True), started_at=0.0,
                      duration_s=0.0)
    write_junit(empty, tmp_path / "empty.xml")
    suite, result = xunitparser.parse(open(tmp_path / "empty.xml", "rb"))
    assert result.testsRun == 0


def test_write_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text("old", encoding="utf-8")
    write_junit(run_result(), path)
    assert path.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]


def test_many_chatty_cases_stay_under_gitlab_size_limit(tmp_path: Path) -> None:
    run = many_cases(3000)
    chatty = tuple(replace(c, attempts=tuple(replace(a, stdout="x" * 100_000) for a in c.attempts)) for c in run.cases)
    write_junit(replace(run, cases=chatty), tmp_path / "big.xml")
    assert (tmp_path / "big.xml").stat().st_size < 30 * 2**20


def test_shared_validator_accepts_the_hostile_report(hostile_xml: Path) -> None:
    if not VALIDATOR.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing; CI must validate the JUnit report")
        print(f"skipping: {VALIDATOR} not found")
        pytest.skip(f"{VALIDATOR} not found")
    proc = subprocess.run([sys.executable, str(VALIDATOR), str(hostile_xml)], capture_output=True, text=True,
                          timeout=300)
    fatal = [line for line in proc.stdout.splitlines() if line.startswith("FAIL") and "xsd:" not in line]
    warned = [line for line in proc.stdout.splitlines() if line.startswith("WARN")]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not fatal and not warned, proc.stdout


def test_flaky_and_rerun_attempts_follow_surefire_for_jenkins_style_readers(hostile_xml: Path) -> None:
    from junitparser import xunit2

    xml = xunit2.JUnitXml.fromfile(str(hostile_xml))
    by_id = {case.name.split(":")[0]: case for suite in xml for case in suite}
    flaky = by_id["C-7"]
    assert flaky.is_flaky and not flaky.is_rerun and flaky.is_passed
    [interim] = flaky.flaky_failures()
    assert interim.type == "AssertionFailed" and interim.message.startswith("attempt 1/2: ")
    assert "expected: \"want\"" in interim.stack_trace and "first try" in interim.system_out
    rerun = by_id["C-9"]  # failed, passed, failed: <failure> is attempt 1, attempt 3 is the rerun
    assert rerun.is_rerun and not rerun.is_flaky and rerun.is_failure
    assert [r.message.split(":")[0] for r in rerun.rerun_failures()] == ["attempt 3/3"]
    single = by_id["C-2"]
    assert not single.is_rerun and not single.is_flaky
    # xunitparser and the plain reader still count the final outcome only
    suite, result = xunitparser.parse(open(hostile_xml, "rb"))
    assert result.testsRun == 9 and len(result.failures) == 2


def test_interim_children_sit_before_system_out(hostile_xml: Path) -> None:
    root = etree.parse(str(hostile_xml)).getroot()
    case = root.find(".//testcase[@name='C-7: flaky']")
    assert [c.tag for c in case] == ["properties", "flakyFailure", "system-out"]
    case = root.find(".//testcase[@name='C-9: repeat mixed fail']")
    assert [c.tag for c in case][:3] == ["properties", "failure", "rerunFailure"]


def test_a_failed_exec_puts_its_stderr_tail_in_the_failure_and_numbers_steps_from_one(tmp_path: Path) -> None:
    from orchestrator.result.model import AssertionResult, Attempt, CaseResult, Status, StepResult

    check = AssertionResult("exit_code", False, 0, 4, "exit_code", "exit code was 4", 18)
    step = StepResult(0, "exec", "exec", Status.FAILED, 0.1, (check,), line=17,
                      fields={"stderr": "".join(f"noise {n}\n" for n in range(25)) + "oops\x1b[0m\n"})
    case = CaseResult("F-2", "crash", "p", "p.yaml", 14, Status.FAILED, "step 1 (exec): exit_code: exit code was 4", 0.1,
                      (Attempt(Status.FAILED, 0.1, steps=(step,)),))
    run = RunResult(plans=(PlanInfo("p", "P", "p.yaml"),), cases=(case,), gate=GateResult(False), started_at=1e9,
                    duration_s=0.1)
    write_junit(run, tmp_path / "j.xml")
    [failure] = [r for suite in JUnitXml.fromfile(str(tmp_path / "j.xml")) for c in suite for r in c.result]
    text = failure.text.splitlines()
    assert text[1] == "step 1 'exec' (exec, line 17): failed in 0.100s"
    assert text[2] == "  exit_code (line 18): exit code was 4"
    assert text[5] == "  stderr (last 20 lines):" and text[6] == "    noise 6" and text[-1] == "    oops\\x1b[0m"
