"""Pools of real workers running the scenarios/pool providers; nothing may outlive a test."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from orchestrator.procs import tree
from orchestrator.procs.api import Pool, PoolConfig
from orchestrator.procs.pool import WorkerPool, create_pool
from tests.integration.procs.conftest import all_gone
from tests.support import describe, live_descendants, started_since

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios" / "pool"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"

MakePool = Callable[..., Any]


def config(file: str, **fields: Any) -> PoolConfig:
    path = SCENARIOS / file if (SCENARIOS / file).exists() else FIXTURES / file
    return PoolConfig(**{"provider_id": Path(file).stem, "python_file": str(path), **fields})


@pytest.fixture
def make_pool() -> Iterator[MakePool]:
    """`make_pool(file, ping_idle_s=..., **PoolConfig fields)`: a started pool, closed and checked after."""
    pools: list[Pool] = []
    seen: set[int] = set()
    before = {p.pid for p in live_descendants()}

    def make(file: str, *, ping_idle_s: float | None = None, **fields: Any) -> Pool:
        cfg = config(file, **fields)
        pool: Pool = WorkerPool(cfg, ping_idle_s=ping_idle_s) if ping_idle_s is not None else create_pool(cfg)
        pools.append(pool)
        pool.start()
        return pool

    yield make
    for pool in pools:
        seen.update(pool.pids())
        pool.close()
    assert all_gone(sorted(seen)), "a worker outlived close()"
    leftovers = describe(started_since(before))
    tree.kill_all(0.2)
    assert not leftovers, f"processes left behind: {leftovers}"
