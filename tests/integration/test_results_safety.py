"""No result lost or stale: kill -9 then `report`, two runs on one folder, a full disk, an engine
exception. Each drives the real CLI in its own process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from tests.support import alive

from .conftest import REPO, orchestrator, poll


def _plan(path: Path, name: str, cases: str) -> Path:
    # api_token: declared, so that a --var api_token=... is accepted (and masked as secret-named)
    path.write_text(f"version: 1\nname: {name}\nvars: {{api_token: none}}\ncases:\n{cases}", encoding="utf-8")
    return path


def _quick_plan(tmp_path: Path, case_id: str) -> Path:
    return _plan(tmp_path / f"{case_id.lower()}.yaml", "quick",
                 f"  - id: {case_id}\n    name: quick\n    steps: [{{sleep: 1ms}}]\n")


def _slow_plan(tmp_path: Path) -> Path:
    sleeper = f"[{sys.executable}, -c, 'import time; time.sleep(120)']"
    return _plan(tmp_path / "slow.yaml", "slow", f"""  - id: K-1
    name: passes
    steps: [{{sleep: 1ms}}]
  - id: K-2
    name: fails after a while
    steps:
      - sleep: 1200ms
      - exec: {{command: [{sys.executable}, -c, "raise SystemExit(3)"]}}
        expect: [{{exit_code: 0}}]
  - id: K-3
    name: still running when killed
    steps:
      - exec: {{command: {sleeper}, timeout: 5m}}
  - id: K-4
    name: never started
    steps: [{{sleep: 1ms}}]
""")


class Started:
    """A run in the background, with every process it started killed at the end."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "orchestrator", *args], cwd=REPO, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, "NO_COLOR": "1"})
        self.seen: dict[int, psutil.Process] = {}

    def children(self) -> list[psutil.Process]:
        try:
            found = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            found = []
        self.seen.update({p.pid: p for p in found})
        return found

    def cleanup(self) -> None:
        self.children()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)
        for child in self.seen.values():
            try:
                for p in [child, *child.children(recursive=True)]:
                    p.kill()
            except psutil.Error:
                pass


@pytest.fixture
def started() -> Iterator[list[Started]]:
    runs: list[Started] = []
    yield runs
    for run in runs:
        run.cleanup()


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


def _journal_has(path: Path, case_id: str) -> bool:
    try:
        return f'"id": "{case_id}"' in path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False


def test_kill_9_then_report_gives_interrupted_reports_a_failed_gate_and_no_stale_report(
        tmp_path: Path, started: list[Started]) -> None:
    out = tmp_path / "out"
    previous = orchestrator("run", str(_quick_plan(tmp_path, "OLD-1")), "--out", str(out), "-q")
    assert previous.returncode == 0 and (out / "report.html").exists()

    run = Started("run", str(_slow_plan(tmp_path)), "--out", str(out))
    started.append(run)
    journal = out / "results.journal.jsonl"
    # K-1 and K-2 finished, and K-3's sleeper running; K-2 took > 1 s, so a live rewrite happened
    assert poll(lambda: _journal_has(journal, "K-2") and any(
        "time.sleep(120)" in _cmdline(p) for p in run.children()), within=30), run.proc.stderr
    assert poll(lambda: (out / "results.json").exists(), within=5)
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(timeout=10)
    run.cleanup()

    for name in ("junit.xml", "report.html", "results.json"):  # nothing of the old run is left to mistake
        if (out / name).exists():
            assert "OLD-1" not in (out / name).read_text(encoding="utf-8"), name
    live = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert live["complete"] is False and live["gate"]["passed"] is False and live["interrupted"] is True

    done = orchestrator("report", str(journal))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "did not end" in done.stderr and "Traceback" not in done.stderr
    written = [line for line in done.stdout.splitlines() if line.startswith("Report written: ")]
    assert written == [f"Report written: {out / 'junit.xml'}", f"Report written: {out / 'report.html'}"]
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert '<property name="gate" value="failed"' in junit and '<property name="interrupted" value="true"' in junit
    assert "run incomplete" in junit and 'type="Interrupted"' in junit
    for case_id in ("K-1", "K-2", "K-3", "K-4"):
        assert case_id in junit
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "run incomplete" in html and "OLD-1" not in html

    for source in (out / "results.json", journal):  # the live results file reads the same: incomplete
        again = orchestrator("report", str(source), "--out", str(tmp_path / "again"))
        assert again.returncode == 1, again.stderr
        assert "run incomplete" in (tmp_path / "again" / "junit.xml").read_text(encoding="utf-8")
    merged = orchestrator("merge", str(out / "results.json"), "--json", str(tmp_path / "merged.json"))
    assert merged.returncode != 0 and "Gate FAILED" in merged.stdout, merged.stdout
    assert "run incomplete" in merged.stdout or "interrupted" in merged.stdout
    assert json.loads((tmp_path / "merged.json").read_text(encoding="utf-8"))["complete"] is False

    after = orchestrator("run", str(_quick_plan(tmp_path, "NEW-1")), "--out", str(out), "-q")  # no lock left
    assert after.returncode == 0, after.stderr
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json"]


def test_a_second_run_on_a_held_folder_exits_2_naming_the_holder_and_touches_nothing(
        tmp_path: Path, started: list[Started]) -> None:
    out = tmp_path / "out"
    first = Started("run", str(_slow_plan(tmp_path)), "--out", str(out), "--var", "api_token=abc123xyz")
    started.append(first)
    journal = out / "results.journal.jsonl"
    assert poll(lambda: _journal_has(journal, "K-1"), within=30)
    before = journal.read_bytes()
    for extra in ([], ["--out", str(tmp_path / "other"), "--junit", str(out / "mine.xml")]):
        second = orchestrator("run", str(_quick_plan(tmp_path, "B-1")), *(extra or ["--out", str(out)]))
        assert second.returncode == 2, second.stdout + second.stderr
        line = second.stderr.strip()
        assert line.startswith(f"orchestrator: error: {out} is in use by another run (pid {first.proc.pid}, started ")
        assert "orchestrator run" in line and "slow.yaml" in line and "api_token=***" in line
        assert "abc123xyz" not in line  # the holder's command line is stored masked
        assert second.stdout == ""
    early = orchestrator("report", str(journal))  # the run is not dead: its folder is not ours to write
    assert early.returncode == 2 and f"in use by another run (pid {first.proc.pid}," in early.stderr, early.stderr
    assert journal.read_bytes()[:len(before)] == before  # the first run's live journal is intact
    assert not (out / "mine.xml").exists() and not (tmp_path / "other" / "junit.xml").exists()
    first.proc.send_signal(signal.SIGINT)
    assert first.proc.wait(timeout=20) == 130
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["complete"] is True


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real full disk. Skipped where mounting is not permitted, except in CI."""
    where = tmp_path / "tiny"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_exit_3_naming_each_unwritten_report_and_announcing_only_written_ones(
        tmp_path: Path, tiny_disk: Path) -> None:
    plan = _plan(tmp_path / "big.yaml", "big", "".join(
        f"  - id: BIG-{n}\n    name: prints a lot\n    steps:\n"
        f"      - exec: {{command: [{sys.executable}, -c, \"print('{n}' * 30000)\"]}}\n" for n in range(3)))
    done = orchestrator("run", str(plan), "--out", str(tiny_disk))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert done.stderr.count("cannot write the journal") <= 1
    unwritten = [line for line in done.stderr.splitlines() if line.startswith("orchestrator: cannot write ")
                 and "report" in line]
    assert unwritten and all(line.endswith("No space left on device") for line in unwritten), done.stderr
    announced = [line.removeprefix("Report written: ") for line in done.stdout.splitlines()
                 if line.startswith("Report written: ")]
    for path in announced:
        assert Path(path).stat().st_size > 0 and not any(path in line for line in unwritten)
    for line in unwritten:
        assert not Path(line.split(" report ", 1)[1].rsplit(": ", 1)[0]).exists()
    assert len(announced) + len(unwritten) == 3
    assert not [p.name for p in tiny_disk.iterdir() if p.name.endswith(".tmp")]  # no half-written report


def test_when_results_json_cannot_be_written_the_journal_gives_the_complete_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "results.json").mkdir(parents=True)  # in the way: that one report cannot be written
    done = orchestrator("run", str(_quick_plan(tmp_path, "J-1")), "--out", str(out))
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"cannot write JSON report {out / 'results.json'}: " in done.stderr
    assert f"Report written: {out / 'results.json'}" not in done.stdout
    assert f"Report written: {out / 'junit.xml'}" in done.stdout
    again = orchestrator("report", str(out / "results.journal.jsonl"), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr  # the run ended: complete, gate passed
    junit = (tmp_path / "again" / "junit.xml").read_text(encoding="utf-8")
    assert "J-1" in junit and '<property name="gate" value="passed"' in junit and "interrupted" not in junit


def test_an_engine_exception_errors_its_case_and_every_report_is_written(tmp_path: Path) -> None:
    plan = _plan(tmp_path / "p.yaml", "crash", "".join(
        f"  - id: E-{n}\n    name: case {n}\n    steps: [{{sleep: 1ms}}]\n" for n in range(1, 4)))
    script = tmp_path / "faulty.py"  # the real CLI with one fault injected outside any step
    script.write_text(
        "import sys\nimport orchestrator.run.attempts as attempts\nreal = attempts.finish_case\n"
        "def finish(plan, case, attempts):\n"
        "    if case.id == 'E-2':\n        raise KeyError('injected fault')\n"
        "    return real(plan, case, attempts)\n"
        "attempts.finish_case = finish\n"
        "from orchestrator.cli import main\nsys.exit(main(sys.argv[1:]))\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(script), "run", str(plan), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ERROR" in done.stdout and "E-2" in done.stdout and "injected fault" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json"]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in results["cases"]] == ["passed", "error", "passed"]
    error = results["cases"][1]["attempts"][0]["steps"][0]["error"]
    assert error["type"] == "InternalError" and "KeyError: 'injected fault'" in error["traceback"]
    assert "injected fault" in (out / "junit.xml").read_text(encoding="utf-8")


def test_after_the_run_no_process_of_these_tests_is_left() -> None:
    mine = [p for p in psutil.Process().children(recursive=True) if alive(p.pid)]
    assert not [p.pid for p in mine if "time.sleep(120)" in _cmdline(p)]
