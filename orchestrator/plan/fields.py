"""The fields each step action's result has: one vocabulary for validation (plan/names,
plan/shadowing), name scoping at run time (run/scope) and the generated reference.

A call's result also has every key the provider returned; those are the call's "returned"
names, not listed here. NOTES: what the orchestrator says about the values (a key hidden, a
NaN converted).
"""
from __future__ import annotations

from typing import Mapping

NOTES = "orchestrator_notes"
CALL_FIELDS = ("output", "error", "duration_ms", "worker", "result", NOTES)
# Main fields a provider may return instead of `output` (embedding / classification functions).
ALTERNATIVE_MAIN = ("embedding", "classification")
STEP_FIELDS: Mapping[str, tuple[str, ...]] = {
    "call": CALL_FIELDS,
    "exec": ("stdout", "stderr", "exit_code", "signal", "timed_out", "duration_ms", "pid", "tests", "error"),
    "spawn": ("pid", "name", "ready_ms", "error"),
    "signal": ("pids", "signal", "error"),
    "wait": ("exit_code", "signal", "waited_ms", "count", "pids", "zombies", "rss_bytes", "cmdlines", "error"),
    "processes": ("count", "pids", "zombies", "rss_bytes", "cmdlines", "error"),
    "sleep": ("duration_ms",),
    "load": ("requests", "errors", "errors_by_type", "failed", "success_rate", "rps", "latency_ms",
             "histogram", "duration_ms", "concurrency", "warmup", "correlation", "workers", "error_samples",
             "provider", "calls", "tokenUsage", "cost"),
    "http": ("status", "headers", "json", "text", "duration_ms", "error"),
    "parallel": ("steps", "duration_ms"),
}
