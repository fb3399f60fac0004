"""Inner tests (an exec's `junit:` file) in JUnit: a testcase each; the case's own only when unexplained."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from orchestrator.report.junit import write_junit
from orchestrator.result.model import (AssertionResult, Attempt, CaseResult, ErrorInfo, GateResult, InnerTest,
                                       PlanInfo, RunResult, Status, StepResult)

from .test_junit_flavours import VALIDATOR

TESTS = (InnerTest("test_a", Status.PASSED, 0.1, "m", "t/test_m.py", 3),
         InnerTest("TestK::test_b[1]", Status.FAILED, 0.2, "m.TestK", "t/test_m.py", 9, "assert 1 == 2",
                   "def test_b():\n>   assert 1 == 2\nE   assert 1 == 2"),
         InnerTest("test_c", Status.SKIPPED, 0.0, "m", "t/test_m.py", 12, "not today"))
PASSING = tuple(t for t in TESTS if t.status is not Status.FAILED)


def _check(kind: str, passed: bool) -> AssertionResult:
    return AssertionResult(kind, passed, 0, 1, "tests" if kind == "junit" else kind, "" if passed else f"{kind} broke")


def _case(status: Status, tests: tuple[InnerTest, ...], checks: tuple[AssertionResult, ...] = (),
          error: ErrorInfo | None = None, extra: tuple[StepResult, ...] = (), xfail: bool = False) -> CaseResult:
    step_status = Status.ERROR if error else Status.FAILED if any(not c.passed for c in checks) else Status.PASSED
    step = StepResult(0, "exec", "exec", step_status, 0.5, checks, error, {"stdout": "", "exit_code": 1}, 7, tests)
    attempt = Attempt(Status.FAILED if xfail else status, 0.5, steps=(step, *extra), started_at=1e9)
    return CaseResult("FILE-test_m", "test_m.py", "p", "t/test_m.py", 1, status, "why" if status.value != "passed" else "",
                      0.5, (attempt,), priority="P1", level="unit")


def _names(case: CaseResult, tmp_path: Path, flavor: str = "default") -> list[str]:
    run = RunResult(plans=(PlanInfo("p", "P", "p.yaml"),), cases=(case,), gate=GateResult(True), started_at=1e9,
                    duration_s=1.0)
    write_junit(run, tmp_path / "j.xml", flavor=flavor)
    return [c.get("name") for c in etree.parse(str(tmp_path / "j.xml")).getroot().iter("testcase")]


INNER = ["FILE-test_m::test_a", "FILE-test_m::TestK::test_b[1]", "FILE-test_m::test_c"]
OWN = "FILE-test_m: test_m.py"
LEAK = StepResult(1, "leak check", "leak-check", Status.ERROR, 0.0, (), ErrorInfo("ProcessLeak", "pid 4 left"))


@pytest.mark.parametrize("case, expected", [
    (_case(Status.PASSED, PASSING, (_check("junit", True), _check("exit_code", True))), INNER[::2]),
    (_case(Status.FAILED, TESTS, (_check("junit", False), _check("exit_code", False))), INNER),
    (_case(Status.FAILED, TESTS, (_check("junit", False), _check("contains", False))), INNER + [OWN]),
    (_case(Status.FAILED, PASSING, (_check("junit", True), _check("exit_code", False))), INNER[::2] + [OWN]),
    (_case(Status.ERROR, PASSING, (_check("junit", True),), extra=(LEAK,)), INNER[::2] + [OWN]),
    (_case(Status.ERROR, TESTS, (), ErrorInfo("TimeoutError", "timeout after 2s")), INNER + [OWN]),
    (_case(Status.XFAILED, TESTS, (_check("junit", False),), xfail=True), [OWN]),
], ids=["passed", "explained", "other-assertion", "exit-code-only", "leak", "timeout", "xfailed"])
def test_the_case_keeps_its_own_testcase_only_for_what_no_inner_test_explains(
        case: CaseResult, expected: list[str], tmp_path: Path) -> None:
    assert _names(case, tmp_path) == expected


def test_inner_testcases_carry_file_line_time_failure_and_the_case_labels(tmp_path: Path) -> None:
    case = _case(Status.FAILED, TESTS, (_check("junit", False), _check("exit_code", False)))
    _names(case, tmp_path)
    root = etree.parse(str(tmp_path / "j.xml")).getroot()
    b = root.find(".//testcase[@name='FILE-test_m::TestK::test_b[1]']")
    assert (b.get("file"), b.get("line"), b.get("time"), b.get("classname")) == ("t/test_m.py", "9", "0.200", "p.unit")
    assert b.find("failure").get("message") == "assert 1 == 2" and ">   assert 1 == 2" in b.find("failure").text
    props = {p.get("name"): p.get("value") for p in b.find("properties")}
    assert props == {"priority": "P1", "level": "unit", "status": "failed", "case": "FILE-test_m"}
    assert root.find("testsuite").get("tests") == "3" and root.find("testsuite").get("failures") == "1"


def test_strict_flavour_with_inner_tests_validates(tmp_path: Path) -> None:
    case = _case(Status.ERROR, TESTS, (), ErrorInfo("TimeoutError", "timeout after 2s"))
    assert _names(case, tmp_path, "strict") == INNER + [OWN]
    root = etree.parse(str(tmp_path / "j.xml")).getroot()
    out = root.find("testcase[@name='FILE-test_m::TestK::test_b[1]']/system-out").text
    assert out.startswith("[orchestrator] file: t/test_m.py\n[orchestrator] line: 9\n")
    for stem in ("jenkins-xunit-junit-10", "surefire-test-report"):
        xsd = VALIDATOR.parent / "xsd" / f"{stem}.xsd"
        if not xsd.is_file():
            pytest.skip(f"{xsd} not found")
        schema = etree.XMLSchema(etree.parse(str(xsd)))
        assert schema.validate(root), schema.error_log
