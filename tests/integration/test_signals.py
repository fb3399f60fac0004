"""Stopping a run from outside: SIGTERM, SIGHUP, SIGQUIT, two SIGINTs, the run's own --timeout
and SIGKILL. Every way ends with nothing carrying the run's marker left alive; all but SIGKILL
also with every report written and the exit code that says why."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from tests.integration.conftest import REPO, orchestrator, worker_pids
from tests.support import SUITE_VAR, poll

PROVIDER = """\
import subprocess, sys, time

def call_api(prompt, options, context):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # a call's child
    time.sleep(120)
    return {"output": "never"}
"""


def busy_plan(folder: Path) -> Path:
    (folder / "busy.py").write_text(PROVIDER, encoding="utf-8")
    plan = folder / "busy.yaml"
    plan.write_text(f"""version: 1
name: busy
providers:
  busy: {{python: busy.py, workers: 2}}
cases:
  - id: BUSY-1
    name: a server, a command and two calls in flight
    steps:
      - spawn: {{name: server, command: [{sys.executable}, -c, "import time; print('up', flush=True); time.sleep(120)"],
                 ready: {{stdout_contains: up}}}}
      - parallel:
          - exec: {{command: [sleep, "120"]}}
          - {{call: busy, prompt: a}}
          - {{call: busy, prompt: b}}
  - id: BUSY-2
    name: never reached
    steps: [{{sleep: 1s}}]
""", encoding="utf-8")
    return plan


def marked(orchestrator_pid: int) -> list[int]:
    """Live processes carrying the marker of the run of this orchestrator process."""
    needle = f"ORCHESTRATOR_RUN_{orchestrator_pid}_".encode()
    found = []
    for pid in psutil.pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if needle in handle.read() and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    found.append(pid)
        except (OSError, psutil.Error):
            continue
    return found


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A run with 2 workers, their calls' children, a spawn and an exec all alive (6+ marked)."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", str(busy_plan(tmp_path)), "--out", str(out)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_COLOR": "1"})
    try:
        assert poll(lambda: len(marked(proc.pid)) >= 6, within=20), marked(proc.pid)
        yield proc, out
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        for pid in marked(proc.pid):
            psutil.Process(pid).kill()


@pytest.mark.parametrize("signals", [["SIGTERM"], ["SIGHUP"], ["SIGQUIT"], ["SIGUSR1"], ["SIGINT", "SIGINT"]])
def test_a_stop_signal_interrupts_kills_everything_and_writes_every_report(
        started: tuple[subprocess.Popen[str], Path], signals: list[str]) -> None:
    proc, out = started
    for name in signals:
        proc.send_signal(signal.Signals[name])
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 128 + signal.Signals[signals[0]], stdout + stderr
    assert poll(lambda: not marked(proc.pid), within=2), marked(proc.pid)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["interrupted"] is True
    assert [c["status"] for c in results["cases"]] == ["interrupted", "interrupted"]
    assert "</testsuites>" in (out / "junit.xml").read_text(encoding="utf-8")
    assert (out / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_the_runs_own_deadline_stops_it_the_same_way_and_exits_124(tmp_path: Path) -> None:
    out = tmp_path / "out"
    began = time.monotonic()
    done = orchestrator("run", str(busy_plan(tmp_path)), "--out", str(out), "--timeout", "3s")
    assert done.returncode == 124, done.stdout + done.stderr
    assert time.monotonic() - began < 10
    assert "run deadline reached (--timeout 3s)" in done.stdout
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["gate"]["passed"] is False and results["interrupted"] is True
    assert any("run deadline reached" in r["detail"] for r in results["gate"]["rules"])


def test_a_bad_timeout_is_a_usage_error(tmp_path: Path) -> None:
    done = orchestrator("run", str(busy_plan(tmp_path)), "--timeout", "soon")
    assert done.returncode == 2 and "--timeout takes a duration" in done.stderr
    assert "Traceback" not in done.stderr


def test_after_sigkill_nothing_with_the_runs_marker_outlives_it_by_a_second(
        started: tuple[subprocess.Popen[str], Path]) -> None:
    proc, _ = started
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert poll(lambda: not marked(proc.pid), within=1.0), marked(proc.pid)


def test_a_run_kills_what_a_killed_run_left_and_says_so_in_one_line(tmp_path: Path) -> None:
    plan = tmp_path / "tiny.yaml"
    plan.write_text("version: 1\nname: tiny\ncases:\n  - {id: T-1, name: t, steps: [{sleep: 1ms}]}\n",
                    encoding="utf-8")
    for attempt in range(3):
        dead = subprocess.Popen(["true"])
        dead.wait()  # a pid that no longer runs: the orchestrator of the "killed run"
        stale_var = f"ORCHESTRATOR_RUN_{dead.pid}_123_abcdef"
        stale = subprocess.Popen(["sleep", "615"], env={**os.environ, stale_var: "plan:c1"}, start_new_session=True)
        try:
            done = orchestrator("run", str(plan), "--out", str(tmp_path / f"out{attempt}"), "-q")
            assert done.returncode == 0, done.stdout + done.stderr
            lines = [line for line in done.stderr.splitlines() if "left running by an earlier run" in line]
            if not lines and stale.poll() is not None:
                # Another orchestrator on this machine started meanwhile and swept it first (every
                # run sweeps dead runs' leftovers): not ours to report. Try again.
                continue
            assert len(lines) == 1 and f"pids {stale.pid}" in lines[0], done.stderr
            assert poll(lambda: stale.poll() is not None, within=2)
            return
        finally:
            if stale.poll() is None:
                stale.kill()
            stale.wait()
    pytest.fail("three times another orchestrator swept the leftover before this run could")


def test_the_suites_process_checks_pass_while_another_orchestrator_runs_beside_them(tmp_path: Path) -> None:
    """Another run on the same host (another suite's mark, as a CI neighbour would have) keeps
    workers busy throughout; this suite's checks see only this suite's processes."""
    beside = tmp_path / "beside"
    beside.mkdir()
    neighbour = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", str(busy_plan(beside)),
                                  "--out", str(beside / "out"), "-q"], cwd=REPO, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env={**os.environ, SUITE_VAR: "another-suite"})
    try:
        assert poll(lambda: len(marked(neighbour.pid)) >= 6, within=20)
        before = worker_pids()
        machine_wide = {p.pid for p in psutil.process_iter(["cmdline"])
                        if any(part.endswith("worker_main.py") for part in p.info["cmdline"] or [])}
        assert len(machine_wide - before) >= 2  # the neighbour's workers are there to be miscounted
        plan = tmp_path / "echo.yaml"
        (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n",
                                          encoding="utf-8")
        plan.write_text("version: 1\nname: echo\nproviders:\n  echo: {python: echo.py, workers: 2}\n"
                        "cases:\n  - {id: E-1, name: e, steps: [{call: echo, prompt: hi}]}\n", encoding="utf-8")
        done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "-q")
        assert done.returncode == 0, done.stdout + done.stderr
        assert poll(lambda: not (worker_pids() - before), within=3), worker_pids() - before
        assert neighbour.poll() is None and len(marked(neighbour.pid)) >= 6  # untouched by our run
    finally:
        neighbour.send_signal(signal.SIGTERM)
        assert neighbour.wait(timeout=15) == 143
    assert poll(lambda: not marked(neighbour.pid), within=2)


def test_a_shell_that_inherited_a_dead_runs_marker_is_not_a_leftover(tmp_path: Path) -> None:
    """Started from a shell opened inside an old run's spawn: the shell is an ancestor, not a
    leftover, and the new run's processes do not inherit the dead marker."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    plan = tmp_path / "env.yaml"
    plan.write_text("version: 1\nname: env\ncases:\n  - id: E-1\n    name: e\n    steps:\n"
                    "      - exec: {command: [env]}\n        expect: [{not_contains: ORCHESTRATOR_RUN_%d_}]\n" % dead.pid,
                    encoding="utf-8")
    for _ in range(3):
        shell = subprocess.run(["/bin/sh", "-c", f'"{sys.executable}" -m orchestrator run "{plan}" --out "{tmp_path}/out" -q;'
                                ' echo "shell exit $?"'], cwd=REPO, capture_output=True, text=True, timeout=60,
                               env={**os.environ, f"ORCHESTRATOR_RUN_{dead.pid}_123_abcdef": "plan:c1"})
        # Another orchestrator on the machine (a neighbour's suite) rightly sweeps this shell as a
        # dead run's leftover: it is not its ancestor. Ours never does, so that happens at most by chance.
        if shell.returncode >= 0 or "shell exit" in shell.stdout:
            break
    assert shell.returncode == 0 and "shell exit 0" in shell.stdout, shell.stdout + shell.stderr
    # (a neighbour's fake leftovers may be swept by this run and named: only the shell's run counts)
    assert f"{dead.pid}_123_abcdef" not in shell.stderr


CUT_SHORT = """version: 1
name: cut
providers:
  echo: {{python: echo.py}}
cases:
  - id: SLEEP
    name: a sleep the deadline cuts
    steps: [{{sleep: 30s}}]
  - id: WAIT
    name: a wait for processes that never come
    steps:
      - wait: {{processes: {{cmdline: no-such-process-{tag}}}, count: 1, within: 30s}}
  - id: LOAD
    name: a load the deadline cuts
    steps:
      - load: {{call: echo, prompt: "q", duration: 30s, concurrency: 1}}
        expect: [{{expr: "requests >= 0"}}]
"""


@pytest.mark.parametrize("case_id", ["SLEEP", "WAIT", "LOAD"])
def test_a_step_the_deadline_cut_short_is_interrupted_not_passed(tmp_path: Path, case_id: str) -> None:
    """A sleep, a wait or a load that the run's --timeout cut did not do what it says."""
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n",
                                      encoding="utf-8")
    plan = tmp_path / "cut.yaml"
    plan.write_text(CUT_SHORT.format(tag=os.getpid()), encoding="utf-8")
    done = orchestrator("run", str(plan), "--id", case_id, "--out", str(tmp_path / "out"), "--timeout", "1s", "-q")
    assert done.returncode == 124, done.stdout + done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    (case,) = results["cases"]
    assert case["status"] == "interrupted", case
    step = case["attempts"][-1]["steps"][0]
    assert step["status"] != "passed" and step["error"]["type"] == "Interrupted", step


def test_report_and_merge_of_a_run_its_deadline_stopped_say_so_as_the_run_did(tmp_path: Path) -> None:
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n",
                                      encoding="utf-8")
    plan = tmp_path / "cut.yaml"
    plan.write_text(CUT_SHORT.format(tag=os.getpid()), encoding="utf-8")
    out = tmp_path / "out"
    run = orchestrator("run", str(plan), "--id", "SLEEP", "--out", str(out), "--timeout", "1s", "-q")
    assert run.returncode == 124, run.stdout + run.stderr
    said = "run completed — run deadline reached (--timeout 1s); 1 case(s) did not finish"
    assert said in run.stdout
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["deadline"] == "1s"
    report = orchestrator("report", str(out / "results.json"), "--out", str(tmp_path / "again"))
    assert report.returncode == 1 and said in report.stdout, report.stdout + report.stderr  # judged by its gate
    merged = orchestrator("merge", str(out / "results.json"), "--json", str(tmp_path / "merged.json"))
    assert merged.returncode == 124 and said in merged.stdout, merged.stdout + merged.stderr
