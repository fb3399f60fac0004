"""A pytest suite run through `discover` + `exec` with `junit:`: every test reported by name."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

DEMO = '''import pytest


def test_ok():
    assert 1


class TestUpper:
    def test_upper(self):
        assert "a".upper() == "B", "upper broke"


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n == 1


@pytest.mark.skip(reason="not today")
def test_skip():
    pass
'''
PASSING = "def test_one():\n    assert True\n\n\ndef test_two():\n    assert 2 + 2 == 4\n"
HANGS = "import time\n\n\ndef test_hangs():\n    time.sleep(60)\n"
PLAN = '''version: 1
name: suites
cases:
  - discover: {glob: "suite/test_*.py", id: "FILE-{{ stem }}"}
    name: "{{ name }}"
    steps:
      - exec:
          command: ["%(py)s", -m, pytest, -q, -p, no:cacheprovider, "{{ path }}", "--junitxml={{ tmp }}/j.xml"]
          cwd: "{{ dir }}"
          junit: "{{ tmp }}/j.xml"
          timeout: 20s
        expect: [{exit_code: 0}]
  - discover: {glob: "slow/test_*.py", id: "SLOW-{{ stem }}"}
    steps:
      - exec:
          command: ["%(py)s", -m, pytest, -q, -p, no:cacheprovider, "{{ path }}", "--junitxml={{ tmp }}/j.xml"]
          junit: "{{ tmp }}/j.xml"
          timeout: 3s
  - id: NOISY
    name: a process that explains its failure on stdout only
    steps:
      - exec: {command: ["%(py)s", -c, "import sys; print('line one'); print('the reason is on stdout'); sys.exit(3)"]}
        expect: [{exit_code: 0}]
  - id: STALE
    name: a JUnit file left from before does not pass for this run
    steps:
      - exec: {command: ["%(py)s", -c, "pass"], junit: "stale.xml"}
  - id: MISSING
    name: a JUnit file the command never wrote
    steps:
      - exec: {command: ["%(py)s", -c, "pass"], junit: "{{ tmp }}/never.xml"}
'''
STALE = ('<testsuite name="pytest" tests="1" failures="0" errors="0">'
         '<testcase classname="old" name="test_old" time="0.1"/></testsuite>')


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("suites")
    (root / "suite").mkdir()
    (root / "slow").mkdir()
    (root / "suite" / "test_demo.py").write_text(DEMO, encoding="utf-8")
    (root / "suite" / "test_passing.py").write_text(PASSING, encoding="utf-8")
    (root / "slow" / "test_hangs.py").write_text(HANGS, encoding="utf-8")
    (root / "stale.xml").write_text(STALE, encoding="utf-8")
    (root / "plan.yaml").write_text(PLAN % {"py": sys.executable}, encoding="utf-8")
    summary = root / "summary.md"
    env = {**os.environ, "NO_COLOR": "1", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.yaml", "--out", "out", "-j", "2"],
                          cwd=root, capture_output=True, text=True, timeout=120, env=env)
    return root, done


def _cases(root: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    data = json.loads((root / "out" / "results.json").read_text(encoding="utf-8"))
    return {c["id"]: c for c in data["cases"]}


def test_every_test_function_is_in_the_results_with_file_line_and_failure_text(ran: tuple[Path, object]) -> None:
    root, _ = ran
    case = _cases(root)["FILE-test_demo"]
    assert case["status"] == "failed"
    assert (case["file"], case["line"]) == ("suite/test_demo.py", 1)  # the discovered file, not the plan
    tests = {t["name"]: t for s in case["attempts"][-1]["steps"] for t in s.get("tests", [])}
    assert {n: (t["status"], t["file"], t["line"]) for n, t in tests.items()} == {
        "test_ok": ("passed", "suite/test_demo.py", 4),
        "TestUpper::test_upper": ("failed", "suite/test_demo.py", 9),
        "test_param[1]": ("passed", "suite/test_demo.py", 14),  # pytest's default xunit2: the line of the def
        "test_param[2]": ("failed", "suite/test_demo.py", 14),
        "test_skip": ("skipped", "suite/test_demo.py", 19),
    }
    assert tests["TestUpper::test_upper"]["message"] == "AssertionError: upper broke"
    assert "assert 'A' == 'B'" in tests["TestUpper::test_upper"]["details"]
    assert case["message"].startswith("step 1 (exec): junit on tests: 2 of 5 tests failed: TestUpper::test_upper "
                                      "(suite/test_demo.py:9) — AssertionError: upper broke")


def test_junit_has_a_testcase_per_inner_test_and_the_case_only_when_unexplained(ran: tuple[Path, object]) -> None:
    root, _ = ran
    xml = etree.parse(str(root / "out" / "junit.xml")).getroot()
    names = [c.get("name") for c in xml.iter("testcase")]
    assert [n for n in names if n.startswith("FILE-test_demo")] == [
        "FILE-test_demo::test_ok", "FILE-test_demo::TestUpper::test_upper", "FILE-test_demo::test_param[1]",
        "FILE-test_demo::test_param[2]", "FILE-test_demo::test_skip"]  # its failure is explained: no own testcase
    assert [n for n in names if n.startswith("FILE-test_passing")] == [
        "FILE-test_passing::test_one", "FILE-test_passing::test_two"]
    upper = xml.find(".//testcase[@name='FILE-test_demo::TestUpper::test_upper']")
    assert (upper.get("file"), upper.get("line")) == ("suite/test_demo.py", "9")
    failure = upper.find("failure")
    assert failure.get("message") == "AssertionError: upper broke" and "assert 'A' == 'B'" in failure.text
    assert xml.find(".//testcase[@name='FILE-test_demo::test_skip']/skipped").get("message") == "not today"
    suite = xml.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (str(len(names)), "5", "1")
    # a timeout is no inner test's fault: the case keeps its own testcase, with the error
    [slow] = [c for c in xml.iter("testcase") if c.get("name").startswith("SLOW-test_hangs")]
    assert slow.get("name") == "SLOW-test_hangs: slow/test_hangs.py" and slow.find("error") is not None


def test_console_names_the_failing_tests_and_their_assertion_message(ran: tuple[Path, object]) -> None:
    _, done = ran
    out = done.stdout  # type: ignore[attr-defined]
    assert done.returncode == 1, out  # type: ignore[attr-defined]
    assert "TestUpper::test_upper (suite/test_demo.py:9) failed: AssertionError: upper broke\n" in out
    assert "test_param[2] (suite/test_demo.py:14) failed: assert 2 == 1\n" in out
    assert "Tests in JUnit files: 4 passed, 2 failed, 1 skipped (2 cases)" in out


def test_a_failed_process_shows_the_tail_of_its_stdout(ran: tuple[Path, object]) -> None:
    root, done = ran
    assert "    stdout: the reason is on stdout" in done.stdout  # type: ignore[attr-defined]
    xml = etree.parse(str(root / "out" / "junit.xml")).getroot()
    text = xml.find(".//testcase[@name='NOISY: a process that explains its failure on stdout only']/failure").text
    assert "  stdout (last 2 lines):\n    line one\n    the reason is on stdout" in text


def test_stale_and_missing_junit_files_fail_the_step(ran: tuple[Path, object]) -> None:
    root, _ = ran
    cases = _cases(root)
    assert cases["STALE"]["status"] == "failed" and "was not rewritten by the command" in cases["STALE"]["message"]
    assert cases["MISSING"]["status"] == "failed"
    assert "no JUnit file at" in cases["MISSING"]["message"] and "the command did not write it" in cases["MISSING"]["message"]


def test_github_annotations_point_at_the_test_files(ran: tuple[Path, object]) -> None:
    root, done = ran
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("::error")]  # type: ignore[attr-defined]
    assert any(ln.startswith("::error file=suite/test_demo.py,line=9,title=FILE-test_demo%3A%3ATestUpper%3A%3Atest_upper")
               for ln in lines), lines
    assert not any("title=FILE-test_demo: " in ln for ln in lines)  # explained by its tests
    assert any(ln.startswith("::error file=slow/test_hangs.py,line=1,title=SLOW-test_hangs") for ln in lines), lines


TMP_PLAN = '''version: 1
name: tmpdirs
cases:
  - id: T
    name: each attempt has its own empty tmp, removed afterwards
    repeat: 2
    vars: {marker: "{{ tmp }}/marker"}
    steps:
      - exec:
          command: ["%(py)s", -c, "import os, sys; print(sys.argv[1]); assert os.listdir(sys.argv[1]) == []; open(sys.argv[2], 'w')",
                    "{{ tmp }}", "{{ marker }}"]
        expect: [{exit_code: 0}]
'''


def test_tmp_is_a_fresh_folder_per_attempt_and_is_removed(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(TMP_PLAN % {"py": sys.executable}, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.yaml", "--out", "out", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    folders = [a["steps"][0]["fields"]["stdout"].strip() for a in data["cases"][0]["attempts"]]
    assert len(set(folders)) == 2 and all(not os.path.exists(f) for f in folders)
