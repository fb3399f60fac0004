"""What the rest of the orchestrator sees of provider pools: a request in, an outcome out.

A call never raises for anything the provider or its worker did (exception, timeout, crash,
failed import): those are outcomes with `error` set. Only misuse of the API raises.
"""
from __future__ import annotations

from dataclasses import field
from typing import Any, Mapping, Protocol

from orchestrator.records import record


@record
class CallRequest:
    prompt: Any
    options: Mapping[str, Any] = field(default_factory=dict)  # config already merged in
    context: Mapping[str, Any] = field(default_factory=dict)  # holds "vars"
    timeout_s: float | None = None  # None: the provider's own timeout
    session: str | None = None
    marker: str | None = None  # the calling attempt's case token: what the call starts carries it
    case_id: str | None = None


@record
class CallError:
    # "ValueError" etc. for the provider's exceptions; ours: "TimeoutError", "WorkerCrashed",
    # "ImportError" (provider failed to import), "StartupTimeout", "ProtocolError", "PoolClosed"
    type: str
    message: str
    traceback: str = ""


@record
class WorkerInfo:
    pid: int | None
    index: int
    calls: int  # calls this worker process has served, this one included
    restarts: int  # how many times slot `index` has been replaced


@record
class CallOutcome:
    result: Mapping[str, Any] | None  # the dict the function returned (anything else: an InvalidResult error)
    error: CallError | None
    duration_ms: float
    worker: WorkerInfo | None
    stdout: str = ""  # what the worker printed during this call (fd 1, incl. C-level writes)
    stderr: str = ""
    # What had to change for the answer to cross as JSON ("output: NaN became the text 'NaN'").
    notes: tuple[str, ...] = ()


MAX_WORKERS = 128  # worker processes per provider (documented in the plan schema)


@record
class PoolConfig:
    provider_id: str
    python_file: str  # absolute path
    function: str = "call_api"
    interpreter: str | None = None
    workers: int = 1
    timeout_s: float = 120.0
    startup_timeout_s: float = 60.0
    env: Mapping[str, str] = field(default_factory=dict)  # layered over os.environ
    cwd: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    mode: str = "persistent"  # | "ephemeral": a fresh worker process for every call
    max_calls: int | None = None  # recycle a worker (between calls) after this many calls
    max_rss_bytes: int | None = None  # recycle a worker whose tree's RSS exceeds this (between calls)
    affinity: str | None = None  # "session": same CallRequest.session -> same worker while it lives
    queue_timeout_s: float | None = None  # waiting longer than this for a free worker -> "PoolBusy"
    max_restarts: int | None = None  # consecutive failed starts of a slot before the provider is failed
    plan: str = "-"  # the plan's name, part of every worker's marker (procs/markers.py)
    # Poll for a call's answer (and the worker for the next call) this long before sleeping:
    # set when one call runs at a time with a core to spare (procs/spin.spin_budget).
    spin_s: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= MAX_WORKERS:  # the schema says so too; this guards other callers
            raise ValueError(f"provider '{self.provider_id}': workers must be 1 to {MAX_WORKERS}, got {self.workers}")


@record
class WorkerStatus:
    provider_id: str
    index: int
    pid: int | None  # the live process, if any
    calls: int  # over every process that has held this slot
    restarts: int
    restart_reasons: tuple[str, ...] = ()  # "timeout", "crashed: signal SIGSEGV", ...
    cold_start_ms: float | None = None  # spawn -> ready of the first process in this slot
    peak_rss_bytes: int | None = None  # highest RSS of a worker's process tree seen in this slot
    first_call_ms: float | None = None  # round trip of the slot's first call
    warm_p50_ms: float | None = None  # median round trip of its later calls


class Pool(Protocol):
    def start(self) -> None:
        """Begin starting the workers; returns at once (calls wait for a ready worker)."""

    def call(self, request: CallRequest) -> CallOutcome:
        """Run one call on the first free worker (FIFO when all are busy); thread-safe."""

    def pids(self) -> list[int]:
        """Pids of the live worker processes (not their descendants)."""

    def stats(self) -> list[WorkerStatus]:
        """One entry per worker slot."""

    def close(self) -> None:
        """Stop every worker and its whole process tree; idempotent."""
