"""Work handed over to a thread's next wait: order, failures kept for the engine, delays counted."""
from __future__ import annotations

import threading

import pytest

from orchestrator.procs import while_waiting


@pytest.fixture(autouse=True)
def _clean() -> None:
    while_waiting.flush()


def test_handed_over_work_runs_in_order_at_the_next_wait() -> None:
    done: list[int] = []
    while_waiting.hand_over(lambda: done.append(1))
    while_waiting.hand_over(lambda: done.append(2))
    assert done == [] and while_waiting.pending()
    assert while_waiting.run_pending() >= 0.0
    assert done == [1, 2] and not while_waiting.pending()
    assert while_waiting.run_pending() == 0.0  # nothing left: the wait costs nothing


def test_a_failure_is_raised_by_flush_not_by_the_wait_it_ran_in() -> None:
    done: list[str] = []

    def broken() -> None:
        raise OSError("journal: no space left on device")

    while_waiting.hand_over(lambda: done.append("before"))
    while_waiting.hand_over(broken)
    while_waiting.hand_over(lambda: done.append("after"))
    while_waiting.run_pending()  # as a worker call would: it must not see the error
    assert done == ["before"]
    with pytest.raises(OSError, match="no space left"):
        while_waiting.flush()
    assert not while_waiting.pending()
    while_waiting.flush()  # raised once


def test_each_thread_has_its_own_hand_over() -> None:
    done: list[str] = []
    while_waiting.hand_over(lambda: done.append("main"))
    other = threading.Thread(target=while_waiting.run_pending)
    other.start()
    other.join()
    assert done == []  # a job thread's wait does not run the scheduling thread's reports
    while_waiting.flush()
    assert done == ["main"]


def test_the_own_clock_leaves_out_what_handed_over_work_delayed() -> None:
    began_own, began = while_waiting.own_clock(), while_waiting.delayed_s()
    while_waiting.delayed(0.25)
    while_waiting.delayed(-1.0)  # ignored
    assert while_waiting.delayed_s() - began == pytest.approx(0.25)
    assert while_waiting.own_clock() - began_own < 0.25
