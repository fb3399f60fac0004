"""Which processes a step means: `of:` selectors for `processes` and `wait`, spawns and
providers by name. Shared by the process steps (process_steps.py)."""
from __future__ import annotations

from typing import Any

from orchestrator.plan.semantic import SELECTOR_SCOPES
from orchestrator.plan.step_args import Selector
from orchestrator.procs import markers
from orchestrator.procs.snapshot import marked_pids, run_pids, session_members, take, tree_pids
from orchestrator.procs.spawned import Spawned
from orchestrator.run.steps import CaseContext


class StepProblem(Exception):
    """The step's arguments cannot be acted on; becomes the step's error."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def spawn_named(ctx: CaseContext, name: str) -> Spawned:
    handle = ctx.spawned.get(name)
    if not isinstance(handle, Spawned):
        known = ", ".join(sorted(ctx.spawned)) or "none"
        raise StepProblem("UnknownTarget", f"no spawn named '{name}' (spawns so far: {known})")
    return handle


def pool_named(ctx: CaseContext, provider: str) -> Any:
    pool = ctx.pools.get(provider)
    if pool is None:
        known = ", ".join(sorted(ctx.pools)) or "none"
        raise StepProblem("UnknownTarget", f"no running provider '{provider}' (providers: {known})")
    return pool


def snapshot(selector: Selector, ctx: CaseContext) -> dict[str, Any]:
    of = "run" if selector.of is None else selector.of
    pids: set[int] | None
    if of == "machine":
        pids = None
    elif of == "run":
        pids = run_pids()
    elif of in ("plan", "case"):
        own = markers.case_value(ctx.plan.name, ctx.marker)
        pids = marked_pids(str(of), own) | session_members(ctx.started_pids) | tree_pids(
            [h.pid for h in ctx.spawned.values() if isinstance(h, Spawned) and h.poll() is None])
        if of == "plan":
            pids |= tree_pids([pid for pool in ctx.pools.values() for pid in pool.pids()])
    elif str(of).startswith("provider:"):
        pids = tree_pids(pool_named(ctx, str(of)[len("provider:"):]).pids())
    else:
        handle = spawn_named(ctx, str(of))
        # a reaped root's pid may already be someone else's: then only its session counts
        pids = tree_pids([handle.pid]) if handle.poll() is None else session_members([handle.pid])
    cmdline, name = selector.cmdline, selector.name
    return take(pids, cmdline=None if cmdline is None else str(cmdline),
                name=None if name is None else str(name)).fields()


def ended_spawn(selector: Selector, ctx: CaseContext) -> Spawned | None:
    """The spawn `selector` is `of`, if it and every process of its session have ended."""
    of = "run" if selector.of is None else selector.of
    if of in SELECTOR_SCOPES or str(of).startswith("provider:"):
        return None
    handle = spawn_named(ctx, str(of))
    if handle.poll() is None or session_members([handle.pid]):
        return None
    return handle
