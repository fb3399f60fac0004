"""The strict JUnit flavour (Jenkins xUnit / Surefire XSDs), wall-clock suite times, xfail wording."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from orchestrator.report.junit import write_junit
from orchestrator.result.model import Attempt, CaseResult, GateResult, PlanInfo, RunResult, Status

from .factory import T0, run_result

# ../shared beside the clone (CI); a git worktree sits one folder deeper.
_ROOT = Path(__file__).resolve().parents[3]
VALIDATOR = next((p for p in (_ROOT.parent / "shared/junit/validate_junit.py",
                              _ROOT.parent.parent / "shared/junit/validate_junit.py") if p.is_file()),
                 _ROOT.parent / "shared/junit/validate_junit.py")
STRICT_XSDS = "jenkins-xunit-junit-10,surefire-test-report"


def _validator() -> Path:
    if not VALIDATOR.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing; CI must validate the JUnit report")
        pytest.skip(f"{VALIDATOR} not found")
    return VALIDATOR


@pytest.fixture(scope="module")
def strict_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("strict") / "junit.xml"
    write_junit(run_result(hostile=True, big=True), path, flavor="strict")
    return path


def test_strict_flavour_passes_the_jenkins_xunit_and_surefire_xsds_with_every_status(strict_xml: Path) -> None:
    proc = subprocess.run([sys.executable, str(_validator()), str(strict_xml), "--require-xsd", STRICT_XSDS],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for stem in STRICT_XSDS.split(","):
        assert any(line.split()[:2] == ["PASS", f"xsd:{stem}"] for line in proc.stdout.splitlines()), proc.stdout


def test_strict_flavour_is_one_suite_with_every_case_and_right_totals(strict_xml: Path) -> None:
    root = etree.parse(str(strict_xml)).getroot()
    assert root.tag == "testsuite" and root.get("name") == "smoke+other"
    cases = root.findall("testcase")
    assert len(cases) == 9 and root.get("tests") == "9"
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("2", "2", "2")
    assert {c.get("classname") for c in cases} == {"smoke.e2e", "smoke.cases", "other.e2e"}
    assert root.get("time") == "3.210"  # the run's wall time, not the sum of case times


def test_strict_flavour_moves_labels_file_and_line_into_system_out(strict_xml: Path) -> None:
    root = etree.parse(str(strict_xml)).getroot()
    assert all(c.get("file") is None and c.get("line") is None and c.find("properties") is None
               for c in root.iter("testcase"))
    case = root.find("testcase[@name='C-2: fails']")
    out = case.find("system-out").text.splitlines()
    assert out[:7] == ["[orchestrator] file: plans/smoke.yaml", "[orchestrator] line: 5",
                       "[orchestrator] priority: P0", "[orchestrator] level: e2e", "[orchestrator] tags: smoke",
                       "[orchestrator] covers: AC-1", "[orchestrator] status: failed"]
    assert out[7].startswith("0123456789abcdef")  # then what the case printed
    gate = {p.get("name"): p.get("value") for p in root.find("properties")}
    assert gate["gate"] == "failed"  # the run-wide gate stays a suite property


def test_strict_flavour_orders_children_as_surefire_demands(tmp_path: Path) -> None:
    run = run_result()
    # an error whose later attempt failed: <error> must come after <rerunFailure> for Surefire
    c3 = run.cases[2]
    errored = replace(c3, attempts=(c3.attempts[0], replace(run.cases[1].attempts[0])))
    write_junit(replace(run, cases=(errored,)), tmp_path / "j.xml", flavor="strict")
    case = etree.parse(str(tmp_path / "j.xml")).getroot().find("testcase")
    assert [c.tag for c in case] == ["rerunFailure", "error", "system-out", "system-err"]
    write_junit(replace(run, cases=(errored,)), tmp_path / "d.xml")
    default = etree.parse(str(tmp_path / "d.xml")).getroot().find(".//testcase")
    assert [c.tag for c in default] == ["properties", "error", "rerunFailure", "system-out", "system-err"]


def test_default_flavour_keeps_its_shape_and_an_unknown_flavour_is_refused(tmp_path: Path) -> None:
    write_junit(run_result(), tmp_path / "d.xml", flavor="default")
    root = etree.parse(str(tmp_path / "d.xml")).getroot()
    assert root.tag == "testsuites" and root.find(".//testcase").get("file") == "plans/smoke.yaml"
    with pytest.raises(ValueError, match="unknown JUnit flavour 'loose'"):
        write_junit(run_result(), tmp_path / "x.xml", flavor="loose")


def _parallel_run() -> RunResult:
    """Three 2-second cases of one plan that ran at once, and one case of another plan."""
    def case(cid: str, plan: str, start: float) -> CaseResult:
        return CaseResult(cid, cid, plan, f"{plan}.yaml", 1, Status.PASSED, "", 2.0,
                          (Attempt(Status.PASSED, 2.0, started_at=start),))
    cases = (case("A", "p", T0), case("B", "p", T0 + 0.5), case("C", "p", T0 + 1.0), case("D", "q", T0 + 3.0))
    return RunResult(plans=(PlanInfo("p", "P", "p.yaml"), PlanInfo("q", "Q", "q.yaml")), cases=cases,
                     gate=GateResult(True), started_at=T0 - 0.2, duration_s=5.4)


@pytest.mark.parametrize("flavor", ["default", "strict"])
def test_suite_time_is_wall_time_not_the_sum_of_case_times(tmp_path: Path, flavor: str) -> None:
    write_junit(_parallel_run(), tmp_path / "j.xml", flavor=flavor)
    root = etree.parse(str(tmp_path / "j.xml")).getroot()
    assert root.get("time") == "5.400"  # sum of case times would be 8.000
    if flavor == "default":
        assert [s.get("time") for s in root] == ["3.000", "2.000"]  # p: 3 cases at once, 0.0 -> 3.0


def test_a_single_suite_takes_the_run_wall_time(tmp_path: Path) -> None:
    run = _parallel_run()
    write_junit(replace(run, cases=run.cases[:3], plans=run.plans[:1]), tmp_path / "j.xml")
    root = etree.parse(str(tmp_path / "j.xml")).getroot()
    assert root.get("time") == root[0].get("time") == "5.400"


def test_xfail_and_xpass_messages_as_the_engine_writes_them_are_not_doubled(tmp_path: Path) -> None:
    run = run_result()
    xfail = replace(run.cases[4], message="xfail: known bug #12 (step 1 (exec): exit_code: exit code was 1)")
    xpass = replace(run.cases[5], message="xpassed: expected to fail (known bug #13) but passed")
    write_junit(replace(run, cases=(xfail, xpass)), tmp_path / "j.xml")
    root = etree.parse(str(tmp_path / "j.xml")).getroot()
    skipped = root.find(".//testcase[@name='C-5: xfails']/skipped")
    assert skipped.get("message") == "xfail: known bug #12 (step 1 (exec): exit_code: exit code was 1)"
    note = root.find(".//testcase[@name='C-6: xpasses']/system-out").text
    assert note.splitlines()[0] == "[orchestrator] XPASSED: expected to fail (known bug #13) but passed"


def test_report_and_merge_take_the_flavour_from_the_command_line(tmp_path: Path) -> None:
    from orchestrator.cli import main
    from orchestrator.report.json_report import write_results

    write_results(run_result(), tmp_path / "results.json")
    assert main(["report", str(tmp_path / "results.json"), "--junit", str(tmp_path / "s.xml"),
                 "--junit-flavor", "strict"]) == 1  # the factory's gate failed
    assert etree.parse(str(tmp_path / "s.xml")).getroot().tag == "testsuite"
    main(["merge", str(tmp_path / "results.json"), "--json", str(tmp_path / "m.json"),
          "--junit", str(tmp_path / "m.xml"), "--junit-flavor", "strict"])
    assert etree.parse(str(tmp_path / "m.xml")).getroot().tag == "testsuite"
    main(["report", str(tmp_path / "results.json"), "--junit", str(tmp_path / "d.xml")])
    assert etree.parse(str(tmp_path / "d.xml")).getroot().tag == "testsuites"
    assert main(["report", str(tmp_path / "results.json"), "--junit-flavor", "xsd"]) == 2
