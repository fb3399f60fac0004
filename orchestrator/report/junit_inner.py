"""The inner tests of a case in JUnit: one `testcase` per test its `exec` steps' `junit:` files
reported, named `CASE-ID::test`, so that CI lists test functions, not just test files.

The case keeps a testcase of its own only for what no inner test explains: a timeout, a crash,
a leak, another failed step or assertion, an exit code with every inner test passing — and for
statuses the inner tests cannot carry (skipped, xfailed, interrupted, retries).
"""
from __future__ import annotations

from orchestrator.report.junit_cases import Outcome, Spec
from orchestrator.report.junit_details import seconds
from orchestrator.report.sanitize import clean, first_line, xml_safe
from orchestrator.result.model import CaseResult, InnerTest, Status, StepResult

# A failed assertion of these kinds on a step with inner tests is what the inner failures explain.
_EXPLAINED_KINDS = ("exit_code", "junit")
SHOWN = (Status.PASSED, Status.FAILED, Status.ERROR, Status.FLAKY, Status.XPASSED)
_BAD = (Status.FAILED, Status.ERROR)


def inner_testcases(case: CaseResult, classname: str, limit: int) -> list[tuple[Spec, InnerTest]]:
    if case.status not in SHOWN:
        return []
    return [(_testcase(case, test, classname, limit), test) for test in case.inner_tests]


def keeps_own_testcase(case: CaseResult) -> bool:
    """False when the case passed, or failed only because some of its inner tests did."""
    if case.status is Status.PASSED:
        return False
    if case.status is not Status.FAILED or len(case.attempts) != 1:
        return True
    bad = [s for s in case.steps if s.status in _BAD]
    return not bad or not all(_explained(step) for step in bad)


def _explained(step: StepResult) -> bool:
    return (step.error is None and any(t.status in _BAD for t in step.tests)
            and all(a.passed or a.kind in _EXPLAINED_KINDS for a in step.assertions))


def _testcase(case: CaseResult, test: InnerTest, classname: str, limit: int) -> Spec:
    message = first_line(test.message) or test.status.value
    outcome = None
    if test.status is Status.FAILED:
        outcome = Outcome("failure", message, clean(test.details or test.message, limit), "AssertionError")
    elif test.status is Status.ERROR:
        outcome = Outcome("error", message, clean(test.details or test.message, limit), "Error")
    elif test.status is Status.SKIPPED:
        outcome = Outcome("skipped", message)
    return Spec(xml_safe(f"{case.id}::{test.name}"), classname, seconds(test.duration_s),
                xml_safe(test.file) or None, str(test.line) if test.line else None, outcome)
