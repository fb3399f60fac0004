"""Helpers for the process-step tests: plans and steps in code, real targets, polling."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


from orchestrator.errors import Location
from orchestrator.plan.model import CaseSpec, Plan, StepSpec
from orchestrator.plan.step_args import build_args
from orchestrator.procs import leaks
from orchestrator.run.process_steps import PROCESS_ACTIONS
from orchestrator.run.steps import CaseContext, StepOutput
from tests.support import alive, describe, poll, started_since

REPO = Path(__file__).resolve().parents[3]
TARGETS = REPO / "scenarios" / "targets"
PLAN_PATH = REPO / "plans" / "steps-under-test.yaml"  # never read: only its directory matters
PY = sys.executable


def target(name: str) -> str:
    return str(TARGETS / name)




def all_gone(pids: Any, within: float = 3.0) -> bool:
    return poll(lambda: not any(alive(p) for p in pids), within)


def pids_after(text: str, word: str) -> list[int]:
    """`child 123` lines -> [123]."""
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith(word + " ")]


def step(action: str, *, title: str | None = None, timeout_s: float | None = None, **args: Any) -> StepSpec:
    """A step as a plan would give it: `args` are its action's keys, typed as the loader types them."""
    return StepSpec(action=action, args=build_args(action, args), location=Location("steps-under-test.yaml", 1, 1),
                    name=title, timeout_s=timeout_s)


def make_plan(env: dict[str, str] | None = None, steps: tuple[StepSpec, ...] = ()) -> tuple[Plan, CaseSpec]:
    case = CaseSpec(id="T-1", name="under test", location=Location("steps-under-test.yaml", 1, 1), steps=steps)
    return Plan(path=PLAN_PATH, name="steps-under-test", cases=(case,), env=env or {}), case


def act(action: str, ctx: CaseContext, *, timeout_s: float | None = None, **args: Any) -> StepOutput:
    return PROCESS_ACTIONS[action](step(action, timeout_s=timeout_s, **args), ctx)


def stray_descendants(before: set[int]) -> list[str]:
    """Processes started since the `before` snapshot that still run (orphans reaped first)."""
    leaks.reap_orphans()
    return describe(started_since(before))



