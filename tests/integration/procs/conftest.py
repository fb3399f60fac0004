from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from orchestrator.procs import tree
from orchestrator.procs.api import PoolConfig
from orchestrator.procs.pool import WorkerPool
from tests.support import describe, gone, live_descendants, poll, started_since

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"

MakePool = Callable[..., WorkerPool]


def provider(name: str) -> str:
    return str(PROVIDERS / name)


def all_gone(pids: list[int], timeout_s: float = 3.0) -> bool:
    return poll(lambda: all(gone(p) for p in pids), timeout_s)


@pytest.fixture
def make_pool() -> Iterator[MakePool]:
    """Builds started pools; closes them all afterwards and proves nothing was left behind."""
    pools: list[WorkerPool] = []
    before = {p.pid for p in live_descendants()}

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
    leftovers = describe(started_since(before))
    tree.kill_all(0.2)
    assert not leftovers, f"processes left behind: {leftovers}"
    assert tree.registered_pids() == []


@pytest.fixture(autouse=True)
def _no_stray_fds() -> Iterator[None]:
    before = len(os.listdir("/proc/self/fd"))
    yield
    assert poll(lambda: len(os.listdir("/proc/self/fd")) <= before, 2.0), "file descriptors leaked"
