"""A stop signal while `orchestrator report` writes JUnit in its forked child beside the HTML:
exit 128 + N, the child gone with the parent, no half-written report left behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from orchestrator.procs.forked import spare_core
from orchestrator.result.store import write_json
from tests.support import alive, poll
from tests.unit.report.factory import many_cases

from .conftest import REPO


pytestmark = pytest.mark.skipif(not spare_core(), reason="report forks only with a second core")


@pytest.fixture(scope="module")
def big_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "results.json"
    write_json(many_cases(16000), path)  # ~1 s of writing: a busy machine can leave the test a while to signal
    return path


def _child_of(proc: subprocess.Popen[str]) -> psutil.Process | None:
    """The report's forked child, as soon as it exists (None if the report ended first)."""
    me = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            children = me.children()
        except psutil.Error:
            return None
        if children:
            return children[0]
    return None


@pytest.mark.parametrize(("name", "to_group"), [("SIGTERM", False), ("SIGHUP", False), ("SIGINT", True)])
def test_a_stop_signal_while_the_reports_are_written_ends_both_processes(big_results: Path, tmp_path: Path,
                                                                        name: str, to_group: bool) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "report", str(big_results), "--out", str(out)],
                            cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    try:
        child = _child_of(proc)
        assert child is not None, "the report never forked its JUnit writer"
        signum = signal.Signals[name]
        if to_group:  # Ctrl-C in a terminal: the whole foreground group gets it
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 128 + signum, stdout + stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert not alive(child.pid)
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []


def test_a_report_killed_outright_takes_its_child_with_it(tmp_path: Path) -> None:
    bigger = tmp_path / "results.json"
    write_json(many_cases(16000), bigger)  # the child's work: ~0.5 s or more, against ~10 ms to see SIGTERM
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "report", str(bigger), "--out", str(tmp_path)],
                            cwd=REPO, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    try:
        child = _child_of(proc)
        assert child is not None, "the report never forked"
        proc.kill()
        proc.wait(timeout=30)
        # Without PR_SET_PDEATHSIG the child works on (~0.2-0.4 s on 8,000 cases) and only then
        # finds nobody reading its result.
        assert poll(lambda: not alive(child.pid), within=0.3, every=0.005), "the child outlived its parent's SIGKILL"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
