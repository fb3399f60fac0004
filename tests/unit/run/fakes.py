"""A fake pool and small plan builders: the engine is tested without processes."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec, CaseSpec, Plan, ProviderSpec, StepSpec
from orchestrator.plan.step_args import CallArgs
from orchestrator.procs.api import CallError, CallOutcome, CallRequest, PoolConfig, WorkerInfo, WorkerStatus

Behaviour = Callable[[CallRequest], "dict[str, Any] | CallError"]


class FakePool:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.calls: list[CallRequest] = []
        self.closed = False
        self._lock = threading.Lock()

    def start(self) -> None:
        pass

    def call(self, request: CallRequest) -> CallOutcome:
        with self._lock:
            self.calls.append(request)
            n = len(self.calls)
        started = time.monotonic()
        answer = self.behaviour(request)
        took = (time.monotonic() - started) * 1000
        worker = WorkerInfo(pid=4242, index=0, calls=n, restarts=0)
        if isinstance(answer, CallError):
            return CallOutcome(None, answer, took, worker, stdout="", stderr="boom\n")
        return CallOutcome(answer, None, took, worker, stdout=f"printed {n}\n")

    def pids(self) -> list[int]:
        return [4242]

    def stats(self) -> list[WorkerStatus]:
        return [WorkerStatus("echo", 0, 4242, len(self.calls), 0)]

    def close(self) -> None:
        self.closed = True


def echo(request: CallRequest) -> dict[str, Any] | CallError:
    if "raise" in str(request.prompt):
        return CallError("ValueError", "asked to raise", "Traceback ...")
    if "sleep" in str(request.prompt):
        time.sleep(0.05)
    return {"output": f"Echo: {request.prompt}", "vars": dict(request.context.get("vars", {}))}


AT = Location("plan.yaml", 3, 5)


def call(prompt: str, *expect: AssertionSpec, **extra: Any) -> StepSpec:
    return StepSpec(action="call", args=CallArgs("echo", prompt), location=AT,
                    expect=tuple(expect), **extra)


def a(kind: str, value: Any) -> AssertionSpec:
    return AssertionSpec(kind, value, AT)


def case(id: str, *steps: StepSpec, **extra: Any) -> CaseSpec:
    return CaseSpec(id=id, name=f"case {id}", location=AT, steps=steps, **extra)


def plan(*cases: CaseSpec, **extra: Any) -> Plan:
    provider = ProviderSpec(id="echo", kind="python", location=AT, cwd=Path("/tmp"),
                            python_file=Path("/tmp/echo.py"))
    return Plan(path=Path("/tmp/plan.yaml"), name="p", cases=cases, providers={"echo": provider}, **extra)


def factory(pool: FakePool) -> Callable[[PoolConfig], FakePool]:
    return lambda config: pool
