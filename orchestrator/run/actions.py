"""Every step action by name: the core ones (call, sleep) and the process, http and load steps.

The modules of the latter are imported on the first step that needs one, so a plan of calls
does not pay for them (they were ~5 ms of every run's start).
"""
from __future__ import annotations

import importlib

from orchestrator.plan.model import StepSpec
from orchestrator.run.steps import ACTIONS as CORE_ACTIONS
from orchestrator.run.steps import CaseContext, StepAction, StepOutput, unsupported

# action -> (module, the name of its action table there)
_ELSEWHERE = {
    **dict.fromkeys(("exec", "spawn", "signal", "wait", "processes"), ("orchestrator.run.process_steps", "PROCESS_ACTIONS")),
    "http": ("orchestrator.run.http_step", "HTTP_ACTIONS"),
    "load": ("orchestrator.run.load_step", "LOAD_ACTIONS"),
}


def _imported_on_first_use(name: str, module: str, table: str) -> StepAction:
    def action(step: StepSpec, ctx: CaseContext) -> StepOutput:
        real: StepAction = getattr(importlib.import_module(module), table)[name]
        return real(step, ctx)

    return action


ACTIONS: dict[str, StepAction] = {
    **CORE_ACTIONS, **{name: _imported_on_first_use(name, *where) for name, where in _ELSEWHERE.items()}}


def action_for(name: str) -> StepAction:
    return ACTIONS.get(name, unsupported)
