"""Inner tests beyond JUnit: the HTML details, the console and GitHub annotations name them."""
from __future__ import annotations

import io
import re

from orchestrator.report.console import ConsoleReporter
from orchestrator.report.github import annotation_lines
from orchestrator.report.html import render_html, unpack_json
from orchestrator.result.model import GateResult, PlanInfo, RunResult, Status

from .test_junit_inner import TESTS, _case, _check

DATA = re.compile(r'id="case-data" data-encoding="deflate\+base64">(.*?)</script>', re.S)
EXPLAINED = _case(Status.FAILED, TESTS, (_check("junit", False), _check("exit_code", False)))
RUN = RunResult(plans=(PlanInfo("p", "P", "p.yaml"),), cases=(EXPLAINED,), gate=GateResult(False), started_at=1e9,
                duration_s=1.0)


def test_html_details_list_every_inner_test_with_where_and_the_failure_text() -> None:
    match = DATA.search(render_html(RUN))
    assert match is not None
    [details] = unpack_json(match.group(1))
    tests = details["attempts"][0]["steps"][0]["tests"]
    assert [(t["name"], t["status"], t["where"]) for t in tests] == [
        ("test_a", "passed", "t/test_m.py:3"), ("TestK::test_b[1]", "failed", "t/test_m.py:9"),
        ("test_c", "skipped", "t/test_m.py:12")]
    assert ">   assert 1 == 2" in tests[1]["details"] and tests[0]["details"] == ""


def test_console_lists_the_failing_inner_tests_and_totals_them() -> None:
    buf = io.StringIO()
    reporter = ConsoleReporter(file=buf)
    reporter.case_finished(EXPLAINED)
    reporter.summary(RUN, [])
    out = buf.getvalue()
    assert "    x TestK::test_b[1] (t/test_m.py:9) failed: assert 1 == 2\n" in out.replace("✘", "x")
    assert "test_a (" not in out  # passing tests are not listed
    assert "Tests in JUnit files: 1 passed, 1 failed, 1 skipped (1 case)" in out


def test_github_annotates_the_failing_test_at_its_line_not_the_explained_case() -> None:
    lines = annotation_lines(RUN)
    assert len(lines) == 1
    assert lines[0].startswith("::error file=t/test_m.py,line=9,title=FILE-test_m%3A%3ATestK%3A%3Atest_b[1] [failed]::")
    assert "assert 1 == 2" in lines[0]
