"""Live progress on the terminal: one line per finished case, then the summary and the gate.

On a TTY a progress bar (done/total, passed, failed, running, ETA) stays below the case lines;
elsewhere (CI logs, pipes) each case is one plain line. `NO_COLOR` is honoured (by rich).
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO, Union

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

from orchestrator.report.console_tests import failing_test_lines, tests_total_line
from orchestrator.report.sanitize import first_line
from orchestrator.result.flake import flake_line
from orchestrator.result.usage import usage_lines
from orchestrator.result.model import CaseResult, RunResult, Status
from orchestrator.wording import plural

STYLES: dict[Status, str] = {
    Status.PASSED: "green",
    Status.FAILED: "bold red",
    Status.ERROR: "bold red",
    Status.SKIPPED: "yellow",
    Status.XFAILED: "yellow",
    Status.XPASSED: "yellow",
    Status.FLAKY: "magenta",
    Status.INTERRUPTED: "bold red",
}
WIDTH = max(len(s.value) for s in Status)
_REASONED = (Status.FAILED, Status.ERROR, Status.INTERRUPTED)
_SUMMARISED = (Status.FAILED, Status.ERROR)
STDERR_LINES = 20
TRACEBACK_LINES = 8  # -v: the end of a provider's traceback, where the raise is


def case_line(case: CaseResult) -> tuple[str, str]:
    """The plain text of a case's line(s): (status word padded, rest); rest may hold a 2nd line."""
    rest = f" {_safe(case.id)}  {_safe(case.name)}  {case.duration_s:.2f}s"
    if (case.status in _REASONED or case.status is Status.SKIPPED) and case.message:
        rest += "\n    " + first_line(case.message, 300)
    return case.status.value.upper().ljust(WIDTH), rest


def _safe(text: str) -> str:
    # A case name or message could carry terminal escapes (\x1b[2J); show them, never obey them.
    return first_line(text, 200) if text else ""


Part = Union[str, tuple[str, str]]  # text, or (text, rich style)


class _PlainConsole:
    """What the reporter needs of rich's Console when the output is not a terminal: a file to
    write plain lines to. rich (~40 ms of imports) is loaded only where colour or a live bar can
    show, as rich itself decides (a TTY, or FORCE_COLOR / TTY_COMPATIBLE set)."""

    is_terminal = False
    no_color = True
    color_system = None

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self.encoding = (getattr(file, "encoding", "utf-8") or "utf-8").lower()


def _wants_rich(file: TextIO) -> bool:
    if any(os.environ.get(name) for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")):
        return True
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _console(file: TextIO | None) -> Any:
    target = file if file is not None else sys.stdout
    if not _wants_rich(target):
        return _PlainConsole(target)
    from rich.console import Console

    return Console(file=file, highlight=False, soft_wrap=True)


def _text(parts: tuple[Part, ...]) -> Any:
    from rich.text import Text

    return Text.assemble(*parts)


def _indented(line: str) -> str:
    """One line of captured output, its indentation kept, escape sequences shown as text."""
    shown = first_line(line, 300)
    return " " * min(len(line) - len(line.lstrip(" ")), 40) + shown if shown else ""


class ConsoleReporter:
    """Prints progress; cheap per case, and plain text (no escape codes) when not on a TTY."""

    def __init__(self, console: Console | None = None, *, file: TextIO | None = None,
                 verbose: bool = False) -> None:
        self.console: Any = console or _console(file)
        self.verbose = verbose
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._tally = {"passed": 0, "failed": 0, "running": 0}
        # rich's render pipeline costs ~50 µs a line; without colour a plain write is identical.
        self._plain = self.console.no_color or self.console.color_system is None
        encoding = (self.console.encoding or "").lower().replace("-", "")
        self._ok, self._ko = ("✔", "✘") if encoding.startswith("utf") else ("+", "x")

    def start(self, total: int) -> None:
        """A live progress bar, only on a terminal; plain lines are all a log needs."""
        if not self.console.is_terminal or total == 0:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"), TimeRemainingColumn(),
            console=self.console, transient=True, refresh_per_second=8)
        self._task = self._progress.add_task("cases", total=total, tally=self._tally_text())
        self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def case_started(self, case_id: str) -> None:
        self._tally["running"] += 1
        self._advance(0)

    def case_finished(self, case: CaseResult) -> None:
        if case.attempts:
            self._tally["running"] = max(0, self._tally["running"] - 1)
        if case.status is Status.PASSED:
            self._tally["passed"] += 1
        elif case.status in (Status.FAILED, Status.ERROR, Status.INTERRUPTED):
            self._tally["failed"] += 1
        word, rest = case_line(case)
        if self._plain and self._progress is None:
            self.console.file.write(word + rest + "\n")
            for line in self._details(case):
                self.console.file.write(line + "\n")
            self.console.file.flush()
        else:
            self.console.print(_text(((word, STYLES[case.status]), rest)), soft_wrap=True)
            for line in self._details(case):
                self.console.print(_text((line,)), soft_wrap=True)
        self._advance(1)

    def _tally_text(self) -> str:
        t = self._tally
        return f"{t['passed']} passed, {t['failed']} failed, {t['running']} running"

    def _advance(self, done: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=done, tally=self._tally_text())

    def _details(self, case: CaseResult) -> list[str]:
        """`-v`: every attempt of a repeated case, each step, and every failed assertion."""
        if not self.verbose and case.status not in _REASONED and len(case.attempts) <= 1:
            return []  # most cases: a passed one, without -v, has nothing more to say
        lines: list[str] = []
        if len(case.attempts) > 1 and (self.verbose or case.status is not Status.PASSED):
            for number, attempt in enumerate(case.attempts, 1):
                why = f": {first_line(attempt.message, 200)}" if attempt.message else ""
                lines.append(f"    attempt {number}: {attempt.status.value} {attempt.duration_s:.2f}s{why}")
        if case.status in _REASONED:
            lines.extend(failing_test_lines(case, self._ko))
        lines.extend(self._stderr_tail(case))
        if not self.verbose:
            return lines
        for step in case.steps:
            reason = step.fields.reason if step.status is Status.SKIPPED else None
            lines.append(f"    step {step.index + 1} {_safe(step.title)}: {step.status.value} {step.duration_s:.2f}s"
                         + (f" ({first_line(str(reason).removeprefix('skipped: '), 200)})" if reason else ""))
            if step.error is not None:
                lines.append(f"      {step.error.type}: {first_line(step.error.message, 300)}")
                trace = [line for line in step.error.traceback.splitlines() if line.strip()][-TRACEBACK_LINES:]
                lines.extend(f"        {_indented(line)}" for line in trace)
            for check in step.assertions:
                if not check.passed:
                    lines.append(f"      {self._ko} {check.label}: expected {first_line(repr(check.expected), 120)}, "
                                 f"got {first_line(repr(check.actual), 120)}"
                                 + (f" — {first_line(check.message, 200)}" if check.message else ""))
        return lines

    def _stderr_tail(self, case: CaseResult) -> list[str]:
        """What a failed case's providers and processes last wrote to stderr, as pytest shows
        captured output of a failure: the last line, or the last STDERR_LINES with -v."""
        final = case.final
        if case.status not in _REASONED or final is None:
            return []
        failed = case.failed_step
        own = failed.fields.stderr if failed is not None else None  # an exec's own stderr
        text = own if isinstance(own, str) and own.strip() else final.stderr
        stdout = failed.fields.stdout if failed is not None else None
        if not text.strip() and isinstance(stdout, str) and stdout.strip():
            return self._tail("stdout", stdout)  # test runners (pytest) print their failures on stdout
        return self._tail("stderr", text)

    def _tail(self, stream: str, text: str) -> list[str]:
        tail = [line for line in text.splitlines() if line.strip()][-(STDERR_LINES if self.verbose else 1):]
        if not tail:
            return []
        if not self.verbose:
            return [f"    {stream}: {first_line(tail[0], 300)}"]
        return [f"    {stream} (last lines):", *(f"      {_indented(line)}" for line in tail)]

    def jobs_chosen(self, jobs: int, why: str) -> None:
        self._print(f"-j auto: {plural(jobs, 'case')} at once ({why})")

    def summary(self, run: RunResult, outputs: list[str]) -> None:
        """What `run`, `report` and `merge` all end with: the failed cases (as pytest's short test
        summary), the counts, the gate rule by rule, and the reports written."""
        self._print("")
        for case in run.cases:
            if case.status in _SUMMARISED:
                why = f" - {first_line(case.message, 300)}" if case.message else ""
                self._print((case.status.value.upper(), STYLES[case.status]), f" {_safe(case.id)}{why}")
        self._print(*_counts(run))
        inner = tests_total_line(run)
        for line in ([inner] if inner else []) + usage_lines(run):
            self._print(line)
        flakes = flake_line(run)
        if flakes:
            self._print((flakes, "magenta"))
        verdict = ("Gate PASSED", "bold green") if run.gate.passed else ("Gate FAILED", "bold red")
        self._print(verdict, f" ({run.gate.scope})" if run.gate.scope else "")
        for rule in run.gate.rules:
            mark = ((self._ok, "green") if rule.judged else ("-", "yellow")) if rule.passed else (self._ko, "red")
            detail = f" — {_safe(rule.detail)}" if rule.detail else ""
            self._print("  ", mark, f" {_safe(rule.rule)}{detail}")
        for path in outputs:
            self._print(f"Report written: {path}")

    def _print(self, *parts: Part) -> None:
        if self._plain:
            self.console.file.write("".join(p if isinstance(p, str) else p[0] for p in parts) + "\n")
            self.console.file.flush()
        else:
            self.console.print(_text(parts), soft_wrap=True)


def _counts(run: RunResult) -> list[str | tuple[str, str]]:
    counts = run.counts()
    parts: list[str | tuple[str, str]] = []
    for status in Status:
        n = counts.get(status.value, 0)
        if n:
            if parts:
                parts.append(", ")
            parts.append((plural(n, "error") if status is Status.ERROR else f"{n} {status.value}", STYLES[status]))
    if not parts:
        parts.append("no cases")
    parts.append(f" in {run.duration_s:.2f}s")
    if run.interrupted:
        parts.append(("  (interrupted)", "bold red"))
    return parts
