"""results.json takes its cases' texts from the journal (issue 13): the very bytes `write_json`
writes by encoding every case again, whatever became of the journal file meanwhile."""
from __future__ import annotations

import math
import os
import random
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import pytest

from orchestrator.result.journal import Journal
from orchestrator.result.model import CaseResult, RunResult
from orchestrator.result.store import write_json

from .factory import many_cases, run_result


def _both(run: RunResult, journal: Journal, tmp_path: Path) -> tuple[bytes, bytes, int]:
    """results.json encoded as ever, results.json from the journal's texts, and how many texts it took."""
    reused = 0

    def texts(cases: Sequence[CaseResult], at: int) -> bytes | list[bytes | None]:
        nonlocal reused
        found = journal.texts_of(cases, at)
        reused += len(cases) if isinstance(found, bytes) else sum(t is not None for t in found)
        return found

    write_json(run, tmp_path / "encoded.json")
    write_json(run, tmp_path / "reused.json", texts=texts)
    return (tmp_path / "encoded.json").read_bytes(), (tmp_path / "reused.json").read_bytes(), reused


def _hostile_run() -> RunResult:
    """Every status, hostile text (NUL, escapes, lone surrogates, emoji, U+2028), 5 MiB of output,
    a NaN and a key json refuses (the lenient encoder's), and 150 ordinary cases: several slices."""
    hostile, many = run_result(hostile=True, big=True), many_cases(150)
    odd = replace(many.cases[70], duration_s=math.nan)
    step = replace(odd.attempts[0].steps[0], fields={"output": "x", "odd": {(1, 2): "tuple key"}})
    odd = replace(odd, attempts=(replace(odd.attempts[0], steps=(step,)),))
    return replace(hostile, cases=hostile.cases + many.cases[:70] + (odd,) + many.cases[71:])


def test_the_journal_texts_make_the_same_bytes_in_any_order_of_completion(tmp_path: Path) -> None:
    run = _hostile_run()
    journal = Journal(tmp_path / "j.jsonl", start=run)
    finished = list(run.cases)
    random.Random(13).shuffle(finished)  # -j N: completion order is not plan order
    unfinished = {finished.pop().id for _ in range(7)}  # interrupted: never journaled
    for case in finished:
        journal.append(case)
    encoded, reused, count = _both(run, journal, tmp_path)
    journal.close()
    assert reused == encoded
    assert count == len(run.cases) - len(unfinished)


def test_a_case_that_is_not_the_journaled_object_is_encoded(tmp_path: Path) -> None:
    run = _hostile_run()
    journal = Journal(tmp_path / "j.jsonl")
    for case in run.cases:
        journal.append(case)
    changed = replace(run.cases[3], message="changed after it was journaled")
    twin = replace(run.cases[4])  # equal, but not the object journaled
    run = replace(run, cases=run.cases[:3] + (changed, twin) + run.cases[5:])
    encoded, reused, count = _both(run, journal, tmp_path)
    journal.close()
    assert reused == encoded and b"changed after it was journaled" in reused
    assert count == len(run.cases) - 2


def _journaled(tmp_path: Path) -> tuple[RunResult, Journal, Path]:
    run = many_cases(200)
    path = tmp_path / "j.jsonl"
    journal = Journal(path, start=run)
    for case in run.cases:
        journal.append(case)
    return run, journal, path


def test_a_journal_truncated_under_the_run_costs_only_an_encoding(tmp_path: Path) -> None:
    run, journal, path = _journaled(tmp_path)
    os.truncate(path, path.stat().st_size * 3 // 4)  # into the finished cases
    encoded, reused, count = _both(run, journal, tmp_path)
    assert reused == encoded
    assert 0 < count < len(run.cases)  # the lines before the cut still are what was written
    journal.close()


def test_a_journal_rewritten_in_place_is_not_believed(tmp_path: Path) -> None:
    """Same length, same framing, one letter changed: only the checksum tells, and it does."""
    run, journal, path = _journaled(tmp_path)
    data = path.read_bytes()
    at = data.rindex(b'"case number 150"')  # its line, not the start line's
    path.write_bytes(data[:at] + b'"case number 951"' + data[at + 17:])  # the same inode, rewritten
    encoded, reused, count = _both(run, journal, tmp_path)
    journal.close()
    assert reused == encoded and b'"case number 951"' not in reused
    assert count == len(run.cases) - 1


def test_lines_appended_by_someone_else_are_not_taken_for_the_run_own(tmp_path: Path) -> None:
    """The journal counts where its lines go (no tell() a line): someone else's lines throw the
    count off, and the texts after them fail the check: encoded, the same bytes."""
    run = many_cases(100)
    path = tmp_path / "j.jsonl"
    journal = Journal(path, start=run)
    for n, case in enumerate(run.cases):
        journal.append(case)
        if n == 60:
            with open(path, "ab") as other:
                other.write(b'{"id": "intruder"}\n')
    encoded, reused, count = _both(run, journal, tmp_path)
    journal.close()
    assert reused == encoded and count == 61


def test_a_deleted_or_replaced_journal_path_still_reads_the_run_own_lines(tmp_path: Path) -> None:
    run, journal, path = _journaled(tmp_path)
    path.unlink()
    path.write_bytes(b"not the journal\n" * 1000)  # someone else's file by that name
    encoded, reused, count = _both(run, journal, tmp_path)
    journal.close()
    assert reused == encoded and count == len(run.cases)


def test_a_closed_journal_lends_nothing(tmp_path: Path) -> None:
    run, journal, _ = _journaled(tmp_path)
    journal.close()
    assert journal.texts_of(run.cases) == [None] * len(run.cases)
    encoded, reused, count = _both(run, journal, tmp_path)
    assert reused == encoded and count == 0


def test_a_line_the_disk_refused_is_not_lent(tmp_path: Path) -> None:
    run, journal, _ = _journaled(tmp_path)
    extra = replace(run.cases[0], id="EXTRA")
    real = journal._fh
    journal._fh = _Refusing()  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space left"):
        journal.append(extra)
    journal._fh = real
    alone = journal.texts_of([run.cases[1]])
    assert isinstance(alone, bytes) and alone.startswith(b'{"id": "M-1"')
    assert journal.texts_of([extra, run.cases[1]]) == [None, alone]
    journal.close()


class _Refusing:
    """A file that takes nothing: a full disk."""

    def write(self, data: bytes) -> int:
        return 0


def test_in_plan_order_no_map_of_the_cases_is_made(tmp_path: Path) -> None:
    """At -j 1 the cases are asked for in the order they were appended, live rewrite after live
    rewrite, the unfinished ones last: found where the last one ended, without ~100 bytes a
    case of a map by id (peak memory at 10,000 cases)."""
    run = many_cases(300)
    journal = Journal(tmp_path / "j.jsonl", start=run)
    appended = 0
    for done in (100, 130, 300):  # two live rewrites (the rest not run yet), then the final write
        for case in run.cases[appended:done]:
            journal.append(case)
        appended = done
        encoded, reused, count = _both(run, journal, tmp_path)
        assert reused == encoded and count == done
    assert journal._lines._by_id == {}
    shuffled = list(run.cases)
    random.Random(7).shuffle(shuffled)
    encoded, reused, count = _both(replace(run, cases=tuple(shuffled)), journal, tmp_path)  # --order priority
    assert reused == encoded and count == len(run.cases)
    journal.close()


def test_a_journal_that_may_be_written_but_not_read_lends_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.result import journal as journal_module

    def write_only(path: Path, mode: str, buffering: int) -> object:
        if "+" in mode:
            raise PermissionError(13, "Permission denied")
        return open(path, mode, buffering=buffering)

    monkeypatch.setattr(journal_module, "open", write_only, raising=False)
    run = many_cases(10)
    journal = Journal(tmp_path / "j.jsonl", start=run)
    for case in run.cases:
        journal.append(case)
    encoded, reused, count = _both(run, journal, tmp_path)
    journal.close()
    assert reused == encoded and count == 0
    assert Journal.read(tmp_path / "j.jsonl") == list(run.cases)
