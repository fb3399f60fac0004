"""GitHub Actions niceties: `::error` annotations for failed cases and a step summary.

Only active with `GITHUB_ACTIONS=true`. Annotations go to stdout (the runner parses them from
there); the markdown summary is appended to the file named by `$GITHUB_STEP_SUMMARY`.
Escaping follows the runner's workflow-command rules: in the message `%`, CR and LF become
`%25`, `%0D`, `%0A`; in properties (file, title) `:` and `,` are escaped as well.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, TextIO

from orchestrator.report.junit_inner import keeps_own_testcase
from orchestrator.report.sanitize import first_line, xml_safe
from orchestrator.result.model import CaseResult, RunResult, Status
from orchestrator.result.usage import usage_lines

ANNOTATED = (Status.FAILED, Status.ERROR, Status.INTERRUPTED, Status.XPASSED)
MAX_ANNOTATIONS = 50  # the UI shows ten per step; more only floods the log
MAX_SUMMARY_ROWS = 100
MESSAGE_LIMIT = 4000


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(case: CaseResult, plan_file: str | None = None) -> str:
    """`::error file=…,line=…,title=…::message` for one case that did not pass."""
    title = f"{case.id}: {case.name} [{case.status.value}]"
    # A discovered case points at its own file, where the plan's step lines mean nothing.
    line = case.line if plan_file is not None and case.file != plan_file else _failure_line(case)
    return _error(case.file, line, title, case.message or case.status.value)


def inner_annotations(case: CaseResult) -> list[str]:
    """One annotation per failing test of the case's `junit:` files, at the test's own file and line."""
    return [_error(t.file, t.line, f"{case.id}::{t.name} [{t.status.value}]",
                   "\n".join(filter(None, (t.message, t.details))) or t.status.value)
            for t in case.inner_tests if t.status in (Status.FAILED, Status.ERROR)]


def _error(file: str, line: int | None, title: str, text: str) -> str:
    props = [f"file={escape_property(file)}"] if file else []
    if file and line:
        props.append(f"line={line}")
    props.append(f"title={escape_property(xml_safe(title))}")
    return f"::error {','.join(props)}::{escape_data(xml_safe(text)[:MESSAGE_LIMIT])}"


def _failure_line(case: CaseResult) -> int:
    """Where the annotation points: the failed assertion, else the failed step, else the case."""
    step = case.failed_step
    if step is None:
        return case.line
    failed = next((a for a in step.assertions if not a.passed and a.line), None)
    return (failed.line if failed is not None else None) or step.line or case.line


def annotation_lines(run: RunResult) -> list[str]:
    plan_files = {p.name: p.file for p in run.plans}
    bad = [c for c in run.cases if c.status in ANNOTATED]
    lines: list[str] = []
    for case in bad:
        lines.extend(inner_annotations(case))
        if keeps_own_testcase(case) or not case.inner_tests:  # not already explained by its tests
            lines.append(annotation(case, plan_files.get(case.plan)))
    if len(lines) > MAX_ANNOTATIONS:
        more = len(lines) - MAX_ANNOTATIONS
        lines = lines[:MAX_ANNOTATIONS]
        lines.append(f"::warning title=orchestrator::{more} more failures; see the job summary and the reports")
    return lines


def _md(text: str) -> str:
    """Text safe inside a markdown table cell (the summary renders HTML too)."""
    text = first_line(text, 300)
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'")):
        text = text.replace(raw, safe)
    return text


def summary(run: RunResult) -> str:
    """The run as markdown: counts, the gate rule by rule, then every case that did not pass."""
    verdict = "✅ passed" if run.gate.passed else "❌ failed"
    titles = ", ".join(_md(p.title or p.name) for p in run.plans) or "Test run"
    out = [f"## {titles}: gate {verdict}", ""]
    if run.gate.scope:
        out += [f"**{_md(run.gate.scope[:1].upper() + run.gate.scope[1:])}.**", ""]
    if run.interrupted:
        out += ["**The run was interrupted.**", ""]
    counts = [(s, n) for s, n in run.counts().items() if n]
    out += ["| " + " | ".join(s for s, _ in counts) + " | total |",
            "|" + "---:|" * (len(counts) + 1),
            "| " + " | ".join(str(n) for _, n in counts) + f" | {len(run.cases)} |", ""]
    if run.gate.rules:
        out += ["| Gate rule | Verdict | Detail |", "|---|---|---|"]
        marks = [("✅" if r.judged else "➖ not judged") if r.passed else "❌" for r in run.gate.rules]
        out += [f"| {_md(r.rule)} | {mark} | {_md(r.detail)} |" for r, mark in zip(run.gate.rules, marks)]
        out.append("")
    out += [f"{_md(line.strip())}  " for line in usage_lines(run)] + ([""] if usage_lines(run) else [])
    bad = [c for c in run.cases if c.status in ANNOTATED]
    if bad:
        out += [f"### {len(bad)} case{'s' if len(bad) != 1 else ''} did not pass", "",
                "| Case | Status | Where | Reason |", "|---|---|---|---|"]
        out += [f"| {_md(c.id)}: {_md(c.name)} | {c.status.value} | {_md(f'{c.file}:{c.line}')} | "
                f"{_md(c.message)} |" for c in bad[:MAX_SUMMARY_ROWS]]
        if len(bad) > MAX_SUMMARY_ROWS:
            out.append(f"\n… and {len(bad) - MAX_SUMMARY_ROWS} more (see the HTML report).")
        out.append("")
    return "\n".join(out) + "\n"


def report_to_github(run: RunResult, env: Mapping[str, str] | None = None, out: TextIO | None = None) -> str:
    """Annotate and summarise when running under GitHub Actions; return a problem line or ""."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") != "true":
        return ""
    stream = sys.stdout if out is None else out
    for line in annotation_lines(run):
        stream.write(line + "\n")
    stream.flush()
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return ""
    try:
        with Path(target).open("a", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(summary(run))
    except OSError as e:
        return f"cannot append the GitHub step summary to {target}: {e.strerror or e}"
    return ""
