"""`providers` in templates and expressions: each provider's pool as numbers, read when used.

    expr: "providers.heavy.first_call_ms < providers.heavy.cold_start_ms"

Per provider: `calls`, `restarts`, `restart_reasons`, `cold_start_ms` (spawn -> ready; the
slowest slot's), `first_call_ms` (the slowest slot's first call), `warm_p50_ms` (median over the
slots' medians of later calls), `peak_rss_bytes`, `pids` and `workers` (one entry per slot).
Values are read from the pools at the moment the expression is evaluated, so a step sees the
calls made by the steps before it.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Iterator, Mapping

from orchestrator.procs.api import Pool


class ProviderStats(Mapping[str, Mapping[str, Any]]):
    def __init__(self, pools: Mapping[str, Pool]) -> None:
        self._pools = pools

    def __getitem__(self, provider_id: str) -> Mapping[str, Any]:
        return summary(self._pools[provider_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._pools)

    def __len__(self) -> int:
        return len(self._pools)

    def __repr__(self) -> str:
        return repr({k: self[k] for k in self._pools})


def summary(pool: Pool) -> dict[str, Any]:
    import statistics  # here: only a plan whose templates read `providers` needs it

    slots = pool.stats()

    def values(name: str) -> list[Any]:
        return [getattr(s, name) for s in slots if getattr(s, name) is not None]

    cold, first, warm, rss = values("cold_start_ms"), values("first_call_ms"), values("warm_p50_ms"), \
        values("peak_rss_bytes")
    return {
        "calls": sum(s.calls for s in slots),
        "restarts": sum(s.restarts for s in slots),
        "restart_reasons": [r for s in slots for r in s.restart_reasons],
        "cold_start_ms": max(cold) if cold else None,
        "first_call_ms": max(first) if first else None,
        "warm_p50_ms": statistics.median(warm) if warm else None,
        "peak_rss_bytes": max(rss) if rss else None,
        "pids": pool.pids(),
        "workers": [asdict(s) for s in slots],
    }
