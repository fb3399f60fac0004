"""A pool of well-behaved workers: what a user sees of results, output and scheduling."""
from __future__ import annotations

import os
import threading
import time

import pytest

from orchestrator.procs.api import CallRequest

from tests.support import poll

from .conftest import PROVIDERS, MakePool, all_gone, provider


def test_a_call_returns_the_function_result_with_worker_info(make_pool: MakePool) -> None:
    pool = make_pool(config={"temperature": 0})
    outcome = pool.call(CallRequest(prompt="hi", options={"extra": 1}, context={"vars": {"a": "b"}}))
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result["output"] == "hi"
    assert outcome.result["options"] == {"extra": 1, "config": {"temperature": 0}}
    assert outcome.result["context"] == {"vars": {"a": "b"}}
    assert outcome.worker is not None and outcome.worker.pid == outcome.result["pid"]
    assert (outcome.worker.index, outcome.worker.calls, outcome.worker.restarts) == (0, 1, 0)
    assert outcome.duration_ms > 0


def test_state_persists_across_calls_on_one_worker(make_pool: MakePool) -> None:
    pool = make_pool(function="counter")
    outcomes = [pool.call(CallRequest(prompt="")) for _ in range(3)]
    assert [o.result["output"] for o in outcomes if o.result] == [1, 2, 3]
    assert len({o.worker.pid for o in outcomes if o.worker}) == 1
    assert [o.worker.calls for o in outcomes if o.worker] == [1, 2, 3]


def test_unicode_round_trips_both_ways(make_pool: MakePool) -> None:
    pool = make_pool()
    text = "lone \ud800 and \udfff, U+FFFE \ufffe, NUL \x00, emoji 😀, CJK 中文, newline \n end"
    outcome = pool.call(CallRequest(prompt=text, context={"vars": {text: text}}))
    assert outcome.error is None and outcome.result is not None
    assert outcome.result["output"] == text
    assert outcome.result["context"] == {"vars": {text: text}}


def test_bare_and_unserialisable_return_values_are_errors_or_converted_data(make_pool: MakePool) -> None:
    bare = make_pool(function="bare").call(CallRequest(prompt="p"))
    assert bare.result is None and bare.error is not None and bare.error.type == "InvalidResult"
    odd = make_pool(function="odd_values").call(CallRequest(prompt="p"))
    assert odd.error is None and odd.result is not None
    assert odd.result["1"] == "int key"
    assert odd.result["when"].startswith("<object object at")
    assert odd.result["nested"] == {"(1, 2)": [1, 2]}


def test_an_exception_is_an_error_outcome_and_the_worker_survives(make_pool: MakePool) -> None:
    pool = make_pool(function="raises")
    first = pool.call(CallRequest(prompt="x"))
    assert first.result is None and first.error is not None
    assert (first.error.type, first.error.message) == ("ValueError", "bad prompt: x")
    assert 'in raises\n    raise ValueError("bad prompt: %s" % prompt)' in first.error.traceback
    assert "worker_main" not in first.error.traceback
    second = pool.call(CallRequest(prompt="y"))
    assert second.error is not None and second.error.message == "bad prompt: y"
    assert first.worker and second.worker and first.worker.pid == second.worker.pid
    assert pool.stats()[0].restarts == 0


def test_printed_output_is_captured_per_call_and_never_reaches_the_protocol(make_pool: MakePool) -> None:
    pool = make_pool(function="printer")
    first = pool.call(CallRequest(prompt="one"))
    assert first.result == {"output": "printed"}
    assert first.stdout == "to stdout: one\nC-level write\nfrom a child process\n"
    assert first.stderr == "to stderr: one\n"
    second = pool.call(CallRequest(prompt="two"))
    assert second.stdout.startswith("to stdout: two\n") and "one" not in second.stdout


def test_output_is_capped_per_call_with_a_visible_note(make_pool: MakePool) -> None:
    pool = make_pool(function="flood")
    outcome = pool.call(CallRequest(prompt=""))
    assert outcome.result == {"output": "flooded"}
    assert outcome.stdout.startswith("x" * 1000) and outcome.stdout.endswith("x" * 1000)
    assert outcome.stdout.count("x") == 1 << 20  # the first and the last 512 KiB
    assert "[… output truncated: 2,097,152 bytes written, 1,048,576 left out here; " in outcome.stdout


def test_a_chatty_provider_never_fills_the_disk(make_pool: MakePool) -> None:
    from orchestrator.procs.capture import DISK_BYTES

    pool = make_pool(function="chatty")
    outcome = pool.call(CallRequest(prompt="200"))
    assert outcome.result == {"output": "chatted"}
    assert "209,715,200 bytes written" in outcome.stdout and len(outcome.stdout) < 2 * 1024 * 1024
    worker = outcome.worker.pid

    def used() -> int:
        return os.stat(f"/proc/{worker}/fd/1").st_blocks * 512

    assert poll(lambda: used() <= DISK_BYTES + (8 << 20), within=5), f"{used():,} bytes on disk"


def test_a_huge_result_reaches_the_controller_truncated_with_a_note(make_pool: MakePool) -> None:
    outcome = make_pool(function="huge").call(CallRequest(prompt="100"))
    output = outcome.result["output"]
    assert output.startswith("Hzzz") and output.endswith("zzzT")
    assert "result truncated: 104,857,600 characters" in output
    assert len(output) < 9 * 1024 * 1024


def test_async_functions_share_one_event_loop_per_worker(make_pool: MakePool) -> None:
    pool = make_pool("async_provider.py")
    outcomes = [pool.call(CallRequest(prompt=str(i))) for i in range(3)]
    assert [o.result for o in outcomes] == [{"output": f"async:{i}", "loops": 1} for i in range(3)]
    coro = make_pool("async_provider.py", function="returns_coroutine").call(CallRequest(prompt="c"))
    assert coro.result == {"output": "async:c", "loops": 1}
    failed = make_pool("async_provider.py", function="raises").call(CallRequest(prompt=""))
    assert failed.error is not None and (failed.error.type, failed.error.message) == ("KeyError", "'missing'")


def test_provider_runs_with_its_cwd_env_and_sys_path_without_ours(make_pool: MakePool, tmp_path: object) -> None:
    pool = make_pool(function="environment", cwd=str(tmp_path), env={"FIXTURE_VAR": "set"})
    result = pool.call(CallRequest(prompt="")).result
    assert result is not None
    assert result["cwd"] == str(tmp_path) and result["env"] == "set" and result["stdin"] == ""
    assert result["encoding"] == "utf-8"
    assert result["path"][0] == str(PROVIDERS)
    procs_dir = os.path.dirname(provider("x")).replace("tests/fixtures/providers", "orchestrator/procs")
    assert procs_dir not in result["path"]


def test_user_modules_named_like_ours_are_not_shadowed(make_pool: MakePool) -> None:
    outcome = make_pool("pool.py").call(CallRequest(prompt=""))
    assert outcome.error is None, outcome.error
    assert outcome.result == {"output": "fixture tree"}


def test_a_slow_import_is_paid_once_per_worker(make_pool: MakePool) -> None:
    pool = make_pool("slow_import.py")
    began = time.monotonic()
    outcomes = [pool.call(CallRequest(prompt=str(i))) for i in range(10)]
    elapsed = time.monotonic() - began
    assert all(o.error is None for o in outcomes)
    assert len({o.result["pid"] for o in outcomes if o.result}) == 1
    assert 1.0 <= elapsed < 1.9, elapsed
    stats = pool.stats()[0]
    assert stats.cold_start_ms is not None and stats.cold_start_ms >= 1000 and stats.calls == 10


def test_callers_are_served_in_submission_order(make_pool: MakePool) -> None:
    pool = make_pool(function="counter")
    assert pool.call(CallRequest(prompt="")).result == {"output": 1, "pid": pool.pids()[0]}
    results: dict[int, int] = {}

    def caller(i: int) -> None:
        outcome = pool.call(CallRequest(prompt=""))
        assert outcome.result is not None
        results[i] = outcome.result["output"]

    # Hold the only worker out of the pool, and start each caller once the previous one waits,
    # so the submission order is certain; then give the worker back.
    threads = []
    with pool._cond:
        worker = pool._idle.popleft()
    for i in range(6):
        t = threading.Thread(target=caller, args=(i,))
        t.start()
        threads.append(t)
        assert poll(lambda: len(pool._queue) == i + 1, 2.0)
    with pool._cond:
        pool._idle.append(worker)
        pool._cond.notify_all()
    for t in threads:
        t.join(5)
    assert results == {i: i + 2 for i in range(6)}


def test_four_workers_run_four_calls_in_parallel(make_pool: MakePool) -> None:
    pool = make_pool(function="sleeper", workers=4)
    assert poll(lambda: all(s.cold_start_ms is not None for s in pool.stats()), 10.0)
    outcomes = []
    began = time.monotonic()
    threads = [threading.Thread(target=lambda: outcomes.append(pool.call(CallRequest(prompt="0.5")))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    elapsed = time.monotonic() - began
    assert len(outcomes) == 4 and all(o.error is None for o in outcomes)
    assert len({o.worker.pid for o in outcomes if o.worker}) == 4
    assert elapsed < 0.9, elapsed
    assert sorted(s.calls for s in pool.stats()) == [1, 1, 1, 1]


def test_start_returns_at_once_and_close_is_idempotent(make_pool: MakePool) -> None:
    began = time.monotonic()
    pool = make_pool("slow_import.py", workers=2)
    assert time.monotonic() - began < 0.5
    assert poll(lambda: len(pool.pids()) == 2, 2.0)
    pids = pool.pids()
    pool.close()
    pool.close()
    assert all_gone(pids)
    outcome = pool.call(CallRequest(prompt=""))
    assert outcome.error is not None and outcome.error.type == "PoolClosed"
    assert pool.pids() == []


def test_close_while_a_call_is_in_flight_ends_it_as_pool_closed(make_pool: MakePool) -> None:
    pool = make_pool(function="sleeper")
    outcomes = []
    caller = threading.Thread(target=lambda: outcomes.append(pool.call(CallRequest(prompt="30"))))
    caller.start()
    assert poll(lambda: pool.stats()[0].pid is not None and not pool._idle, 5.0)
    pid = pool.pids()[0]
    began = time.monotonic()
    pool.close()
    caller.join(5)
    assert time.monotonic() - began < 3
    assert outcomes and outcomes[0].error is not None and outcomes[0].error.type == "PoolClosed"
    assert all_gone([pid])


def test_large_requests_and_responses_cross_the_pipes_whole(make_pool: MakePool) -> None:
    pool = make_pool()
    big = "ß😀" * 300_000  # several pipe buffers each way once escaped
    for _ in range(2):
        outcome = pool.call(CallRequest(prompt=big, timeout_s=10))
        assert outcome.error is None and outcome.result is not None
        assert outcome.result["output"] == big


def test_start_returns_with_every_worker_process_started(make_pool: MakePool) -> None:
    # Spawned in the caller's thread: at the start of a run the workers then boot while the
    # orchestrator imports the rest of its run path, instead of after a thread got the GIL.
    pool = make_pool(workers=3)
    assert len(pool.pids()) == 3
    outcome = pool.call(CallRequest(prompt="hi"))
    assert outcome.error is None and outcome.worker is not None and outcome.worker.pid in pool.pids()


def test_a_worker_whose_output_files_cannot_be_made_fails_the_provider_with_the_reason(
        make_pool: MakePool, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.procs import capture

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(capture.tempfile, "mkstemp", full)
    pool = make_pool(queue_timeout_s=5.0)  # before, the call waited for a worker that never came
    outcome = pool.call(CallRequest(prompt="hi"))
    assert outcome.error is not None and outcome.error.type == "ImportError", outcome.error
    assert "No space left on device" in outcome.error.message
