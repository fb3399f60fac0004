from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterator

import psutil
import pytest

from orchestrator.procs import tree
from orchestrator.procs.api import PoolConfig
from orchestrator.procs.pool import WorkerPool

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"

MakePool = Callable[..., WorkerPool]


def provider(name: str) -> str:
    return str(PROVIDERS / name)


def wait_for(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return condition()


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def all_gone(pids: list[int], timeout_s: float = 3.0) -> bool:
    return wait_for(lambda: all(gone(p) for p in pids), timeout_s)


def our_descendants() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if not gone(p.pid)]


@pytest.fixture
def make_pool() -> Iterator[MakePool]:
    """Builds started pools; closes them all afterwards and proves nothing was left behind."""
    pools: list[WorkerPool] = []

    def make(file: str = "echo.py", **overrides: object) -> WorkerPool:
        fields: dict[str, object] = {"provider_id": Path(file).stem, "python_file": provider(file)}
        fields.update(overrides)
        pool = WorkerPool(PoolConfig(**fields))  # type: ignore[arg-type]
        pools.append(pool)
        pool.start()
        return pool

    yield make
    worker_pids = [pid for pool in pools for pid in pool.pids()]
    for pool in pools:
        pool.close()
    assert all_gone(worker_pids), "a worker outlived close()"
    leftovers = our_descendants()
    tree.kill_all(0.2)
    assert not leftovers, f"processes left behind: {[p.pid for p in leftovers]}"
    assert tree.registered_pids() == []


@pytest.fixture(autouse=True)
def _no_stray_fds() -> Iterator[None]:
    before = len(os.listdir("/proc/self/fd"))
    yield
    assert wait_for(lambda: len(os.listdir("/proc/self/fd")) <= before, 2.0), "file descriptors leaked"
