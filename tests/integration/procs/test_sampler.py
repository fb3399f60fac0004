"""The RSS sampler's view of a process family: read from each process's own /proc children list,
the same family and memory the whole process table gives."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Iterator

import pytest

from orchestrator.procs import snapshot
from orchestrator.procs.memory import PeakSampler
from tests.support import poll

# A parent whose child holds ~40 MB, and a grandchild: three generations to find.
FAMILY = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
    "block = bytearray(40 * 1024 * 1024); "
    "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print('ready', flush=True); time.sleep(60)"], stdout=sys.stdout)
time.sleep(60)
"""


@pytest.fixture
def family() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this test started, and only it
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_family_and_its_memory_match_the_process_table(family: subprocess.Popen[str]) -> None:
    if snapshot.family_of([os.getpid()]) is None:
        pytest.skip("this kernel lists no children in /proc: the process table is used, as before")
    assert poll(lambda: len(snapshot.with_descendants([family.pid])) == 3, within=10)
    assert snapshot.family_of([family.pid]) == snapshot.with_descendants([family.pid])
    import psutil

    assert snapshot.rss_bytes(os.getpid()) == pytest.approx(psutil.Process().memory_info().rss, rel=0.2)
    assert snapshot.rss_bytes(2 ** 22 + 12345) == 0  # no such process


def test_a_peak_counts_every_generation(family: subprocess.Popen[str]) -> None:
    assert poll(lambda: len(snapshot.with_descendants([family.pid])) == 3, within=10)
    sampler = PeakSampler()
    handle = sampler.watch(lambda: [family.pid])
    PeakSampler.sample(list(sampler._watches.values()))
    peak = sampler.unwatch(handle)
    assert peak is not None and peak > 40 * 1024 * 1024  # the child's block is in it
