"""Token usage and cost per provider and for the run, from what provider calls returned.

promptfoo providers return `tokenUsage` ({total, prompt, completion, cached, ...}) and `cost`
(a number); the orchestrator keeps every returned key in the call step's fields. This module
totals them over every attempt (a retried call spent its tokens too) and every `call` step,
including those inside `parallel`, and a `load` step's calls (it sums them as it runs). Derived,
like the flake summary: written to results.json, never read back.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

from orchestrator.result.model import RunResult

TOKEN_KEYS = ("total", "prompt", "completion", "cached")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _calls(fields: Mapping[str, Any], action: str) -> Iterable[Mapping[str, Any]]:
    if action in ("call", "load"):
        yield fields
    elif action == "parallel":
        for sub in fields.get("steps") or ():
            if isinstance(sub, Mapping) and "provider" in sub:
                yield sub


def usage_summary(run: RunResult) -> dict[str, Any]:
    """{"providers": {id: {calls, tokens: {total, prompt, completion, cached}, cost}}, "total": {...}}

    Every report asks for it of the same run: the last run's summary is kept (a fresh copy each
    time: callers may keep or change what they get)."""
    last = _LAST
    if last and last[0] is run:
        return copy.deepcopy(last[1])
    summary = _summary(run)
    _LAST[:] = [run, copy.deepcopy(summary)]
    return summary


_LAST: list[Any] = []


def _summary(run: RunResult) -> dict[str, Any]:
    providers: dict[str, dict[str, Any]] = {}
    for case in run.cases:
        for attempt in case.attempts:
            for step in attempt.steps:
                for call in _calls(step.fields, step.action):
                    provider = call.get("provider")
                    if isinstance(provider, str):
                        _add(providers.setdefault(provider, _empty()), call)
    total = _empty()
    for entry in providers.values():
        total["calls"] += entry["calls"]
        total["cost"] += entry["cost"]
        for key in TOKEN_KEYS:
            total["tokens"][key] += entry["tokens"][key]
    return {"providers": providers, "total": total}


def _empty() -> dict[str, Any]:
    return {"calls": 0, "tokens": dict.fromkeys(TOKEN_KEYS, 0), "cost": 0.0}


def _add(entry: dict[str, Any], call: Mapping[str, Any]) -> None:
    calls = call.get("calls")  # a load step's many calls, summed
    entry["calls"] += calls if isinstance(calls, int) and not isinstance(calls, bool) and "requests" in call else 1
    usage = call.get("tokenUsage")
    if isinstance(usage, Mapping):
        counts = {key: _number(usage.get(key)) for key in TOKEN_KEYS}
        if counts["total"] is None and (counts["prompt"] is not None or counts["completion"] is not None):
            counts["total"] = (counts["prompt"] or 0) + (counts["completion"] or 0)
        for key, value in counts.items():
            if value is not None:
                entry["tokens"][key] += int(value)
    cost = _number(call.get("cost"))
    if cost is not None:
        entry["cost"] += cost


def has_usage(summary: Mapping[str, Any]) -> bool:
    total = summary["total"]
    return bool(total["tokens"]["total"] or total["cost"])


def usage_text(entry: Mapping[str, Any]) -> str:
    """'1,234 tokens (prompt 1,000, completion 234, cached 0), cost 0.0123 over 5 calls'."""
    tokens = entry["tokens"]
    parts = ", ".join(f"{key} {tokens[key]:,}" for key in TOKEN_KEYS[1:] if tokens[key])
    return (f"{tokens['total']:,} tokens" + (f" ({parts})" if parts else "")
            + f", cost {entry['cost']:.6g} over {entry['calls']} call{'s' if entry['calls'] != 1 else ''}")


def usage_labels(run: RunResult) -> list[tuple[str, str]]:
    """("", the run's total) and (provider, its total) for every provider called, in name order, as
    `usage_text` words them; [] when nothing reported any usage. For reports that label each."""
    summary = usage_summary(run)
    if not has_usage(summary):
        return []
    return [("", usage_text(summary["total"]))] + [
        (name, usage_text(entry)) for name, entry in sorted(summary["providers"].items())]


def usage_lines(run: RunResult) -> list[str]:
    """'Usage: <total>' and one line per provider with usage; [] when nothing reported any."""
    summary = usage_summary(run)
    if not has_usage(summary):
        return []
    lines = [f"Usage: {usage_text(summary['total'])}"]
    for name, entry in sorted(summary["providers"].items()):
        if entry["tokens"]["total"] or entry["cost"]:
            lines.append(f"  {name}: {usage_text(entry)}")
    return lines
