"""The kernel's count of runnable processes, read from /proc/loadavg."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.procs import cores
from tests.support import poll


@pytest.mark.parametrize("line, expected", [
    ("0.50 0.40 0.30 2/345 12345\n", 2),
    ("3.10 2.00 1.00 17/345 12345\n", 17),
    ("garbage\n", None),
])
def test_the_runnable_count_is_read_from_loadavg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str,
                                                 expected: int | None) -> None:
    path = tmp_path / "loadavg"
    path.write_text(line)
    fd = os.open(path, os.O_RDONLY)
    monkeypatch.setattr(cores, "_loadavg", fd)
    try:
        assert cores.runnable_now() == expected
    finally:
        os.close(fd)


def test_this_machine_s_count_is_read() -> None:
    if not os.path.exists("/proc/loadavg"):
        pytest.skip("no /proc/loadavg on this platform")
    count = cores.runnable_now()
    assert count is not None and count >= 1  # this test's own process is running
    assert cores.usable() >= 1


def _allowed(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no Cpus_allowed_list for {pid}")


def test_the_run_s_watchdog_gets_its_parent_s_cores_back(tmp_path: Path) -> None:
    """A watchdog pinned to one core for the whole run would be a surprise to whoever reads the
    process table (it was once started on the run's own core and widened its cores itself)."""
    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2 or not Path("/proc/self/status").exists():
        pytest.skip(f"needs /proc and two usable cores (this process may use {cores.usable()})")
    (tmp_path / "p.py").write_text("import time\ndef call_api(prompt, options, context):\n"
                                   "    time.sleep(30)\n    return {'output': 'x'}\n")
    (tmp_path / "plan.yaml").write_text("version: 1\nname: w\nproviders:\n  p: {python: p.py}\ncases:\n"
                                        "  - id: A\n    name: a\n    steps:\n      - {call: p, prompt: hi}\n")
    run = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", "plan.yaml", "-q", "--out", "out"],
                           cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def watchdogs() -> list[int]:
            children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
            return [int(c) for c in children if _comm(int(c)) == "orch-watchdog"]

        assert poll(lambda: bool(watchdogs()), within=20), "the run started no watchdog"
        dog = watchdogs()[0]
        assert poll(lambda: _allowed(dog) == _allowed(run.pid), within=10), (_allowed(dog), _allowed(run.pid))
    finally:
        run.send_signal(signal.SIGINT)
        run.wait(timeout=30)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


