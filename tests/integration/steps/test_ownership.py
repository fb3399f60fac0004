"""Ownership by marker, through real case runs: a case is blamed for its own leftovers only,
a spawn's leftovers after its root exited are a leak, selectors see whose processes they say."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import threading
from typing import Iterator

import psutil
import pytest

from orchestrator.plan.model import StepSpec
from orchestrator.procs import markers
from orchestrator.result.model import Attempt, Status
from orchestrator.run import actions as actions_module
from orchestrator.run import case as case_module
from orchestrator.run import steps as steps_module
from orchestrator.run.process_steps import PROCESS_ACTIONS
from tests.integration.steps.helpers import PY, all_gone, make_plan, pids_after, poll, step, target

# A spawn target: starts two `sleep 611` children, prints `ready PID PID`; on SIGINT/SIGTERM, or
# after argv[1] seconds, it exits WITHOUT stopping them (the bug E2E-008 exists to catch).
ABANDONS_CHILDREN = """
import os, signal, subprocess, sys, time
kids = [subprocess.Popen(["sleep", "611"]) for _ in range(2)]
print("ready", *[k.pid for k in kids], flush=True)
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 600)
"""


@pytest.fixture(autouse=True)
def process_actions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(actions_module, "ACTIONS", {**actions_module.ACTIONS, **PROCESS_ACTIONS})
    yield


def run(*steps: StepSpec, case_id: str = "T-1") -> Attempt:
    plan, case = make_plan(steps=tuple(steps))
    case = dataclasses.replace(case, id=case_id)
    return case_module.run_attempt(plan, case, {}, threading.Event())


def leaked_pids(attempt: Attempt) -> list[int]:
    error = attempt.steps[-1].error
    assert error is not None and error.type == "ProcessLeak", attempt.message
    return sorted(int(p) for p in re.findall(r"pid (\d+) \(", error.message))


def test_what_a_case_starts_carries_the_run_and_case_markers() -> None:
    attempt = run(step("exec", command=[PY, "-c", "import os, json; print(json.dumps(dict(os.environ)))"]),
                  case_id="MARKED-1")
    environ = json.loads(attempt.steps[0].fields["stdout"])
    value = environ[markers.run_var()]
    assert markers.Mark.parse(value).plan == "steps-under-test" and markers.Mark.parse(value).provider is None
    assert environ[markers.RUN_ID_VAR] == markers.run_id() and environ[markers.CASE_ID_VAR] == "MARKED-1"
    assert markers.case_name(markers.Mark.parse(value).case) == "MARKED-1"


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "on its own"])
def test_what_a_spawn_leaves_after_its_root_exited_is_a_leak_named_and_killed(how: str) -> None:
    command = [PY, "-c", ABANDONS_CHILDREN] + (["0.2"] if how == "on its own" else [])
    steps = [step("spawn", name="t", command=command, ready={"stdout_contains": "ready"})]
    if how != "on its own":
        steps.append(step("signal", target="t", signal=how))
    steps.append(step("wait", exit="t", within=5))
    attempt = run(*steps)
    children = [int(p) for p in re.findall(r"\[t\] ready (\d+) (\d+)", attempt.stdout)[0]]
    assert attempt.status is Status.ERROR, attempt.message
    assert leaked_pids(attempt) == sorted(children)
    assert "(sleep 611)" in attempt.message
    assert all_gone(children, within=0.1)


def test_a_spawn_still_running_at_the_end_is_stopped_with_its_tree_not_a_leak() -> None:
    attempt = run(step("spawn", name="t", command=[PY, "-c", ABANDONS_CHILDREN], ready={"stdout_contains": "ready"}))
    children = [int(p) for p in re.findall(r"\[t\] ready (\d+) (\d+)", attempt.stdout)[0]]
    assert attempt.status is Status.PASSED, attempt.message
    assert all_gone(children, within=0.1)


def test_a_neighbour_case_is_never_blamed_for_a_daemon_that_is_not_its_own() -> None:
    """As under -j 2: B's command starts first, A's daemon appears while B still runs, B's leak
    check runs while the daemon lives. Only A is an ERROR, and only A's check kills it."""
    daemon_up, b_done = threading.Event(), threading.Event()
    results: dict[str, Attempt] = {}

    def case_a() -> None:
        results["A"] = run(step("exec", command=[PY, target("double_fork_daemon.py"), "612"]),
                           step("exec", command=[PY, "-c", "print('a')"]), case_id="A")

    def case_b() -> None:
        plan, case = make_plan(steps=(step("exec", command=[PY, "-c", "import time; time.sleep(0.4)"]),))
        results["B"] = case_module.run_attempt(plan, case, {}, threading.Event())
        b_done.set()

    b = threading.Thread(target=case_b)
    b.start()
    # A's daemon is born while B's command runs, and lives on while B's leak check runs.
    original = PROCESS_ACTIONS["exec"]

    def exec_then_wait(spec: StepSpec, ctx: steps_module.CaseContext) -> steps_module.StepOutput:
        out = original(spec, ctx)
        if ctx.case.id == "A" and not daemon_up.is_set():
            daemon_up.set()
            b_done.wait(10)
        return out

    actions_module.ACTIONS["exec"] = exec_then_wait
    a = threading.Thread(target=case_a)
    a.start()
    a.join(30)
    b.join(30)
    assert results["B"].status is Status.PASSED, results["B"].message
    daemon = pids_after(results["A"].steps[0].fields["stdout"], "daemon")
    assert results["A"].status is Status.ERROR and leaked_pids(results["A"]) == daemon
    assert all_gone(daemon, within=0.1)


def test_selectors_see_the_run_the_case_and_the_machine() -> None:
    foreign = subprocess.Popen(["sleep", "613"])  # the same command line, not the run's
    # older than the case: the subreaper fallback (for processes that scrub their environment)
    # counts our unmarked children started after the case began
    born = psutil.Process(foreign.pid).create_time()
    assert poll(lambda: _boot_clock() > born + 0.15, 2)
    try:
        attempt = run(step("spawn", name="mine", command=["sleep", "613"]),
                      step("wait", processes={"cmdline": "sleep 613"}, count=1),  # exec'd by now
                      step("processes", of="run", cmdline="sleep 613"),
                      step("processes", of="case", cmdline="sleep 613"),
                      step("processes", of="plan", cmdline="sleep 613"),
                      step("processes", of="machine", cmdline="sleep 613"))
    finally:
        foreign.kill()
        foreign.wait()
    assert attempt.status is Status.PASSED, (attempt.message, foreign.pid, attempt.steps[0].fields)
    mine = attempt.steps[0].fields["pid"]
    for index in (1, 2, 3, 4):
        assert attempt.steps[index].fields["pids"] == [mine], attempt.steps[index].title
    assert sorted(attempt.steps[5].fields["pids"]) == sorted([mine, foreign.pid])


def _boot_clock() -> float:
    """Now, on the clock process start times are read from (boot time + /proc/uptime)."""
    with open("/proc/uptime", encoding="ascii") as handle:
        return float(psutil.boot_time()) + float(handle.read().split()[0])


def test_a_port_taken_before_the_spawn_fails_it_naming_the_owner() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        attempt = run(step("spawn", name="srv", command=[PY, target("tcp_server.py"), str(port)],
                           ready={"port": port}))
    assert attempt.status is Status.ERROR
    error = attempt.steps[0].error
    assert error is not None and error.type == "PortTaken"
    assert f"port {port} is already taken by pid {os.getpid()} (" in error.message
    assert attempt.steps[0].fields["pid"] is None  # nothing was started


def test_a_ready_port_says_which_process_holds_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    attempt = run(step("spawn", name="srv", command=[PY, target("tcp_server.py"), str(port)], ready={"port": port}))
    assert attempt.status is Status.PASSED, attempt.message
    fields = attempt.steps[0].fields
    assert fields["port_pid"] == fields["pid"] and "tcp_server.py" in fields["port_cmdline"]
