from __future__ import annotations

import threading
from dataclasses import replace

from orchestrator.result.model import CaseResult, Status
from orchestrator.run.engine import Engine, Listener, RunOptions

from .fakes import FakePool, a, call, case, echo, factory, plan


class Collect(Listener):
    def __init__(self) -> None:
        self.finished: list[CaseResult] = []

    def case_finished(self, result: CaseResult) -> None:
        self.finished.append(result)


def run(*cases, jobs: int = 1, **plan_extra):
    pool = FakePool(echo)
    listener = Collect()
    engine = Engine([plan(*cases, **plan_extra)], RunOptions(jobs=jobs), listener, pool_factory=factory(pool))
    return engine.run(), listener, pool


def test_statuses_and_messages_say_what_a_user_needs() -> None:
    result, _, pool = run(
        case("OK", call("hi", a("contains", "hi"))),
        case("FAIL", call("hi", a("contains", "bye"))),
        case("ERR", call("raise")),
        case("EXPECTED-ERR", call("raise", a("error", "ValueError"))),
        case("SKIP", call("hi"), skip="not today"),
    )
    by_id = {c.id: c for c in result.cases}
    assert by_id["OK"].status is Status.PASSED and by_id["OK"].message == ""
    assert by_id["FAIL"].status is Status.FAILED
    assert by_id["FAIL"].message == "step 1 (call echo): contains on output: 'bye' not found"
    assert by_id["ERR"].status is Status.ERROR
    assert by_id["ERR"].message == "step 1 (call echo): ValueError: asked to raise"
    assert by_id["EXPECTED-ERR"].status is Status.PASSED
    assert by_id["SKIP"].status is Status.SKIPPED and by_id["SKIP"].message == "not today"
    assert len(pool.calls) == 4 and pool.closed
    assert not result.gate.passed


def test_steps_after_a_failure_are_not_run_except_always_steps() -> None:
    result, _, pool = run(case("C", call("one", a("equals", "nope")), call("two"),
                               call("cleanup", always=True)))
    steps = result.cases[0].steps
    assert [s.status for s in steps] == [Status.FAILED, Status.SKIPPED, Status.PASSED]
    assert steps[1].fields["reason"] == "not run: step 1 failed"
    assert [r.prompt for r in pool.calls] == ["one", "cleanup"]


def test_output_printed_by_providers_is_kept_in_the_case_log() -> None:
    result, _, _ = run(case("C", call("one"), call("raise", a("error", True))))
    attempt = result.cases[0].final
    assert attempt is not None
    assert attempt.stdout == "[echo] printed 1\n"
    assert attempt.stderr == "[echo] boom\n"


def test_a_calls_vars_fill_its_prompt_and_reach_the_provider_as_in_promptfoo() -> None:
    step = call("{{ who }}!")
    step = replace(step, args=replace(step.args, vars={"who": "{{ greeting }} world"}))
    result, _, pool = run(case("C", step, vars={"greeting": "hi"}))
    assert result.cases[0].status is Status.PASSED, result.cases[0].message
    assert pool.calls[0].prompt == "hi world!"
    assert pool.calls[0].context["vars"] == {"greeting": "hi", "who": "hi world"}


def test_as_results_and_vars_reach_later_templates_and_the_provider() -> None:
    result, _, pool = run(case("C", call("{{ greeting }}", as_name="first"),
                               call("{{ first.output }}!", a("equals", "Echo: Echo: hi!")),
                               vars={"greeting": "hi"}))
    assert result.cases[0].status is Status.PASSED
    assert pool.calls[0].context["vars"] == {"greeting": "hi"}


def test_undefined_template_variable_is_a_step_error() -> None:
    result, _, _ = run(case("C", call("{{ greting }}"), vars={"greeting": "hi"}))
    assert result.cases[0].status is Status.ERROR
    assert result.cases[0].message == ("step 1 (call echo): TemplateError: undefined variable 'greting' "
                                       "(did you mean 'greeting'?)")


def test_if_false_skips_the_step() -> None:
    result, _, pool = run(case("C", call("a", condition="flag"), call("b"), vars={"flag": False}))
    assert result.cases[0].status is Status.PASSED
    assert [r.prompt for r in pool.calls] == ["b"]


def test_xfail_and_xpass() -> None:
    result, _, _ = run(case("XF", call("hi", a("equals", "no")), xfail="known bug"),
                       case("XP", call("hi"), xfail="known bug"))
    xf, xp = result.cases
    assert xf.status is Status.XFAILED and xf.message.startswith("xfail: known bug")
    assert xp.status is Status.XPASSED
    assert result.gate.passed


def test_case_timeout_caps_the_call_timeout() -> None:
    result, _, pool = run(case("C", call("hi"), timeout_s=2.5))
    assert pool.calls[0].timeout_s is not None and pool.calls[0].timeout_s <= 2.5
    assert result.cases[0].status is Status.PASSED


def test_parallel_jobs_keep_plan_order_in_results() -> None:
    cases = [case(f"C{i}", call(f"sleep {i}")) for i in range(6)]
    result, listener, _ = run(*cases, jobs=3)
    assert [c.id for c in result.cases] == [f"C{i}" for i in range(6)]
    assert {c.final.job for c in result.cases if c.final} == {0, 1, 2}
    assert len(listener.finished) == 6


def test_stop_marks_unfinished_cases_interrupted() -> None:
    stop = threading.Event()
    pool = FakePool(lambda request: (stop.set(), {"output": "x"})[1])
    engine = Engine([plan(case("A", call("x")), case("B", call("y")))], RunOptions(), Collect(),
                    stop=stop, pool_factory=factory(pool))
    result = engine.run()
    assert [c.status for c in result.cases] == [Status.PASSED, Status.INTERRUPTED]
    assert result.interrupted and not result.gate.passed


def test_templated_timeouts_are_rendered_at_run_time() -> None:
    result, _, pool = run(case("C", call("hi", timeout_s="{{ t }}"), vars={"t": "2s"}))
    assert result.cases[0].status is Status.PASSED
    assert pool.calls[0].timeout_s == 2.0
    bad, _, _ = run(case("D", call("hi", timeout_s="{{ t }}"), vars={"t": "soon"}))
    assert bad.cases[0].status is Status.ERROR and "rendered to 'soon'" in bad.cases[0].message


def _alternating() -> FakePool:
    state = {"n": 0}

    def behaviour(request):
        state["n"] += 1
        return {"output": "ok" if state["n"] % 2 == 0 else "bad"}
    return FakePool(behaviour)


def _run_with(pool: FakePool, *cases):
    return Engine([plan(*cases)], RunOptions(), Collect(), pool_factory=factory(pool)).run()


def test_repeat_keeps_every_attempt_and_mixed_results_are_flaky() -> None:
    result = _run_with(_alternating(), case("R", call("x", a("equals", "ok")), repeat=4))
    (only,) = result.cases
    assert only.status is Status.FLAKY
    assert [at.status for at in only.attempts] == [Status.FAILED, Status.PASSED] * 2
    assert only.message.startswith("flaky: 2 of 4 attempts did not pass; attempt 1: ")


def test_repeat_all_passing_is_passed_and_concurrency_runs_them_at_once() -> None:
    pool = FakePool(echo)
    result = _run_with(pool, case("R", call("sleep"), repeat=6, concurrency=3))
    assert result.cases[0].status is Status.PASSED and len(result.cases[0].attempts) == 6
    assert result.cases[0].duration_s >= 0  # summed over attempts
    assert len(pool.calls) == 6


def test_retries_stop_at_the_first_pass_and_make_the_case_flaky() -> None:
    result = _run_with(_alternating(), case("T", call("x", a("equals", "ok")), retries=3))
    assert result.cases[0].status is Status.FLAKY and len(result.cases[0].attempts) == 2


def test_all_attempts_failing_is_failed() -> None:
    result = _run_with(FakePool(echo), case("F", call("x", a("equals", "never")), repeat=3))
    assert result.cases[0].status is Status.FAILED
    assert result.cases[0].message.startswith("all 3 attempts did not pass; last: step 1")


def test_the_attempt_folder_tmp_is_made_only_for_a_case_that_names_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import tempfile

    made: list[str] = []
    real = tempfile.mkdtemp

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", counting)
    result, _, pool = run(case("PLAIN", call("hi", a("contains", "hi"))),
                          case("TMP", call("{{ tmp }}", a("contains", "orchestrator-"))))
    assert [c.status for c in result.cases] == [Status.PASSED, Status.PASSED]
    assert len(made) == 1 and pool.calls[1].prompt == made[0]  # a mkdir + rmdir per trivial case cost ~0.35 ms
    assert not os.path.exists(made[0])  # removed when the attempt ended


def test_with_one_job_cases_run_in_the_scheduling_thread_and_an_interrupt_still_closes_the_pools() -> None:
    from orchestrator.procs.api import CallError
    from .fakes import plan as make_plan

    threads: list[str] = []
    stop = threading.Event()
    pool: FakePool

    def behaviour(request):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        if request.prompt == "interrupted":  # as Ctrl+C: stop set, this call's worker gone
            stop.set()
            for _ in range(200):  # a call waiting for a worker ends when the pool closes
                if pool.closed:
                    return CallError("WorkerDied", "killed by the interrupt", "")
                time.sleep(0.01)
            return {"output": "the pools were never closed"}
        return {"output": "ok"}

    import time

    pool = FakePool(behaviour)
    engine = Engine([make_plan(case("A", call("a")), case("B", call("interrupted")), case("C", call("c")))],
                    RunOptions(jobs=1), Collect(), stop, pool_factory=factory(pool))
    result = engine.run()
    assert threads == [threading.current_thread().name] * 2  # no hand-off to a job thread; C never started
    assert [c.status.value for c in result.cases] == ["passed", "interrupted", "interrupted"]
    assert "never closed" not in str(result.cases[1].final)


def test_a_plan_env_naming_tmp_still_gets_the_attempt_folder(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from orchestrator.run import case as case_module

    made: list[str] = []
    monkeypatch.setattr(case_module.tempfile, "mkdtemp", lambda *a, **k: made.append("x") or "/nonexistent-tmp")
    run(case("PLAIN", call("hi", a("contains", "hi"))), env={"WORK": "{{ tmp }}/work"})
    assert made == ["x"]  # the plan's env is rendered with the case's variables (exec steps)


def test_a_report_handed_to_a_call_that_never_reached_a_worker_goes_out_after_that_step() -> None:
    listener = Collect()
    seen_at_second_call: list[list[str]] = []

    class NeverDrains(FakePool):  # as a pool whose worker died before the request went out
        runs_handed_over_work = True

    def behaviour(request):  # type: ignore[no-untyped-def]
        if request.prompt == "second":
            seen_at_second_call.append([r.id for r in listener.finished])
        return echo(request)

    pool = NeverDrains(behaviour)
    plan_ = plan(case("A", call("first")), case("B", call("first"), call("second")))
    Engine([plan_], RunOptions(jobs=1), listener, pool_factory=factory(pool)).run()
    assert seen_at_second_call == [["A"]]  # A was reported once B's first step had ended
    assert [r.id for r in listener.finished] == ["A", "B"]
