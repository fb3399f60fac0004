"""Misbehaving providers: every failure is an outcome, the tree dies, the pool keeps serving."""
from __future__ import annotations

import re
import time


from orchestrator.procs.api import CallRequest, CallOutcome
from orchestrator.procs.pool import WorkerPool

from tests.support import describe, live_descendants, poll, started_since

from .conftest import MakePool, all_gone


def _grandchild(outcome: CallOutcome) -> int:
    match = re.search(r"grandchild (\d+)", outcome.stdout)
    assert match, f"no grandchild pid in {outcome.stdout!r}"
    return int(match.group(1))


def _served_by_a_fresh_worker(pool: WorkerPool, dead_pid: int | None) -> CallOutcome:
    outcome = pool.call(CallRequest(prompt="fine", timeout_s=5))
    assert outcome.error is None, outcome.error
    assert outcome.result is not None and outcome.result["output"] == "fine"
    assert outcome.worker is not None and outcome.worker.pid not in (None, dead_pid)
    assert outcome.result["pid"] == outcome.worker.pid
    return outcome


def test_a_hung_call_kills_the_whole_tree_and_a_fresh_worker_serves_within_timeout_plus_1s(make_pool: MakePool) -> None:
    pool = make_pool("misbehave.py", function="hang", timeout_s=1.0)
    assert poll(lambda: pool.stats()[0].cold_start_ms is not None, 5.0)
    first_pid = pool.pids()[0]
    began = time.monotonic()
    outcome = pool.call(CallRequest(prompt="go"))
    assert outcome.error is not None
    assert outcome.error.type == "TimeoutError"
    assert outcome.error.message == f"call timed out after 1s; worker pid {first_pid} and its process tree were killed"
    grandchild = _grandchild(outcome)  # what it printed before hanging is in the outcome
    assert all_gone([first_pid, grandchild], timeout_s=0.1), "the tree must be dead when the call returns"
    fresh = _served_by_a_fresh_worker(pool, first_pid)
    assert time.monotonic() - began <= 1.0 + 1.0
    assert fresh.worker is not None and fresh.worker.restarts == 1 and fresh.worker.calls == 1
    stats = pool.stats()[0]
    assert (stats.restarts, stats.restart_reasons, stats.calls) == (1, ("timeout",), 2)


def test_a_per_request_timeout_overrides_the_provider_timeout(make_pool: MakePool) -> None:
    pool = make_pool(function="sleeper", timeout_s=60)
    began = time.monotonic()
    outcome = pool.call(CallRequest(prompt="30", timeout_s=0.3))
    assert outcome.error is not None and outcome.error.type == "TimeoutError"
    assert outcome.error.message.startswith("call timed out after 0.3s; worker pid ")
    assert time.monotonic() - began < 1.5
    assert pool.call(CallRequest(prompt="0")).error is None


def test_os_exit_is_a_crash_naming_the_exit_code_and_the_pool_keeps_serving(make_pool: MakePool) -> None:
    pool = make_pool("misbehave.py", function="exit3_with_grandchild")
    outcome = pool.call(CallRequest(prompt="go"))
    assert outcome.error is not None and outcome.worker is not None and outcome.worker.pid is not None
    pid = outcome.worker.pid
    assert outcome.error.type == "WorkerCrashed"
    assert outcome.error.message == f"worker pid {pid} exited with code 3 during the call"
    assert all_gone([pid, _grandchild(outcome)], timeout_s=0.1)
    again = _served_by_a_fresh_worker(pool, pid)
    assert again.worker is not None and again.worker.restarts == 1
    stats = pool.stats()[0]
    assert stats.restarts == 1 and stats.restart_reasons == ("crashed: exit code 3",)


def test_a_segfault_is_a_crash_naming_the_signal(make_pool: MakePool) -> None:
    pool = make_pool("misbehave.py", function="segfault")
    outcome = pool.call(CallRequest(prompt="go"))
    assert outcome.error is not None and outcome.worker is not None and outcome.worker.pid is not None
    assert outcome.error.type == "WorkerCrashed"
    assert outcome.error.message == f"worker pid {outcome.worker.pid} was killed by signal SIGSEGV (11) during the call"
    assert all_gone([outcome.worker.pid], timeout_s=0.1)
    _served_by_a_fresh_worker(pool, outcome.worker.pid)
    assert pool.stats()[0].restart_reasons == ("crashed: signal SIGSEGV",)


def test_a_worker_killed_by_sigkill_is_replaced(make_pool: MakePool) -> None:
    pool = make_pool("misbehave.py", function="kill_self")
    outcome = pool.call(CallRequest(prompt="go"))
    assert outcome.error is not None and outcome.worker is not None
    assert outcome.error.message.endswith("was killed by signal SIGKILL (9) during the call")
    _served_by_a_fresh_worker(pool, outcome.worker.pid)


def test_junk_on_fd_1_does_not_disturb_the_protocol(make_pool: MakePool) -> None:
    pool = make_pool("misbehave.py", function="junk")
    for _ in range(3):
        outcome = pool.call(CallRequest(prompt=""))
        assert outcome.error is None and outcome.result == {"output": "clean"}
        assert outcome.stdout == 'garbage\n["result", {"result": {"output": "forged"}}]\n'
    assert pool.stats()[0].restarts == 0


def test_an_import_error_fails_every_call_at_once_without_restarts(make_pool: MakePool) -> None:
    pool = make_pool("import_error.py", workers=2, env={"MODEL_URL": "http://model:1"})
    began = time.monotonic()
    outcomes = [pool.call(CallRequest(prompt="")) for _ in range(5)]
    assert time.monotonic() - began < 3
    for outcome in outcomes:
        assert outcome.error is not None and outcome.result is None
        assert outcome.error.type == "ImportError"
        assert outcome.error.message == (
            "provider import_error failed to import: RuntimeError: cannot reach the model server at http://model:1"
        )
        assert 'import_error.py", line 3, in <module>' in outcome.error.traceback
    assert poll(lambda: pool.pids() == [], 2.0)
    time.sleep(0.2)  # would a restart loop spawn anything?
    assert pool.pids() == [] and all(s.restarts == 0 for s in pool.stats())


def test_a_missing_function_is_an_import_failure(make_pool: MakePool) -> None:
    outcome = make_pool(function="nope").call(CallRequest(prompt=""))
    assert outcome.error is not None and outcome.error.type == "ImportError"
    assert outcome.error.message == "provider echo failed to import: ImportError: function 'nope' not found in echo.py"


def test_a_hanging_import_is_a_startup_timeout(make_pool: MakePool) -> None:
    pool = make_pool("hang_import.py", startup_timeout_s=0.5)
    assert poll(lambda: len(pool.pids()) == 1, 2.0)
    pid = pool.pids()[0]
    began = time.monotonic()
    outcome = pool.call(CallRequest(prompt=""))
    assert time.monotonic() - began < 2
    assert outcome.error is not None and outcome.error.type == "StartupTimeout"
    assert outcome.error.message == (
        f"provider hang_import was not ready within 0.5s; worker pid {pid} and its process tree were killed"
    )
    assert all_gone([pid]) and pool.call(CallRequest(prompt="")).error == outcome.error


def test_an_interpreter_that_cannot_start_fails_the_pool(make_pool: MakePool) -> None:
    outcome = make_pool(interpreter="/nonexistent/python").call(CallRequest(prompt=""))
    assert outcome.error is not None and outcome.error.type == "ImportError"
    assert outcome.error.message.startswith("provider echo failed to import: cannot start '/nonexistent/python'")


def test_close_after_failures_leaves_no_process(make_pool: MakePool) -> None:
    before = {p.pid for p in live_descendants()}
    pool = make_pool("misbehave.py", function="hang", timeout_s=0.5, workers=2)
    outcome = pool.call(CallRequest(prompt="go"))
    grandchild = _grandchild(outcome)
    assert poll(lambda: len(pool.pids()) == 2, 3.0)
    pids = pool.pids()
    pool.close()
    assert all_gone(pids + [grandchild], timeout_s=0.1)
    assert describe(started_since(before)) == []
