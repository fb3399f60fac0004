"""Console lines for the tests inside cases (an exec's `junit:` file): the failing ones under
their case, and one total line in the summary, as pytest prints its short test summary."""
from __future__ import annotations

from orchestrator.report.sanitize import first_line
from orchestrator.result.model import CaseResult, RunResult, Status

SHOWN_FAILURES = 10  # per case; the rest are counted


def failing_test_lines(case: CaseResult, mark: str) -> list[str]:
    bad = [t for t in case.inner_tests if t.status in (Status.FAILED, Status.ERROR)]
    lines = []
    for test in bad[:SHOWN_FAILURES]:
        where = f" ({test.file}:{test.line})" if test.file and test.line else ""
        why = f": {first_line(test.message, 200)}" if test.message else ""
        lines.append(f"    {mark} {first_line(test.name, 200)}{where} {test.status.value}{why}")
    if len(bad) > SHOWN_FAILURES:
        lines.append(f"    … and {len(bad) - SHOWN_FAILURES} more failing tests")
    return lines


def tests_total_line(run: RunResult) -> str:
    """'Tests in JUnit files: 40 passed, 2 failed, 1 skipped (3 cases)', or "" without any."""
    counts: dict[str, int] = {}
    cases = 0
    for case in run.cases:
        tests = case.inner_tests
        cases += bool(tests)
        for test in tests:
            counts[test.status.value] = counts.get(test.status.value, 0) + 1
    if not cases:
        return ""
    order = [s.value for s in (Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED)]
    parts = ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s))
    return f"Tests in JUnit files: {parts or 'none'} ({cases} case{'s' if cases != 1 else ''})"
