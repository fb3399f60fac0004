"""The journal's start line lists the cases not yet run compactly (format 2, issue 13) and
`read_run` gives back the very run a format 1 line gives: every case, hostile text and all."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.errors import UserError
from orchestrator.result import journal_start
from orchestrator.result.journal import Journal
from orchestrator.result.model import RunResult, Status

from .factory import HOSTILE, many_cases, run_result


def _not_run(run: RunResult) -> RunResult:
    """The run as the engine starts it: every case interrupted, not run, no attempts."""
    return replace(run, cases=tuple(replace(c, status=Status.INTERRUPTED, message="not run: the run was interrupted",
                                            attempts=(), duration_s=0.0) for c in run.cases))


def _hostile_start() -> RunResult:
    run = run_result(hostile=True)
    odd = (replace(run.cases[0], id=f"id {HOSTILE}", name=HOSTILE, description=HOSTILE, tags=(HOSTILE, ""),
                   covers=(), level=None, line=0),
           replace(run.cases[1], priority="P0", level="chaos", file=f"plans/{HOSTILE}.yaml", line=2**40))
    return _not_run(replace(run, cases=odd + run.cases[2:] + many_cases(300).cases))


def _start_line(path: Path) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0])
    return parsed


def _read_back(start: RunResult, path: Path, monkeypatch: pytest.MonkeyPatch, compact: bool) -> RunResult:
    with monkeypatch.context() as m:
        if not compact:
            m.setattr(journal_start, "_rows", lambda cases: None)  # the format 1 line, as before
        with Journal(path, start=start):
            pass
    assert _start_line(path)["journal"] == (2 if compact else 1)
    return Journal.read_run(path)


def test_a_compact_start_line_reads_back_as_the_whole_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = _hostile_start()
    compact = _read_back(start, tmp_path / "two.jsonl", monkeypatch, compact=True)
    whole = _read_back(start, tmp_path / "one.jsonl", monkeypatch, compact=False)
    assert compact == whole
    assert compact.cases == start.cases and compact.plans == start.plans and compact.gate == start.gate
    assert compact.command == start.command and not compact.complete
    assert (tmp_path / "two.jsonl").stat().st_size < (tmp_path / "one.jsonl").stat().st_size / 2


def test_finished_cases_take_their_place_among_the_listed_ones(tmp_path: Path) -> None:
    done = run_result(hostile=True)
    start = _not_run(done)
    path = tmp_path / "results.journal.jsonl"
    with Journal(path, start=start) as journal:
        journal.append(done.cases[3])
        journal.append(done.cases[0])
    run = Journal.read_run(path)
    assert run.cases == (done.cases[0],) + start.cases[1:3] + (done.cases[3],) + start.cases[4:]


@pytest.mark.parametrize("why", ["message", "attempts", "nan"])
def test_cases_that_are_not_all_alike_get_a_whole_start_line(tmp_path: Path, why: str) -> None:
    start = _not_run(run_result())
    first = start.cases[0]
    changed = {"message": replace(first, message="another reason"),
               "attempts": replace(first, attempts=run_result().cases[0].attempts),
               "nan": replace(first, duration_s=math.nan)}[why]
    start = replace(start, cases=(changed,) + start.cases[1:])
    path = tmp_path / "j.jsonl"
    with Journal(path, start=start):
        pass
    assert _start_line(path)["journal"] == 1
    back = Journal.read_run(path)
    assert back.cases[1:] == start.cases[1:]
    assert back.cases[0] == changed or why == "nan" and back.cases[0].duration_s == "NaN"


def test_a_run_of_no_cases_has_a_compact_start_line(tmp_path: Path) -> None:
    start = replace(run_result(), cases=())
    with Journal(tmp_path / "j.jsonl", start=start):
        pass
    assert _start_line(tmp_path / "j.jsonl")["journal"] == 2
    assert Journal.read_run(tmp_path / "j.jsonl").cases == ()


@pytest.mark.parametrize("damage", [
    ('"rows": [[', '"rows": [["extra", '),  # a row of one value too many
    ('"fields": [', '"fields": 7, "x": ['),  # fields not a list
    ('"same": {', '"same": {"status": "bogus", "x": {'),  # a status no case has
])
def test_a_damaged_compact_start_line_is_a_corrupt_journal(tmp_path: Path, damage: tuple[str, str]) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path, start=_not_run(many_cases(3))):
        pass
    text = path.read_text(encoding="utf-8")
    assert damage[0] in text
    path.write_text(text.replace(damage[0], damage[1], 1), encoding="utf-8")
    with pytest.raises(UserError, match="corrupt journal"):
        Journal.read_run(path)


def test_fields_equal_but_written_differently_are_not_taken_as_alike(tmp_path: Path) -> None:
    """0.0 and -0.0, 1 and True are equal, and written differently: each case keeps its own."""
    cases = _not_run(many_cases(4)).cases
    cases = (replace(cases[0], line=1, duration_s=0.0, tags=("a",)), replace(cases[1], line=True, duration_s=-0.0,
                                                                              tags=("a",)),
             replace(cases[2], line=1, duration_s=0.0, tags=("a",)), replace(cases[3], line=1, duration_s=0.0,
                                                                              tags=("a",)))
    start = replace(_not_run(many_cases(1)), cases=cases)
    path = tmp_path / "j.jsonl"
    with Journal(path, start=start):
        pass
    line = _start_line(path)
    assert line["journal"] == 2
    back = Journal.read_run(path).cases
    assert back == cases
    assert math.copysign(1.0, back[1].duration_s) == -1.0 and back[1].line is True
    assert [type(c.line) for c in back] == [int, bool, int, int]
