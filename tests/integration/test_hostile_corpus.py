"""Every plan in tests/fixtures/hostile/ ends within its bound with a clear message and the
exit code its header names, and leaves no process behind (see the folder's README)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support import poll

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "tests" / "fixtures" / "hostile"
FILES = sorted(p.name for p in HOSTILE.glob("*.yaml"))


def header(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# (command|expect-exit|expect|reject|within|free-port): (.*)$", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def cli(args: list[str], limit: float) -> tuple[subprocess.CompletedProcess[str], float, list[int]]:
    """Run the CLI in its own session; returns its result, how long it took, and the pids still
    alive in that session afterwards (all killed before returning)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "NO_COLOR": "1"})
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"still running after {limit:g}s: {' '.join(args)}\n{out}{err}")
    took = time.monotonic() - started
    left = [p.pid for p in psutil.process_iter(["pid"]) if _session(p.pid) == proc.pid]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return subprocess.CompletedProcess(args, proc.returncode, out, err), took, left


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


@pytest.fixture(scope="module")
def start_up() -> float:
    """How long the CLI takes to validate a trivial plan here: bounds are counted beyond it."""
    _, took, _ = cli(["validate", "tests/fixtures/good_plans/small.yaml"], 60)
    return took


def test_the_corpus_covers_every_attack() -> None:
    assert len(FILES) >= 12


@pytest.mark.parametrize("name", FILES)
def test_a_hostile_plan_ends_in_time_with_a_clear_message(name: str, start_up: float, tmp_path: Path) -> None:
    spec = header(HOSTILE / name)
    command = spec["command"][0]
    within = float(spec.get("within", ["2"])[0])
    args = [command, f"tests/fixtures/hostile/{name}"]
    if command == "run":
        args += ["--out", str(tmp_path / "out")]
    for var in spec.get("free-port", []):
        args += ["--var", f"{var}={_free_port()}"]
    done, took, left = cli(args, within + start_up + 30)
    output = done.stdout + done.stderr
    assert done.returncode == int(spec["expect-exit"][0]), output
    assert "Traceback" not in output
    for text in spec.get("expect", []):
        assert text in output
    for text in spec.get("reject", []):
        assert text not in output
    assert took - start_up < within, f"took {took:.1f}s (start-up {start_up:.1f}s), bound {within:g}s"
    assert left == [], f"processes left behind: {left}"


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_runaway_evaluation_still_ends_the_run(sig: signal.Signals, tmp_path: Path) -> None:
    """The catastrophic regex holds no GIL: the signal is handled at once and the run ends
    within the match's time limit, with reports written (the exit code is the procs rules')."""
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", "tests/fixtures/hostile/catastrophic_regex.yaml",
                             "--out", str(tmp_path / "out")], cwd=REPO, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        me = psutil.Process(proc.pid)

        def exec_steps() -> list[psutil.Process]:
            # REGEX-BOMB's own (it lives 0.3 s: a poll cannot miss it), not AFTER's: a poll that
            # took AFTER's for it sent the signal once the run was over
            return [p for p in me.children() if "'a' * 40" in " ".join(_cmdline(p))]

        assert poll(lambda: bool(exec_steps()), 20), "the exec step never started"
        assert poll(lambda: not exec_steps(), 20), "the exec step never ended"  # now matching
        sent = time.monotonic()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert took < 3.0, out
    assert proc.returncode >= 128, out
    assert (tmp_path / "out" / "results.json").exists()
