"""A run whose end was never recorded is never taken for a complete one.

`results.json` carries a completion mark (`complete: true`) only when the run wrote it as it
ended. A file without it — a live rewrite left by a killed run, a journal, a format 1 file — is
read as interrupted, with the gate failed by a "run completed" rule: "run incomplete".
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from orchestrator.result.journal import Journal, is_journal, journal_path
from orchestrator.result.model import GateResult, GateRule, RunResult, Status
from orchestrator.result.store import PathLike, read_json

Judge = Callable[[RunResult], GateResult]  # the gate again from a run's cases (run/ owns the rules)

RULE = "run completed"


def incomplete_rule(run: RunResult, why: str) -> GateRule:
    unfinished = sum(1 for c in run.cases if c.status is Status.INTERRUPTED)
    return GateRule(RULE, False, f"run incomplete: {why}; {unfinished} case(s) did not finish")


def mark_incomplete(run: RunResult, why: str) -> RunResult:
    """`run` as an interrupted run whose gate failed, for every report written from it."""
    rules = tuple(r for r in run.gate.rules if r.rule != RULE) + (incomplete_rule(run, why),)
    return replace(run, interrupted=True, complete=False, gate=GateResult(passed=False, rules=rules))


def load_results(path: PathLike, judge: Judge) -> RunResult:
    """A results file or a journal, as `report` and `merge` must see it.

    A results file with the completion mark is the run. Without it, the run did not end: its
    journal beside it (newer than any live rewrite) is read instead when there is one, the gate
    is judged again from the cases, and the run is marked incomplete.
    """
    p = Path(path)
    if is_journal(p):
        run, why = Journal.read_run(p), "rebuilt from the journal of a run that did not end"
        if run.complete:  # the run ended; only its results file could not be written
            return replace(run, gate=judge(run))
    else:
        run, why = read_json(p), "the results file has no completion mark (the run was killed or is still running)"
        if run.complete:
            return run
        if journal_path(p).is_file():
            run, why = Journal.read_run(journal_path(p)), f"rebuilt from its journal {journal_path(p).name}"
    run = replace(run, interrupted=True, complete=False)
    return mark_incomplete(replace(run, gate=judge(run)), why)
