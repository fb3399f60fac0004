"""The run id (`<pid>_<create time in 1/100 s>_<random>`) names a live run only while its
orchestrator lives: every run sweeps the processes of runs it judges dead (markers.run_alive,
which reads the create time with psutil). The id is made without psutil, so that the first
worker can start before psutil is imported: the two readings must agree."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from orchestrator.procs import markers

ROOT = Path(__file__).resolve().parents[3]


def test_this_processes_run_id_is_judged_alive_and_carries_psutils_create_time() -> None:
    pid, created, _ = markers.run_id().split("_")
    assert int(pid) == os.getpid()
    assert abs(int(created) - round(psutil.Process().create_time() * 100)) <= 1
    assert markers.run_alive(markers.run_id())


def test_a_run_id_of_a_process_that_is_gone_is_dead() -> None:
    done = subprocess.run([sys.executable, "-c", "from orchestrator.procs import markers; print(markers.run_id())"],
                          capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert not markers.run_alive(done.stdout.strip())


def test_a_worker_can_start_before_psutil_is_imported() -> None:
    # What run/pools.start_early needs up to the first spawn; psutil (~10 ms) comes after it.
    code = ("import sys\nfrom orchestrator.run import pools\nfrom orchestrator.procs import pool, subreaper, watchdog, markers\n"
            "markers.marked_env({}, 'x')\nprint('psutil' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "False"
