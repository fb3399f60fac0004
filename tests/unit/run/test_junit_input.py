"""Reading a test runner's JUnit file into inner tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.result.model import Status
from orchestrator.run.junit_input import JUnitFile, JUnitInputError, Where, read_junit

SOURCE = "import pytest\n\n\nclass TestA:\n    def test_x(self):\n        pass\n\n\nasync def test_y():\n    pass\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "test_mod.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def _write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_pytest_xunit1_lines_are_zero_based_and_paths_are_found_from_the_runner_root(tree: Path) -> None:
    report = _write(tree / "out.xml", '<testsuites><testsuite name="pytest">'
                    '<testcase classname="pkg.test_mod.TestA" name="test_x" file="pkg/test_mod.py" line="4" time="0.25"/>'
                    '</testsuite></testsuites>')
    [test] = read_junit(report, Where(tree / "pkg", tree))  # run from pkg/, paths relative to its parent
    assert (test.name, test.file, test.line, test.duration_s) == ("TestA::test_x", "pkg/test_mod.py", 5, 0.25)


def test_without_file_the_module_comes_from_the_classname_and_the_line_from_the_def(tree: Path) -> None:
    report = _write(tree / "out.xml", '<testsuite name="pytest"><testcase classname="pkg.test_mod" name="test_y[a-1]">'
                    '<error message="failed on setup with &quot;E&quot;">trace</error></testcase></testsuite>')
    [test] = read_junit(report, Where(tree, None))
    assert (test.name, test.status, test.line) == ("test_y[a-1]", Status.ERROR, 9)
    assert test.file == str(tree / "pkg" / "test_mod.py")  # absolute: the plan was named absolutely
    assert test.message == 'failed on setup with "E"' and "trace" in test.details


def test_other_runners_class_names_and_nested_suites(tmp_path: Path) -> None:
    report = _write(tmp_path / "out.xml", '<testsuites><testsuite name="outer"><testsuite name="com.acme.ParserTest">'
                    '<testcase classname="com.acme.ParserTest" name="parsesDates" time="1,250.5">'
                    '<failure message="expected 3">at ParserTest.java:12</failure></testcase>'
                    '<testcase classname="com.acme.ParserTest" name="later"><skipped/></testcase>'
                    '</testsuite></testsuite></testsuites>')
    tests = read_junit(report, Where(tmp_path, tmp_path))
    assert [(t.name, t.status, t.file, t.line) for t in tests] == [
        ("ParserTest::parsesDates", Status.FAILED, "", None), ("ParserTest::later", Status.SKIPPED, "", None)]
    assert tests[0].duration_s == 1250.5 and tests[0].details == "expected 3\nat ParserTest.java:12"


@pytest.mark.parametrize("body, why", [
    ("<html/>", "its root is <html>"), ("<testsuite", "is not readable JUnit XML"), (None, "no JUnit file at")])
def test_what_is_not_a_junit_file_is_refused(tmp_path: Path, body: str | None, why: str) -> None:
    path = tmp_path / "out.xml"
    if body is not None:
        path.write_text(body, encoding="utf-8")
    with pytest.raises(JUnitInputError, match=why):
        read_junit(path, Where(tmp_path, tmp_path))


def test_the_step_check_fails_on_failed_tests_on_no_tests_and_on_a_file_left_from_before(tmp_path: Path) -> None:
    path = tmp_path / "out.xml"
    where = Where(tmp_path, tmp_path)
    fresh = JUnitFile(path, where)
    _write(path, '<testsuite><testcase classname="m" name="a"/><testcase classname="m" name="b">'
           '<failure message="boom"/></testcase></testsuite>')
    tests, [check], counts = fresh.collect(step_failed=False)
    assert not check.passed and check.message == "1 of 2 tests failed: b — boom"
    assert counts == {"total": 2, "passed": 1, "failed": 1, "errors": 0, "skipped": 0} and len(tests) == 2
    _, [stale], _ = JUnitFile(path, where).collect(step_failed=False)  # nothing rewrote it since
    assert not stale.passed and "was not rewritten by the command" in stale.message
    empty = JUnitFile(path, where)
    _write(path, "<testsuite name='empty-and-longer'/>")
    _, [none], _ = empty.collect(step_failed=False)
    assert not none.passed and none.message.endswith("reports no tests")
    # a step that already failed to run (timeout, crash) is not blamed twice for the missing file
    assert JUnitFile(tmp_path / "never.xml", where).collect(step_failed=True)[1] == ()
