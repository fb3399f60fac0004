"""Book-keeping of one worker slot of a pool: who holds it, what it served, why it restarted."""
from __future__ import annotations

from collections import deque
from dataclasses import field
from typing import Iterable

from orchestrator.errors import ErrorKind
from orchestrator.procs import protocol
from orchestrator.procs.exits import exit_description
from orchestrator.procs.api import CallError, PoolConfig, WorkerStatus
from orchestrator.procs.worker import Outcome, Reply, Worker
from orchestrator.records import mutable_record

_KEPT_LATENCIES = 4096


@mutable_record
class Slot:
    index: int
    worker: Worker | None = None
    calls: int = 0
    restarts: int = 0
    reasons: list[str] = field(default_factory=list)
    cold_start_ms: float | None = None  # spawn -> ready of the slot's first process
    first_call_ms: float | None = None  # the slot's first call (cold), round trip
    warm_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_KEPT_LATENCIES))
    peak_rss_bytes: int | None = None
    failed_starts: int = 0  # in a row; a served call resets it

    def served(self, duration_ms: float) -> None:
        self.calls += 1
        self.failed_starts = 0
        if self.first_call_ms is None:
            self.first_call_ms = duration_ms
        else:
            self.warm_ms.append(duration_ms)

    def status(self, provider_id: str) -> WorkerStatus:
        return WorkerStatus(
            provider_id=provider_id, index=self.index,
            pid=self.worker.pid if self.worker is not None else None,
            calls=self.calls, restarts=self.restarts, restart_reasons=tuple(self.reasons),
            cold_start_ms=self.cold_start_ms, peak_rss_bytes=self.peak_rss_bytes,
            first_call_ms=self.first_call_ms,
            warm_p50_ms=median(self.warm_ms) if self.warm_ms else None,
        )



def median(values: Iterable[float]) -> float:
    """`statistics.median`, without importing statistics (with fractions and decimal, ~4 ms of
    every run's start) for the one median every run's worker stats take."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def startup_error(cfg: PoolConfig, worker: Worker, reply: Reply, stderr: str) -> CallError:
    """Why a worker never became ready, as the error its calls get."""
    pid, provider = worker.pid, cfg.provider_id
    if reply.outcome is Outcome.TIMEOUT:
        return CallError(
            ErrorKind.STARTUP_TIMEOUT,
            f"provider {provider} was not ready within {cfg.startup_timeout_s:g}s; "
            f"worker pid {pid} and its process tree were killed",
            traceback=stderr,
        )
    if reply.outcome is Outcome.OK and reply.name == protocol.IMPORT_ERROR:
        payload = reply.payload if isinstance(reply.payload, dict) else {}
        return CallError(
            ErrorKind.IMPORT,
            f"provider {provider} failed to import: {payload.get('message', '')}",
            traceback=str(payload.get("traceback", "")),
        )
    code = worker.returncode
    how = exit_description(code) if code is not None else "stopped answering"
    detail = f" ({reply.detail})" if reply.detail else ""
    return CallError(
        ErrorKind.IMPORT,
        f"provider {provider} failed to import: worker pid {pid} {how} before it was ready{detail}",
        traceback=stderr,
    )
