"""At -j 1 a finished case is reported while the next case's call runs (procs/while_waiting):
same calls in the same order for the provider, reports in order, and durations without the
reporting's time."""
from __future__ import annotations

import time
from pathlib import Path

from orchestrator.errors import Location
from orchestrator.plan.model import AssertionSpec, CaseSpec, Plan, ProviderSpec, StepSpec
from orchestrator.plan.step_args import CallArgs
from orchestrator.result.model import CaseResult, Status
from orchestrator.run.engine import Engine, Listener, RunOptions
from tests.support import poll

AT = Location("plan.yaml", 3, 5)
PROVIDER = '''
import os, pathlib
seen = []
def call_api(prompt, options, context):
    seen.append(prompt)
    pathlib.Path(os.environ["MARKS"], prompt).touch()  # this call has started (and ended)
    if prompt == "flaky" and seen.count("flaky") == 1:
        return {"output": "not yet"}
    return {"output": "calls so far: " + ",".join(seen)}
'''


def make_plan(tmp_path: Path, *cases: CaseSpec) -> Plan:
    (tmp_path / "provider.py").write_text(PROVIDER, encoding="utf-8")
    (tmp_path / "marks").mkdir()
    provider = ProviderSpec(id="p", kind="python", location=AT, cwd=tmp_path, python_file=tmp_path / "provider.py",
                            env={"MARKS": str(tmp_path / "marks")})
    return Plan(path=tmp_path / "plan.yaml", name="handover", cases=cases, providers={"p": provider})


def a_case(id: str, prompt: str, *expect: AssertionSpec, timeout_s: float | None = None,
           **extra: object) -> CaseSpec:
    step = StepSpec(action="call", args=CallArgs("p", prompt), location=AT, expect=expect, timeout_s=timeout_s)
    return CaseSpec(id=id, name=id, location=AT, steps=(step,), **extra)  # type: ignore[arg-type]


class SlowReports(Listener):
    """Reports C1 only once C2's call has run, then takes a second more (a slow live rewrite)."""

    def __init__(self, marks: Path) -> None:
        self.marks = marks
        self.events: list[str] = []
        self.next_call_ran_first: list[bool] = []

    def case_started(self, case_id: str) -> None:
        self.events.append(f"started {case_id}")

    def case_finished(self, case: CaseResult) -> None:
        self.events.append(f"finished {case.id}")
        if case.id == "C1":
            self.next_call_ran_first.append(poll(lambda: (self.marks / "two").exists(), within=10))
            time.sleep(1.0)


def test_a_case_is_reported_while_the_next_call_runs_and_no_duration_holds_the_report(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, a_case("C1", "one"), a_case("C2", "two", AssertionSpec("contains", "one,two", AT)),
                     a_case("C3", "three"))
    listener = SlowReports(tmp_path / "marks")
    run = Engine([plan], RunOptions(jobs=1), listener).run()
    assert [c.status for c in run.cases] == [Status.PASSED] * 3, [c.message for c in run.cases]
    assert listener.next_call_ran_first == [True]  # C1's report overlapped C2's call
    assert listener.events == ["started C1", "finished C1", "started C2", "finished C2", "started C3", "finished C3"]
    c2 = run.cases[1]
    call_ms = c2.steps[0].fields["duration_ms"]
    # C2's answer waited ~1 s in the pipe for C1's report: that second is not C2's
    assert call_ms < 900 and c2.duration_s < 0.9 and c2.steps[0].duration_s < 0.9, (call_ms, c2.duration_s)


def test_a_retry_still_comes_before_the_next_case_s_call(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, a_case("A", "flaky", AssertionSpec("contains", "calls so far", AT), retries=1),
                     a_case("B", "after", AssertionSpec("contains", "flaky,flaky,after", AT)))
    run = Engine([plan], RunOptions(jobs=1), Listener()).run()
    assert [c.status for c in run.cases] == [Status.FLAKY, Status.PASSED], [c.message for c in run.cases]
    assert len(run.cases[0].attempts) == 2


def test_a_failing_report_ends_the_run_as_our_error_not_as_the_next_call_s(tmp_path: Path) -> None:
    class Broken(Listener):
        def case_finished(self, case: CaseResult) -> None:
            if case.id == "C1":
                raise OSError("journal: no space left on device")

    plan = make_plan(tmp_path, a_case("C1", "one"), a_case("C2", "two"), a_case("C3", "three"))
    run = Engine([plan], RunOptions(jobs=1), Broken()).run()
    assert run.cases[0].status is Status.PASSED
    assert run.cases[1].status is Status.ERROR and "no space left on device" in run.cases[1].message
    assert run.cases[2].status is Status.ERROR and "no space left on device" in run.cases[2].message
    assert not run.gate.passed


def test_a_call_s_timeout_does_not_count_the_report_that_ran_while_it_waited(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, a_case("C1", "one"), a_case("C2", "two", timeout_s=0.5), a_case("C3", "three"))
    listener = SlowReports(tmp_path / "marks")  # C1's report takes over a second, during C2's call
    run = Engine([plan], RunOptions(jobs=1), listener).run()
    assert listener.next_call_ran_first == [True]
    assert [c.status for c in run.cases] == [Status.PASSED] * 3, [c.message for c in run.cases]


def test_a_case_s_timeout_does_not_count_the_report_that_ran_during_its_call(tmp_path: Path) -> None:
    two_calls = CaseSpec(id="C2", name="C2", location=AT, timeout_s=0.8, steps=(
        StepSpec(action="call", args=CallArgs("p", "two"), location=AT),
        StepSpec(action="call", args=CallArgs("p", "two again"), location=AT)))
    plan = make_plan(tmp_path, a_case("C1", "one"), two_calls)
    listener = SlowReports(tmp_path / "marks")  # C1's report takes over a second, during C2's first call
    run = Engine([plan], RunOptions(jobs=1), listener).run()
    assert listener.next_call_ran_first == [True]
    assert [c.status for c in run.cases] == [Status.PASSED] * 2, [c.message for c in run.cases]
