from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from orchestrator.procs import tree

from tests.support import poll

from .conftest import all_gone

STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def _start_stubborn() -> tuple[subprocess.Popen[bytes], int]:
    proc = tree.spawn([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    grandchild = int(proc.stdout.readline())
    proc.stdout.close()
    return proc, grandchild


def test_children_start_in_their_own_session() -> None:
    proc, grandchild = _start_stubborn()
    try:
        assert os.getsid(proc.pid) == proc.pid and os.getpgid(proc.pid) == proc.pid
        assert os.getsid(grandchild) == proc.pid
    finally:
        tree.kill_tree(proc.pid, 0.2)


def test_kill_tree_kills_a_term_ignoring_process_and_its_grandchild_then_reaps() -> None:
    proc, grandchild = _start_stubborn()
    began = time.monotonic()
    tree.kill_tree(proc.pid, 0.3)
    assert time.monotonic() - began < 3
    assert proc.returncode == -signal.SIGKILL  # reaped by us, with its real status
    assert all_gone([proc.pid, grandchild])
    assert proc.pid not in tree.registered_pids()


def test_kill_tree_finds_grandchildren_orphaned_by_a_dead_root() -> None:
    proc, grandchild = _start_stubborn()
    psutil.Process(proc.pid).kill()  # the root dies first; the grandchild is reparented
    assert poll(lambda: psutil.Process(grandchild).ppid() != proc.pid, 3.0)  # reparented
    tree.kill_tree(proc.pid, 0.3)
    assert all_gone([proc.pid, grandchild])


def test_kill_all_cleans_up_every_registered_tree() -> None:
    started = [_start_stubborn() for _ in range(2)]
    assert {p.pid for p, _ in started} <= set(tree.registered_pids())
    tree.kill_all(0.2)
    assert all_gone([pid for p, g in started for pid in (p.pid, g)])
    assert tree.registered_pids() == []



def test_a_root_no_longer_held_is_not_signalled_nor_its_group_nor_its_children() -> None:
    """A root that kill_all (another thread) has killed, reaped and forgotten: its pid may name
    another process by now. Here a live process of someone else's stands in for such a reused pid."""
    other = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\n"
                              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                              "time.sleep(60)\n"], start_new_session=True)
    try:
        assert poll(lambda: len(psutil.Process(other.pid).children()) == 1, 10.0)
        child = psutil.Process(other.pid).children()[0]
        tree.kill_tree(other.pid, 0.2)
        tree.kill_trees([other.pid], 0.2)
        assert other.poll() is None and child.is_running()
    finally:
        for pid in [c.pid for c in psutil.Process(other.pid).children()]:
            os.kill(pid, signal.SIGKILL)
        other.kill()
        other.wait()
