"""The leak check, through a real case run: orphans and daemons make the case an ERROR, and die."""
from __future__ import annotations

import re
import threading

import psutil

from orchestrator.plan.model import StepSpec
from orchestrator.result.model import Attempt, Status
from orchestrator.run import case as case_module
from tests.integration.steps.helpers import PY, all_gone, make_plan, pids_after, step, target


def run(*steps: StepSpec) -> Attempt:
    plan, case = make_plan(steps=tuple(steps))
    return case_module.run_attempt(plan, case, {}, threading.Event())


def leaked_pids(message: str) -> list[int]:
    return [int(p) for p in re.findall(r"pid (\d+) \(", message)]


def test_orphans_left_by_an_exec_are_named_and_killed() -> None:
    attempt = run(step("exec", command=[PY, target("leave_orphans.py"), "2", "600"]))
    orphans = pids_after(attempt.steps[0].fields["stdout"], "orphan")
    assert len(orphans) == 2 and attempt.status is Status.ERROR
    leak = attempt.steps[-1]
    assert leak.title == "leak check" and leak.error is not None and leak.error.type == "ProcessLeak"
    assert leak.error.message.startswith("2 process(es) started for the case were still alive after it ended")
    for pid in orphans:
        assert f"pid {pid} (sleep 600)" in leak.error.message
    assert sorted(leaked_pids(leak.error.message)) == sorted(orphans)
    assert all_gone(orphans, within=0.1)


def test_a_double_forked_daemon_is_found_through_the_subreaper() -> None:
    attempt = run(step("exec", command=[PY, target("double_fork_daemon.py"), "601"]))
    daemon = pids_after(attempt.steps[0].fields["stdout"], "daemon")
    assert attempt.steps[0].fields["exit_code"] == 0 and len(daemon) == 1
    assert attempt.status is Status.ERROR and "leak check" in attempt.message
    assert leaked_pids(attempt.steps[-1].error.message) == daemon  # type: ignore[union-attr]
    assert f"pid {daemon[0]} (sleep 601)" in attempt.message
    assert all_gone(daemon, within=0.1)


def test_a_daemon_of_a_spawn_is_a_leak_too() -> None:
    attempt = run(step("spawn", name="d", command=[PY, target("double_fork_daemon.py"), "602"]),
                  step("wait", exit="d"))
    assert attempt.status is Status.ERROR and "(sleep 602)" in attempt.message
    assert "[d] daemon" in attempt.stdout


def test_a_spawn_and_its_tree_are_not_leaks_they_are_stopped() -> None:
    attempt = run(step("spawn", name="tree", command=[PY, target("fork_tree.py"), "2"],
                       ready={"stdout_contains": "ready"}),
                  step("processes", of="tree"))
    assert attempt.status is Status.PASSED, attempt.message
    pids = attempt.steps[1].fields["pids"]
    assert len(pids) == 5 and all_gone(pids, within=0.1)


def test_orphans_that_ended_are_reaped_not_reported() -> None:
    attempt = run(step("exec", command=[PY, target("leave_orphans.py"), "2", "0.1"]),
                  step("sleep", duration=0.6))  # they exit meanwhile and become our zombies
    assert attempt.status is Status.PASSED, attempt.message
    orphans = pids_after(attempt.steps[0].fields["stdout"], "orphan")
    assert len(orphans) == 2
    ours = {c.pid for c in psutil.Process().children()}
    assert not ours & set(orphans)  # reaped by the leak check


def test_a_case_that_leaves_nothing_passes() -> None:
    attempt = run(step("exec", code="print('hi')"))
    assert attempt.status is Status.PASSED and attempt.steps[-1].action == "exec"


def test_a_leak_check_never_blames_a_running_exec_of_another_case() -> None:
    from orchestrator.procs.command import CommandRequest, run_command
    from orchestrator.procs.leaks import kill_leaks, note_started

    outcomes = []

    def neighbour() -> None:  # another case, running execs while this one finishes
        for _ in range(5):
            outcomes.append(run_command(CommandRequest(argv=["sleep", "0.1"], cwd="/", env={"PATH": "/usr/bin:/bin"})))

    thread = threading.Thread(target=neighbour)
    attempt_root = run(step("exec", code="pass")).steps[0].fields["pid"]
    note_started(attempt_root)
    thread.start()
    blamed = []
    while thread.is_alive():
        blamed += kill_leaks([attempt_root])
        note_started(attempt_root)
    thread.join()
    assert blamed == [] and [o.exit_code for o in outcomes] == [0] * 5
