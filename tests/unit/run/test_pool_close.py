"""The engine closes its providers' pools at once: each close waits for its workers' graceful
exit, and a plan with a dozen providers used to wait for them one after another."""
from __future__ import annotations

import threading
from dataclasses import replace

from orchestrator.plan.step_args import CallArgs
from orchestrator.result.model import Status
from orchestrator.run.engine import Engine, Listener, RunOptions

from .fakes import FakePool, call, case, echo, plan


class MeetingPool(FakePool):
    """close() returns only once every pool of the run is closing at the same time."""

    def __init__(self, meeting: threading.Barrier) -> None:
        super().__init__(echo)
        self.meeting = meeting

    def close(self) -> None:
        self.meeting.wait()  # BrokenBarrierError after its timeout if the pools close one by one
        super().close()


def test_every_pool_of_the_run_closes_at_the_same_time() -> None:
    meeting = threading.Barrier(3, timeout=10)
    base = plan(case("C", call("hi")))
    echo_spec = base.providers["echo"]
    providers = {name: replace(echo_spec, id=name) for name in ("a", "b", "c")}
    steps = tuple(replace(call("hi"), args=CallArgs(provider=name, prompt="hi")) for name in providers)
    pools = {name: MeetingPool(meeting) for name in providers}
    run = Engine([replace(base, providers=providers, cases=(case("C", *steps),))], RunOptions(), Listener(),
                 pool_factory=lambda config: pools[config.provider_id]).run()
    assert run.cases[0].status is Status.PASSED
    assert all(pool.closed and len(pool.calls) == 1 for pool in pools.values())
    assert not meeting.broken


def test_a_pool_that_fails_to_close_still_lets_the_others_close_and_is_raised() -> None:
    class Failing(FakePool):
        def close(self) -> None:
            raise RuntimeError("cannot close")

    first, failing, last = FakePool(echo), Failing(echo), FakePool(echo)
    engine = Engine([plan(case("C", call("hi")))], RunOptions(), Listener(),
                    pools={0: {"a": first, "b": failing, "c": last}})
    try:
        engine.close()
    except RuntimeError as exc:
        assert str(exc) == "cannot close"
    else:
        raise AssertionError("the failure to close was swallowed")
    assert first.closed and last.closed
