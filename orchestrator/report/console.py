"""Live progress on the terminal: one line per finished case, then the summary and the gate."""
from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.text import Text

from orchestrator.report.sanitize import first_line
from orchestrator.result.model import CaseResult, RunResult, Status

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


def case_line(case: CaseResult) -> tuple[str, str]:
    """The plain text of a case's line(s): (status word padded, rest); rest may hold a 2nd line."""
    rest = f" {_safe(case.id)}  {_safe(case.name)}  {case.duration_s:.2f}s"
    if case.status in _REASONED and case.message:
        rest += "\n    " + first_line(case.message, 300)
    return case.status.value.upper().ljust(WIDTH), rest


def _safe(text: str) -> str:
    # A case name or message could carry terminal escapes (\x1b[2J); show them, never obey them.
    return first_line(text, 200) if text else ""


class ConsoleReporter:
    """Prints progress; cheap per case, and plain text (no escape codes) when not on a TTY."""

    def __init__(self, console: Console | None = None, *, file: TextIO | None = None) -> None:
        self.console = console or Console(
            file=file, highlight=False, soft_wrap=True
        )
        # rich's render pipeline costs ~50 µs a line; without colour a plain write is identical.
        self._plain = self.console.no_color or self.console.color_system is None
        encoding = (self.console.encoding or "").lower().replace("-", "")
        self._ok, self._ko = ("✔", "✘") if encoding.startswith("utf") else ("+", "x")

    def case_finished(self, case: CaseResult) -> None:
        word, rest = case_line(case)
        if self._plain:
            self.console.file.write(word + rest + "\n")
            self.console.file.flush()
        else:
            self.console.print(Text.assemble((word, STYLES[case.status]), rest), soft_wrap=True)

    def summary(self, run: RunResult, outputs: list[str]) -> None:
        self._print(Text(""))
        self._print(Text.assemble(*_counts(run)))
        verdict = ("Gate PASSED", "bold green") if run.gate.passed else ("Gate FAILED", "bold red")
        self._print(Text.assemble(verdict))
        for rule in run.gate.rules:
            mark = (self._ok, "green") if rule.passed else (self._ko, "red")
            detail = f" — {_safe(rule.detail)}" if rule.detail else ""
            self._print(Text.assemble("  ", mark, f" {_safe(rule.rule)}{detail}"))
        for path in outputs:
            self._print(Text(f"Report written: {path}"))

    def _print(self, text: Text) -> None:
        if self._plain:
            self.console.file.write(text.plain + "\n")
            self.console.file.flush()
        else:
            self.console.print(text, soft_wrap=True)


def counts_line(run: RunResult) -> str:
    return "".join(part if isinstance(part, str) else part[0] for part in _counts(run))


def _counts(run: RunResult) -> list[str | tuple[str, str]]:
    counts = run.counts()
    parts: list[str | tuple[str, str]] = []
    for status in Status:
        n = counts.get(status.value, 0)
        if n:
            if parts:
                parts.append(", ")
            parts.append((f"{n} {status.value}", STYLES[status]))
    if not parts:
        parts.append("no cases")
    parts.append(f" in {run.duration_s:.2f}s")
    if run.interrupted:
        parts.append(("  (interrupted)", "bold red"))
    return parts
