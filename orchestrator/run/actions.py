"""Every step action by name: the core ones (call, sleep) and the process steps."""
from __future__ import annotations

from orchestrator.run.http_step import HTTP_ACTIONS
from orchestrator.run.load_step import LOAD_ACTIONS
from orchestrator.run.process_steps import PROCESS_ACTIONS
from orchestrator.run.steps import ACTIONS as CORE_ACTIONS
from orchestrator.run.steps import StepAction, unsupported

ACTIONS: dict[str, StepAction] = {**CORE_ACTIONS, **PROCESS_ACTIONS, **HTTP_ACTIONS, **LOAD_ACTIONS}


def action_for(name: str) -> StepAction:
    return ACTIONS.get(name, unsupported)
