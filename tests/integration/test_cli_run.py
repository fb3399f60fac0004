"""The product as a user meets it: `orchestrator run/validate/report` in a real process."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from .conftest import REPO, orchestrator, poll

SHIPPED = "plans/provider-persistence.yaml"


def test_shipped_plan_passes_and_writes_three_reports(tmp_path: Path, no_new_workers: None) -> None:
    out = tmp_path / "reports"
    done = orchestrator("run", SHIPPED, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    for case_id in ("E2E-001", "E2E-002", "E2E-003", "E2E-004", "E2E-005", "E2E-006", "E2E-007", "E2E-008",
                    "E2E-009", "E2E-010"):
        assert any(line.startswith("PASSED") and case_id in line for line in done.stdout.splitlines()), case_id
    assert "gate passed" in done.stdout.lower()

    xml = JUnitXml.fromfile(str(out / "junit.xml"))
    cases = [c for suite in xml for c in suite]
    assert len(cases) == 13  # + PERF-001, PERF-002 (performance cases of seed 000)
    assert all(c.name.split(":")[0].startswith(("E2E-", "PERF-")) for c in cases)
    assert not [c.name for c in cases if any(isinstance(r, (Failure, Error, Skipped)) for r in c.result)]

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {c["status"] for c in results["cases"]} == {"passed"}
    assert results["gate"]["passed"] is True
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "E2E-007" in html and "http://" not in html.replace("http://www.w3.org", "")


@pytest.mark.parametrize("plan", sorted(p.name for p in (REPO / "plans").glob("*.yaml")))
def test_every_shipped_plan_passes_two_cases_at_a_time(tmp_path: Path, plan: str, no_new_workers: None) -> None:
    """`-j 2` is what a CI job with two cores would try first: a plan whose cases count a shared
    worker's calls says so (`lock:`) rather than failing there."""
    done = orchestrator("run", f"plans/{plan}", "-j", "2", "-q", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_failing_case_exits_1_and_says_why(tmp_path: Path, no_new_workers: None) -> None:
    plan = tmp_path / "failing.yaml"
    provider = REPO / "scenarios" / "providers" / "echo.py"
    plan.write_text(f"""version: 1
name: failing
providers:
  echo: {{python: {provider}}}
cases:
  - id: F-1
    name: wrong expectation
    steps:
      - call: echo
        prompt: Hello
        expect: [{{equals: "Echo: Goodbye"}}]
""", encoding="utf-8")
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED" in done.stdout and "F-1" in done.stdout
    assert "expected 'Echo: Goodbye' (text), got 'Echo: Hello' (text)" in done.stdout
    xml = JUnitXml.fromfile(str(tmp_path / "out" / "junit.xml"))
    (case,) = [c for suite in xml for c in suite]
    assert isinstance(case.result[0], Failure)
    quiet = orchestrator("run", str(plan), "--out", str(tmp_path / "quiet"), "-q")  # as in CI logs
    assert quiet.returncode == 1
    lines = quiet.stdout.splitlines()
    failed = [i for i, line in enumerate(lines) if line.startswith("FAILED F-1 - step 1 (call echo): equals on output")]
    counts = [i for i, line in enumerate(lines) if line.startswith("1 failed in ")]
    assert len(failed) == 1 and counts and failed[0] < counts[0], quiet.stdout  # which case, then the counts


def test_malformed_plan_exits_2_with_every_error_located(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text("version: 1\nname: bad\nproviders:\n  echo: {python: nowhere.py, wokers: 2}\n"
                    "cases:\n  - id: B-1\n    name: x\n    steps:\n      - call: ecko\n        promt: hi\n",
                    encoding="utf-8")
    started = time.monotonic()
    done = orchestrator("validate", str(plan))
    took = time.monotonic() - started
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) >= 3, done.stderr
    assert all(line.startswith(f"{plan}:") for line in lines), lines
    assert "Traceback" not in done.stderr
    assert any("wokers" in line and "workers" in line for line in lines)
    assert any("promt" in line and "prompt" in line for line in lines)
    assert took < 5  # interpreter start included; the check itself is milliseconds


def test_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    done = orchestrator("run", SHIPPED, "-j", "lots")
    assert done.returncode == 2 and done.stderr.strip() == "orchestrator: error: -j takes a number or 'auto', got 'lots'"
    missing = orchestrator("validate", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith(str(tmp_path / "nope.yaml") + ":")


def test_report_rerenders_the_same_junit(tmp_path: Path, no_new_workers: None) -> None:
    out = tmp_path / "out"
    assert orchestrator("run", SHIPPED, "--out", str(out), "-q").returncode == 0
    # the journal (crash insurance) is gone once results.json is complete
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json"]
    again = tmp_path / "again.xml"
    done = orchestrator("report", str(out / "results.json"), "--junit", str(again))
    assert done.returncode == 0, done.stderr
    assert again.read_text(encoding="utf-8") == (out / "junit.xml").read_text(encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    done = orchestrator("report", str(out / "results.json"), "--out", str(elsewhere))
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "junit.xml").read_text(encoding="utf-8") == (out / "junit.xml").read_text(encoding="utf-8")
    assert (elsewhere / "report.html").read_text(encoding="utf-8") == (out / "report.html").read_text(encoding="utf-8")


def test_sigint_stops_the_run_kills_workers_and_keeps_reports(tmp_path: Path) -> None:
    provider = tmp_path / "slow.py"
    provider.write_text("import time\n\ndef call_api(prompt, options, context):\n    time.sleep(30)\n"
                        "    return {'output': 'late'}\n", encoding="utf-8")
    plan = tmp_path / "slow.yaml"
    plan.write_text(f"""version: 1
name: slow
providers:
  slow: {{python: {provider}, workers: 2}}
cases:
  - id: S-1
    name: takes long
    steps: [{{call: slow, prompt: a}}]
  - id: S-2
    name: never starts
    steps: [{{call: slow, prompt: b}}]
""", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        me = psutil.Process(proc.pid)
        assert poll(lambda: len(me.children(recursive=True)) >= 2, within=10), "workers never started"
        workers = me.children(recursive=True)
        time.sleep(0.3)  # let the first call reach a worker: the interesting moment is mid-call
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, proc.stderr.read() if proc.stderr else ""
    assert took < 2.0
    assert poll(lambda: not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers), within=2)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in results["cases"]] == ["interrupted", "interrupted"]
    assert results["interrupted"] is True


def test_a_target_that_orphans_children_errors_with_a_leak_and_nothing_survives(tmp_path: Path) -> None:
    targets = REPO / "scenarios" / "targets"
    plan = tmp_path / "leaky.yaml"
    plan.write_text(f"""version: 1
name: leaky
cases:
  - id: LEAK-1
    name: orphans and a daemon
    steps:
      - exec: {{command: [{sys.executable}, {targets / 'leave_orphans.py'}, "2", "600"]}}
        as: orphans
      - exec: {{command: [{sys.executable}, {targets / 'double_fork_daemon.py'}, "603"]}}
        expect: [{{exit_code: 0}}]
""", encoding="utf-8")
    out = tmp_path / "out"
    done = orchestrator("run", str(plan), "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ERROR" in done.stdout and "ProcessLeak: 3 process(es) started for the case" in done.stdout
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    steps = results["cases"][0]["attempts"][0]["steps"]
    orphans = [int(line.split()[1]) for line in steps[0]["fields"]["stdout"].split("\n") if line.startswith("orphan")]
    daemon = [int(line.split()[1]) for line in steps[1]["fields"]["stdout"].split("\n") if line.startswith("daemon")]
    leak = steps[-1]["error"]["message"]
    for pid in orphans:
        assert f"pid {pid} (sleep 600)" in leak
    assert f"pid {daemon[0]} (sleep 603)" in leak
    alive = [pid for pid in orphans + daemon if psutil.pid_exists(pid)
             and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"still alive after the run: {alive}"
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'type="ProcessLeak"' in junit


def test_a_reader_that_goes_away_costs_no_case_and_no_report(tmp_path: Path) -> None:
    """`orchestrator run plan | head -1`: the run goes on, writes its reports, exits with the gate."""
    plan = tmp_path / "many.yaml"
    cases = "".join(f"  - id: C-{n}\n    name: case {n} {'x' * 200}\n    steps: [{{sleep: 1ms}}]\n"
                    for n in range(300))
    plan.write_text(f"version: 1\nname: many\ncases:\n{cases}", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader is gone: every later write meets a broken pipe
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "BrokenPipe" not in err and "internal error" not in err
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in results["cases"]] == ["passed"] * 300
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this platform")
@pytest.mark.parametrize("command", [["validate", SHIPPED], ["run", SHIPPED, "--out", "OUT"]])
def test_a_full_standard_output_is_said_once_and_costs_no_verdict_and_no_report(tmp_path: Path,
                                                                                command: list[str]) -> None:
    """`orchestrator run plan > /dev/full`: one line on stderr, not an internal error (exit 3)."""
    argv = [str(tmp_path / "out") if part == "OUT" else part for part in command]
    with open("/dev/full", "w", encoding="utf-8") as full:
        done = subprocess.run([sys.executable, "-m", "orchestrator", *argv], cwd=REPO, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["orchestrator: cannot write standard output: No space left on device; "
                                        "the rest of it is dropped (the reports and the exit code are not)"]
    if command[0] == "run":
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["junit.xml", "report.html", "results.json"]


PROMPTFOO = "tests/fixtures/promptfoo/promptfooconfig.yaml"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this platform")
@pytest.mark.parametrize("command", [["--version"], ["list", SHIPPED], ["schema"], ["import", "promptfoo", PROMPTFOO]])
def test_a_result_printed_to_a_full_standard_output_is_the_command_s_failure(command: list[str]) -> None:
    """`orchestrator schema > schema.json` on a full disk must not leave a cut file behind exit 0."""
    with open("/dev/full", "w", encoding="utf-8") as full:
        done = subprocess.run([sys.executable, "-m", "orchestrator", *command], cwd=REPO, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines()[-1:] == ["orchestrator: cannot write standard output: No space left on device"]
    assert [line for line in done.stderr.splitlines() if "standard output" in line] == done.stderr.splitlines()[-1:]


@pytest.mark.parametrize("command", [["--version"], ["list", SHIPPED], ["schema"]])
def test_a_reader_that_takes_only_the_first_line_of_a_result_is_no_failure(command: list[str]) -> None:
    shown = subprocess.Popen([sys.executable, "-m", "orchestrator", *command], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert shown.stdout is not None and shown.stdout.readline()
    shown.stdout.close()  # the reader goes away, as `| head -1` does
    assert shown.wait(timeout=60) == 0
    assert shown.stderr is not None and shown.stderr.read() == b""


def test_an_unwritable_report_folder_is_a_usage_error_before_any_case_runs(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    done = orchestrator("run", SHIPPED, "--out", str(blocker / "reports"), "-q")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"orchestrator: error: cannot write reports to {blocker / 'reports'}: "
                                                "Not a directory"], done.stderr
    assert done.stdout == ""  # no case ran
