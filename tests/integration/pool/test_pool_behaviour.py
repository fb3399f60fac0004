"""Seed 001's pool strategy on real workers: affinity, bounded waiting, liveness, recycling,
restart budget, ephemeral mode, and a SIGKILL under load."""
from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator.procs import pool as pool_module
from orchestrator.procs.api import CallOutcome, CallRequest
from tests.support import gone, poll

from .conftest import MakePool


def _ok(outcome: CallOutcome) -> dict:
    assert outcome.error is None, outcome.error
    assert outcome.result is not None
    return dict(outcome.result)


def test_same_session_same_worker_and_sessions_keep_their_state_apart(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py", workers=2, affinity="session")
    a1 = _ok(pool.call(CallRequest(prompt="a1", session="alice")))
    b1 = _ok(pool.call(CallRequest(prompt="b1", session="bob")))
    a2 = _ok(pool.call(CallRequest(prompt="a2", session="alice")))
    b2 = _ok(pool.call(CallRequest(prompt="b2", session="bob")))
    assert a1["pid"] == a2["pid"] != b1["pid"] == b2["pid"]
    assert a2["notes"] == ["a1", "a2"] and b2["notes"] == ["b1", "b2"]


def test_a_session_waits_for_its_own_worker_while_others_overtake(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py", workers=2, affinity="session")
    home = _ok(pool.call(CallRequest(prompt="x", session="s")))["pid"]
    with ThreadPoolExecutor(4) as ex:
        slow = ex.submit(pool.call, CallRequest(prompt="slow", session="s", options={"config": {"delay": 0.5}}))
        assert poll(lambda: len([s for s in pool.stats() if s.calls]) >= 1 and _busy(pool, home), 2.0)
        same = ex.submit(pool.call, CallRequest(prompt="again", session="s"))
        other = _ok(pool.call(CallRequest(prompt="other", session="t")))
        assert not same.done(), "the session's call must wait for its busy worker"
        assert other["pid"] != home
        assert _ok(same.result(5))["pid"] == home and _ok(slow.result(5))["pid"] == home


def _busy(pool: object, pid: int) -> bool:
    return pid not in [w.pid for w in getattr(pool, "_idle")]


def test_queue_timeout_fails_fast_with_pool_busy(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py", workers=2, queue_timeout_s=0.3, config={"delay": 1.5})
    assert poll(lambda: len(pool.pids()) == 2 and all(s.cold_start_ms for s in pool.stats()), 10.0)
    with ThreadPoolExecutor(2) as ex:
        holders = [ex.submit(pool.call, CallRequest(prompt=str(n))) for n in range(2)]
        assert poll(lambda: not getattr(pool, "_idle"), 2.0)
        began = time.monotonic()
        refused = pool.call(CallRequest(prompt="late"))
        waited = time.monotonic() - began
        assert all(h.result(10).error is None for h in holders)
    assert refused.error is not None and refused.error.type == "PoolBusy"
    assert refused.error.message == "pool busy: no worker free within 0.3s (2 workers, all busy)"
    assert 0.25 <= waited < 1.2


def test_overflow_queues_and_every_call_completes_on_the_two_workers(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py", workers=2, config={"delay": 0.2})
    with ThreadPoolExecutor(6) as ex:
        outcomes = list(ex.map(lambda n: pool.call(CallRequest(prompt=f"job {n}")), range(6)))
    answers = [_ok(o) for o in outcomes]
    assert [a["output"] for a in answers] == [f"answer to job {n}" for n in range(6)]
    assert len({a["pid"] for a in answers}) == 2
    assert sum(s.calls for s in pool.stats()) == 6


def test_a_worker_killed_while_idle_is_replaced_before_the_call(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py")
    first = _ok(pool.call(CallRequest(prompt="one")))["pid"]
    os.kill(first, signal.SIGKILL)
    assert poll(lambda: gone(first), 2.0)
    second = pool.call(CallRequest(prompt="two"))
    assert _ok(second)["pid"] != first
    stats = pool.stats()[0]
    assert stats.restart_reasons == ("died while idle: signal SIGKILL",) and stats.restarts == 1


def test_a_frozen_idle_worker_fails_its_ping_and_is_replaced(make_pool: MakePool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "PING_TIMEOUT_S", 0.3)
    pool = make_pool("correlated.py", ping_idle_s=0.0)
    first = _ok(pool.call(CallRequest(prompt="one")))["pid"]
    os.kill(first, signal.SIGSTOP)
    second = pool.call(CallRequest(prompt="two"))
    assert _ok(second)["pid"] != first
    assert pool.stats()[0].restart_reasons == ("no answer to a liveness ping",)
    assert poll(lambda: gone(first), 2.0)


def test_recycled_after_max_calls_between_calls(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py", max_calls=2)
    pids = [_ok(pool.call(CallRequest(prompt=str(n))))["pid"] for n in range(3)]
    assert pids[0] == pids[1] != pids[2]
    assert poll(lambda: gone(pids[0]), 2.0)
    assert pool.stats()[0].restart_reasons == ("recycled: max_calls 2",)


def test_recycled_when_its_memory_passes_max_rss(make_pool: MakePool) -> None:
    pool = make_pool("allocator.py", max_rss_bytes=80 << 20, config={"mb": 30})
    answers = [_ok(pool.call(CallRequest(prompt=str(n)))) for n in range(4)]
    pids = [a["pid"] for a in answers]
    assert len(set(pids)) == 2, pids
    stats = pool.stats()[0]
    assert stats.restarts == 1 and stats.restart_reasons[0].startswith("recycled: rss ")
    assert stats.peak_rss_bytes is not None and stats.peak_rss_bytes > 80 << 20


def test_a_provider_dying_at_every_start_is_given_up_after_max_restarts(make_pool: MakePool) -> None:
    began = time.monotonic()
    pool = make_pool("dies_at_import.py", max_restarts=3)
    outcome = pool.call(CallRequest(prompt="x"))
    assert time.monotonic() - began < 10
    assert outcome.error is not None and outcome.error.type == "ImportError"
    assert "exited with code 3 before it was ready" in outcome.error.message
    assert outcome.error.message.endswith("gave up after 4 failed starts in a row (max_restarts 3)")
    assert pool.stats()[0].restarts == 3
    assert pool.call(CallRequest(prompt="y")).error == outcome.error  # at once, no more restarts


def test_ephemeral_mode_uses_a_fresh_process_per_call(make_pool: MakePool) -> None:
    pool = make_pool("import_300ms.py", mode="ephemeral")
    answers = [_ok(pool.call(CallRequest(prompt=str(n)))) for n in range(3)]
    assert [a["calls"] for a in answers] == [1, 1, 1]
    assert len({a["pid"] for a in answers}) == 3
    assert all(gone(a["pid"]) for a in answers) and pool.pids() == []
    stats = pool.stats()[0]
    assert stats.calls == 3 and stats.cold_start_ms is not None and stats.cold_start_ms >= 300


def test_sigkill_under_load_costs_the_call_in_flight_and_the_worker_is_replaced(make_pool: MakePool) -> None:
    pool = make_pool("correlated.py", workers=4, config={"delay": 0.02})
    results: list[CallOutcome] = []
    lock = threading.Lock()
    stop = threading.Event()

    def caller() -> None:
        while not stop.is_set():
            outcome = pool.call(CallRequest(prompt="p"))
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        assert poll(lambda: len(results) >= 40, 10.0)
        victim = pool.pids()[0]
        os.kill(victim, signal.SIGKILL)
        count = len(results)
        assert poll(lambda: len(results) >= count + 100, 10.0)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    errors = [o.error for o in results if o.error is not None]
    rate = 1 - len(errors) / len(results)
    assert [e.type for e in errors] == ["WorkerCrashed"], errors
    assert f"worker pid {victim} was killed by signal SIGKILL" in errors[0].message
    assert 0.95 <= rate < 1
    reasons = [r for s in pool.stats() for r in s.restart_reasons]
    assert reasons == ["crashed: signal SIGKILL"]
    assert len(pool.pids()) == 4 and victim not in pool.pids()
