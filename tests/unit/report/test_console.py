from __future__ import annotations

import io
import re
import time
from dataclasses import replace

import pytest
from rich.console import Console

from orchestrator.report.console import ConsoleReporter, case_line

from .factory import many_cases, run_result


def output(reporter_console: Console | None = None, *, hostile: bool = False) -> str:
    buf = io.StringIO()
    reporter = ConsoleReporter(reporter_console) if reporter_console else ConsoleReporter(file=buf)
    run = run_result(hostile=hostile)
    for case in run.cases:
        reporter.case_finished(case)
    reporter.summary(run, ["reports/junit.xml", "reports/report.html"])
    return buf.getvalue() if reporter_console is None else reporter_console.file.getvalue()  # type: ignore[attr-defined]


def test_one_line_per_case_with_reason_under_failures() -> None:
    lines = output().splitlines()
    assert lines[0] == "PASSED      C-1  passes  0.12s"
    assert lines[1] == "FAILED      C-2  fails  0.12s"
    assert lines[2] == "    assertion failed"
    assert lines[3] == "    stderr: warning on stderr"  # the last thing it wrote there, as pytest shows captured output
    assert lines[4] == "ERROR       C-3  errors  0.12s"
    assert lines[5] == "    ValueError: bad value"
    assert lines[6] == "SKIPPED     C-4  skipped  0.00s"
    progress = lines[: lines.index("")]
    words = [line.split()[0] for line in progress if not line.startswith(" ")]
    assert words == ["PASSED", "FAILED", "ERROR", "SKIPPED", "XFAILED", "XPASSED", "FLAKY", "INTERRUPTED", "FAILED"]


def test_summary_counts_gate_rules_and_outputs() -> None:
    text = output()
    assert "1 passed, 2 failed, 1 error, 1 skipped, 1 xfailed, 1 xpassed, 1 flaky, 1 interrupted in 3.21s" in text
    assert "Gate FAILED" in text
    assert re.search(r"^  [✘x] pass_rate\[P0\] >= 100% — 0/1 passed \(0%\)$", text, re.M)
    assert re.search(r"^  [✔+] max_flaky <= 1 — 1 flaky", text, re.M)
    assert "reports/junit.xml" in text and "reports/report.html" in text


def test_not_a_tty_means_no_escape_codes_even_with_hostile_names() -> None:
    text = output(hostile=True)
    assert "\x1b" not in text
    assert "\\x1b[31m" in text  # shown, not obeyed


def test_colour_on_a_terminal_and_no_colour_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = output(Console(file=io.StringIO(), force_terminal=True, color_system="standard", highlight=False))
    assert "\x1b[" in coloured and "FAILED" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    plain = output(Console(file=io.StringIO(), force_terminal=True, color_system="standard", highlight=False))
    assert "\x1b" not in plain


def test_markup_in_names_is_not_interpreted() -> None:
    run = run_result()
    case = replace(run.cases[1], name="[bold]x[/bold] [red]")
    buf = io.StringIO()
    ConsoleReporter(Console(file=buf, force_terminal=True, color_system="standard")).case_finished(case)
    assert "[bold]x[/bold] [red]" in buf.getvalue()
    assert case_line(case)[1].startswith(" C-2  [bold]x[/bold] [red]")


def test_thousand_cases_are_cheap_when_not_a_tty() -> None:
    run = many_cases(1000)
    reporter = ConsoleReporter(file=io.StringIO())
    start = time.perf_counter()
    for case in run.cases:
        reporter.case_finished(case)
    assert time.perf_counter() - start < 0.1


def test_a_failed_exec_shows_its_own_stderr_tail_and_all_of_it_with_verbose() -> None:
    from orchestrator.result.model import Attempt, AssertionResult, CaseResult, Status, StepResult

    check = AssertionResult("exit_code", False, 0, 4, "exit_code", "exit code was 4")
    step = StepResult(0, "exec", "exec", Status.FAILED, 0.1, (check,),
                      fields={"stderr": "".join(f"line {n}\n" for n in range(30)) + "Traceback: boom\n\x1b[2J\n"})
    case = CaseResult("X-1", "crash", "p", "p.yaml", 3, Status.FAILED, "step 1 (exec): exit_code: exit code was 4", 0.1,
                      (Attempt(Status.FAILED, 0.1, steps=(step,), stderr="[provider] unrelated\n"),))
    assert check.label == "exit_code"
    buf = io.StringIO()
    ConsoleReporter(file=buf).case_finished(case)
    assert buf.getvalue().splitlines()[2] == "    stderr: \\x1b[2J"  # shown, never obeyed
    buf = io.StringIO()
    ConsoleReporter(file=buf, verbose=True).case_finished(case)
    lines = buf.getvalue().splitlines()
    start = lines.index("    stderr (last lines):")
    assert lines[start + 1:start + 21] == [f"      line {n}" for n in range(12, 30)] + ["      Traceback: boom", "      \\x1b[2J"]


def test_verbose_shows_the_end_of_a_provider_traceback_with_its_indentation() -> None:
    from orchestrator.result.model import Attempt, CaseResult, ErrorInfo, Status, StepResult

    trace = 'Traceback (most recent call last):\n  File "p.py", line 2, in call_api\n    return {}[x]\nKeyError: \'x\'\n'
    step = StepResult(0, "call p", "call", Status.ERROR, 0.1, error=ErrorInfo("KeyError", "'x'", trace))
    case = CaseResult("E-1", "raises", "p", "p.yaml", 3, Status.ERROR, "step 1 (call p): KeyError: 'x'", 0.1,
                      (Attempt(Status.ERROR, 0.1, steps=(step,)),))
    buf = io.StringIO()
    ConsoleReporter(file=buf, verbose=True).case_finished(case)
    assert buf.getvalue().splitlines()[3:8] == [
        "      KeyError: 'x'", "        Traceback (most recent call last):", '          File "p.py", line 2, in call_api',
        "            return {}[x]", "        KeyError: 'x'"]


def test_summary_lists_each_failed_or_errored_case_as_pytest_short_summary_does() -> None:
    buf = io.StringIO()
    ConsoleReporter(file=buf).summary(run_result(), ["reports/junit.xml"])  # -q: no case lines before it
    lines = buf.getvalue().splitlines()
    assert lines[:4] == ["", "FAILED C-2 - assertion failed", "ERROR C-3 - ValueError: bad value",
                         "FAILED C-9 - 2 of 3 repeats failed"]
    assert lines[4].startswith("1 passed, 2 failed, 1 error, ")
    assert lines[-1] == "Report written: reports/junit.xml"


def test_counts_are_pluralised_like_pytest() -> None:
    run = run_result()
    errors = tuple(replace(c, status=c.status.ERROR, id=f"E-{i}") for i, c in enumerate(run.cases[:2]))
    buf = io.StringIO()
    ConsoleReporter(file=buf).summary(replace(run, cases=errors), [])
    assert "\n2 errors in 3.21s\n" in buf.getvalue()


def test_auto_jobs_says_how_many_and_why() -> None:
    from orchestrator.procs.memory import explain_auto_jobs

    buf = io.StringIO()
    jobs, why = explain_auto_jobs(2**30, cores=4, available=3 * 2**30 + 5)
    ConsoleReporter(file=buf).jobs_chosen(jobs, why)
    assert buf.getvalue() == ("-j auto: 3 cases at once (the smaller of 4 cores and 3 = 3.0 GiB free memory / "
                              "1.0 GiB a case)\n")
    assert explain_auto_jobs(2**31, cores=1, available=2**30, measured=False) == (
        1, "the smaller of 1 core and 0 = 1.0 GiB free memory / 2.0 GiB a case, assumed until a case is measured; "
           "never fewer than 1")
