"""The `options` and `context` a provider function receives, in the shapes promptfoo documents.

promptfoo calls `call_api(prompt, options, context)` with
  options = {id, label, config: {...the provider's config, basePath}, ...}
  context = {vars, prompt: {raw, label}, test: {description, vars, metadata}, ...}
(and `call_embedding_api` / `call_classification_api` with `(prompt, options)` only — the worker
decides that). Here `basePath` is the plan's folder (promptfoo: the config's folder), `test` is
the case, and the step's own `options` / `context` keys are layered on top. What promptfoo also
passes but has no meaning here (`originalProvider`, `logger`, `getCache`, `filters`,
`evaluationId`, `bustCache`) is absent.
"""
from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Mapping

from orchestrator.plan.model import CaseSpec, Plan, ProviderSpec


def provider_id(spec: ProviderSpec, plan: Plan) -> str:
    """`file://providers/echo.py` (plus `:function` unless it is call_api), as promptfoo ids read."""
    if spec.python_file is None:
        return spec.url or spec.id
    path = os.path.relpath(spec.python_file, plan.directory)
    return f"file://{path}" + ("" if spec.function == "call_api" else f":{spec.function}")


def call_options(spec: ProviderSpec, plan: Plan, step_options: Mapping[str, Any]) -> dict[str, Any]:
    config = {**spec.config, **(step_options.get("config") or {})}
    if spec.python_file is None:  # an http provider: nothing local (paths) is posted to the server
        return {**step_options, "config": config}
    file_id, base_path = _local_ids(spec, plan)
    return {"id": file_id, "label": spec.id, **step_options, "config": {"basePath": base_path, **config}}


# (spec, plan, id, basePath) by id(spec): a relpath and two Path-to-text conversions were a
# tenth of a trivial case's cost, for the same answer on every call of a run. The plan is held
# weakly: a finished run's plans are released before its final reports are written.
_LOCAL_IDS: dict[int, tuple[ProviderSpec, weakref.ref[Plan], str, str]] = {}


def _local_ids(spec: ProviderSpec, plan: Plan) -> tuple[str, str]:
    known = _LOCAL_IDS.get(id(spec))
    if known is None or known[0] is not spec or known[1]() is not plan or not os.path.isabs(known[3]):
        known = (spec, weakref.ref(plan), provider_id(spec, plan), str(plan.directory))
        if len(_LOCAL_IDS) > 256:  # many plans loaded in one process (tests): start afresh
            _LOCAL_IDS.clear()
        _LOCAL_IDS[id(spec)] = known
    return known[2], known[3]


def call_context(case: CaseSpec, prompt: Any, variables: Mapping[str, Any],
                 step_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    raw = prompt if isinstance(prompt, str) else str(prompt)
    test = {"description": case.name, "vars": dict(variables),
            "metadata": {"id": case.id, "priority": case.priority, "tags": list(case.tags)}}
    return {"prompt": {"raw": raw, "label": raw[:80]}, "test": test, **(step_context or {}), "vars": dict(variables)}


class UsageTally:
    """The tokenUsage and cost that a `load` step's many calls returned, summed (thread-safe)."""

    KEYS = ("total", "prompt", "completion", "cached")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.tokens = dict.fromkeys(self.KEYS, 0)
        self.cost = 0.0

    def add(self, result: Mapping[str, Any] | None) -> None:
        usage = (result or {}).get("tokenUsage")
        cost = (result or {}).get("cost")
        with self._lock:
            self.calls += 1
            if isinstance(usage, Mapping):
                for key in self.KEYS:
                    value = usage.get(key)
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        self.tokens[key] += int(value)
            if isinstance(cost, (int, float)) and not isinstance(cost, bool):
                self.cost += float(cost)

    def fields(self, provider: str) -> dict[str, Any]:
        """Fields of the load step that usage totals read (`calls` counts warm-up calls too)."""
        return {"provider": provider, "calls": self.calls, "tokenUsage": dict(self.tokens), "cost": self.cost}
