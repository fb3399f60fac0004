"""Process steps against real (misbehaving) targets. Every test must leave no process behind."""
from __future__ import annotations

import threading
from typing import Iterator

import psutil
import pytest

from orchestrator.procs import leaks, tree
from orchestrator.run.steps import CaseContext
from tests.integration.steps.helpers import make_plan, poll, stray_descendants
from tests.support import live_descendants


@pytest.fixture
def ctx() -> Iterator[CaseContext]:
    plan, case = make_plan(env={"PLAN_LEVEL": "from-plan"})
    context = CaseContext(plan=plan, case=case, pools={}, variables={"plan_dir": str(plan.directory)},
                          stop=threading.Event())
    yield context
    for finalize in reversed(context.finalizers):
        finalize()
    leaks.kill_leaks(context.started_pids)


@pytest.fixture(scope="session", autouse=True)
def subreaper() -> None:
    if not leaks.become_subreaper():
        pytest.skip("needs Linux's child subreaper (prctl)")


@pytest.fixture(autouse=True)
def leaves_nothing_behind() -> Iterator[None]:
    before = {p.pid for p in live_descendants()}
    yield
    tree.kill_all(grace_s=0.2)
    assert poll(lambda: not stray_descendants(before), within=5), f"processes left behind: {stray_descendants(before)}"
    assert poll(lambda: not leaks.reap_orphans() and not _zombie_children(), within=3), "zombies left"


def _zombie_children() -> list[int]:
    return [c.pid for c in psutil.Process().children() if _is_zombie(c)]


def _is_zombie(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False

