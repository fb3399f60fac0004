"""Verdicts a release gate can trust: skipped is not passed, strict xfail, retries inside repeat."""
from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.plan.load import load_plan
from orchestrator.plan.model import GateSpec
from orchestrator.result.model import Status
from orchestrator.run.engine import Engine, Listener, RunOptions

from .fakes import FakePool, a, call, case, echo, factory, plan


def run(*cases, pool: FakePool | None = None, repeat: int | None = None, **plan_extra):  # type: ignore[no-untyped-def]
    pool = pool or FakePool(echo)
    return Engine([plan(*cases, **plan_extra)], RunOptions(repeat=repeat), Listener(), pool_factory=factory(pool)).run()


def test_a_case_whose_steps_were_all_skipped_by_if_is_skipped_not_passed() -> None:
    result = run(case("C", call("a", condition="flag"), call("b", condition="flag"), vars={"flag": False},
                      priority="P0"), gate=GateSpec(pass_rate={"P0": 1.0}))
    (only,) = result.cases
    assert only.status is Status.SKIPPED
    assert only.message == "no step ran (all skipped by if:); step 1: if 'flag' was false"
    assert [s.status for s in only.steps] == [Status.SKIPPED, Status.SKIPPED]
    assert not result.gate.passed  # the P0 rule: nothing ran
    assert result.gate.rules[0].detail == "nothing ran: none of 1 P0 case(s) ran (1 skipped)"


def test_a_skipped_case_does_not_count_toward_the_pass_rate() -> None:
    skipped = case("S", call("a", condition="flag"), vars={"flag": False}, priority="P1")
    failing = case("F", call("a", a("equals", "no")), priority="P1")
    result = run(skipped, failing, *[case(f"OK{i}", call("x"), priority="P1") for i in range(3)],
                 gate=GateSpec(pass_rate={"P1": 0.8}))
    assert result.cases[0].status is Status.SKIPPED
    assert result.gate.rules[0].detail == "3/4 passed (75%)"  # was 4/5 = 80 %: the skipped case counted
    assert not result.gate.passed


def test_a_cleanup_step_alone_does_not_make_a_case_pass() -> None:
    result = run(case("C", call("a", condition="false"), call("cleanup", always=True)))
    assert result.cases[0].status is Status.SKIPPED
    # one step that ran is enough for a verdict
    ran = run(case("C", call("a", condition="false"), call("b")))
    assert ran.cases[0].status is Status.PASSED and ran.cases[0].steps[0].status is Status.SKIPPED


def test_a_parallel_step_whose_steps_were_all_skipped_is_skipped() -> None:
    from orchestrator.plan.model import ParallelArgs, StepSpec
    from .fakes import AT

    parallel = StepSpec(action="parallel", args=ParallelArgs((call("a", condition="false"),)), location=AT)
    result = run(case("C", parallel))
    assert result.cases[0].steps[0].status is Status.SKIPPED
    assert result.cases[0].status is Status.SKIPPED


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {}\n", encoding="utf-8")
    (tmp_path / "plan.yaml").write_text("version: 1\nname: p\nproviders:\n  echo: {python: echo.py}\n"
                                        + textwrap.dedent(text), encoding="utf-8")
    return load_plan(str(tmp_path / "plan.yaml"))


@pytest.mark.parametrize("text, strict", [
    ("cases:\n- {id: C, name: c, xfail: {reason: known bug, strict: true}, steps: [{call: echo}]}\n", True),
    ("cases:\n- {id: C, name: c, xfail: known bug, xfail_strict: true, steps: [{call: echo}]}\n", True),
    ("defaults: {xfail_strict: true}\ncases:\n- {id: C, name: c, xfail: known bug, steps: [{call: echo}]}\n", True),
    ("defaults: {xfail_strict: true}\n"
     "cases:\n- {id: C, name: c, xfail: {reason: known bug, strict: false}, steps: [{call: echo}]}\n", False),
    ("cases:\n- {id: C, name: c, xfail: known bug, steps: [{call: echo}]}\n", False),
])
def test_strict_xfail_makes_an_xpass_a_failure(tmp_path: Path, text: str, strict: bool) -> None:
    loaded = load(tmp_path, text)
    assert loaded.cases[0].xfail == "known bug" and loaded.cases[0].xfail_strict is strict
    passing = replace(loaded.cases[0], steps=(call("hi"),))
    failing = replace(loaded.cases[0], id="XF", steps=(call("hi", a("equals", "no")),))
    result = run(passing, failing)
    xp, xf = result.cases
    if strict:
        assert xp.status is Status.FAILED
        assert xp.message == "XPASS(strict): expected to fail (known bug) but passed"
        assert not result.gate.passed
    else:
        assert xp.status is Status.XPASSED and result.gate.passed
    assert xf.status is Status.XFAILED


def test_a_plain_xpass_is_reported_and_does_not_fail_the_gate() -> None:
    result = run(case("XP", call("hi"), xfail="known bug", priority="P0"), gate=GateSpec(max_flaky=0))
    assert result.cases[0].status is Status.XPASSED and result.gate.passed


def _alternating() -> FakePool:
    state = {"n": 0}

    def behaviour(request):  # type: ignore[no-untyped-def]
        state["n"] += 1
        return {"output": "ok" if state["n"] % 2 == 0 else "bad"}
    return FakePool(behaviour)


@pytest.mark.parametrize("repeat_from", ["case", "--repeat"])
def test_each_repetition_may_retry_and_disagreeing_attempts_are_flaky(repeat_from: str) -> None:
    """`retries:` was silently ignored when `repeat:` or `--repeat` was also given."""
    spec = case("R", call("x", a("equals", "ok")), retries=2)
    pool = _alternating()  # fails, passes, fails, passes ...
    if repeat_from == "case":
        result = run(replace(spec, repeat=3), pool=pool)
    else:
        result = run(spec, pool=pool, repeat=3)
    (only,) = result.cases
    assert [at.status for at in only.attempts] == [Status.FAILED, Status.PASSED] * 3
    assert only.status is Status.FLAKY
    assert len(pool.calls) == 6


def test_retries_inside_repeat_stop_at_the_limit_and_all_failing_is_failed() -> None:
    result = run(case("R", call("x", a("equals", "never")), retries=1, repeat=2))
    (only,) = result.cases
    assert [at.status for at in only.attempts] == [Status.FAILED] * 4
    assert only.status is Status.FAILED


def test_stop_on_failure_still_retries_the_failing_repetition_then_stops() -> None:
    result = run(case("R", call("x", a("equals", "ok")), retries=1, repeat=5, stop_on_failure=True),
                 pool=_alternating())
    assert [at.status for at in result.cases[0].attempts] == [Status.FAILED, Status.PASSED]
    assert result.cases[0].status is Status.FLAKY
