"""procs/proctable.py reads from /proc what psutil would say: same pids, start times (run ids and
pid-reuse checks compare the two), children, ancestors, sessions and zombies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Iterator

import psutil
import pytest

from orchestrator.procs import leaks, proctable
from tests.support import poll

pytestmark = pytest.mark.skipif(not proctable.LINUX, reason="elsewhere proctable asks psutil")

# A session leader with a child and a grandchild; it prints the pids and waits.
FAMILY = """import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"])
print(child.pid, flush=True)
time.sleep(30)
"""


@pytest.fixture
def family() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    assert poll(lambda: len(psutil.Process(proc.pid).children(recursive=True)) == 2, 10)
    yield proc
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_pids_start_times_and_ancestors_are_psutils() -> None:
    me = os.getpid()
    assert me in proctable.pids() and os.getppid() in proctable.pids()
    assert proctable.create_time(me) == psutil.Process(me).create_time()
    assert proctable.ancestors(me) == [p.pid for p in psutil.Process(me).parents()]
    assert proctable.boot_time() == psutil.boot_time()


def test_children_descendants_and_session_members_are_psutils(family: subprocess.Popen[bytes]) -> None:
    root = psutil.Process(family.pid)
    assert proctable.children(family.pid) == [p.pid for p in root.children()]
    below = {p.pid for p in root.children(recursive=True)}
    assert proctable.descendants([family.pid]) == below
    assert proctable.session_members([family.pid]) == below | {family.pid}


def test_a_process_that_is_gone_reads_as_gone() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert proctable.stat(proc.pid) is None and proctable.create_time(proc.pid) is None
    assert proctable.zombie_or_gone(proc.pid) and proctable.children(proc.pid) == []
    assert proctable.descendants([proc.pid]) == set() and proctable.ancestors(proc.pid) == []


def test_an_unreaped_child_is_a_zombie_that_reap_orphans_reaps() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        assert poll(lambda: proctable.zombie_or_gone(pid), 10)
        assert pid in proctable.children(os.getpid())
        found = proctable.stat(pid)
        assert found is not None and found.zombie and found.ppid == os.getpid()
        assert pid in leaks.reap_orphans()
        assert proctable.stat(pid) is None
    finally:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
