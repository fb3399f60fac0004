from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from pathlib import Path
from typing import BinaryIO

import pytest

from orchestrator.errors import UserError
from orchestrator.result.decode import run_from_json
from orchestrator.result.journal import Journal
from orchestrator.result.store import encode, read_json, run_json_chunks, write_json

from .factory import HOSTILE, run_result


def test_json_round_trips_field_for_field_with_hostile_strings(tmp_path: Path) -> None:
    run = run_result(hostile=True, big=True)
    path = tmp_path / "results.json"
    write_json(run, path)
    back = read_json(path)
    assert back == run
    assert "".join(run_json_chunks(back)) == "".join(run_json_chunks(run))
    assert back.cases[1].attempts[0].steps[1].assertions[1].actual == f"got {HOSTILE}"
    assert back.cases[0].attempts[0].stdout == run.cases[0].attempts[0].stdout  # 5 MiB, intact


def test_json_file_is_ascii_and_lone_surrogates_are_escapes(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json(run_result(hostile=True), path)
    raw = path.read_bytes()
    raw.decode("ascii")
    assert b"\\ud800" in raw


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out" / "results.json"
    write_json(run_result(), path)
    before = path.read_bytes()

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        write_json(run_result(hostile=True), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]
    assert path.stat().st_mode & 0o044  # readable by others: it is a CI artifact


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such results file"),
    ("{not json", "invalid JSON"),
    ("[1, 2]", "not an orchestrator results file"),
    ('{"cases": []}', "not an orchestrator results file"),
    ('{"format": 99, "cases": []}', "results format 99"),
    ('{"format": 1, "cases": [{"id": "x"}], "plans": [], "gate": {"passed": true}, "started_at": 0, "duration_s": 0}',
     "corrupt results file"),
    # a plan's gate that is not an object once read as "no gate": the run passed whatever its rules said
    ('{"format": 1, "cases": [], "plans": [{"name": "p", "title": "", "file": "p.yaml", "gate": "x"}], '
     '"gate": {"passed": true}, "started_at": 0, "duration_s": 0}', "corrupt results file"),
])
def test_read_json_problems_are_user_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message) as info:
        read_json(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_read_json_rejects_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UserError, match="not a results file"):
        read_json(path)


def test_journal_lines_are_on_disk_as_soon_as_appended(tmp_path: Path) -> None:
    run = run_result(hostile=True)
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.append(run.cases[0])
    # Still open, not closed: a run that dies now has still recorded the case.
    assert Journal.read(path) == [run.cases[0]]
    for case in run.cases[1:]:
        journal.append(case)
    journal.close()
    assert Journal.read(path) == list(run.cases)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(run.cases) and all(json.loads(line)["id"] for line in lines)
    with pytest.raises(ValueError):
        journal.append(run.cases[0])


def test_journal_lines_are_whole_when_the_disk_takes_them_in_pieces(tmp_path: Path) -> None:
    """Each line is one unbuffered write; a short write (a disk nearly full, a signal) is
    completed, and a write that takes nothing is the disk-full error the session reports."""
    run = run_result(hostile=True)
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, start=run)
    opened = journal._fh
    assert opened is not None
    real: BinaryIO = opened

    class Disk:
        def __init__(self, at_most: int) -> None:
            self.at_most = at_most

        def write(self, data: bytes) -> int:
            return real.write(bytes(data)[:self.at_most]) if self.at_most else 0

    journal._fh = Disk(7)  # type: ignore[assignment]
    journal.append(run.cases[1])
    assert Journal.read(path) == [run.cases[1]]
    assert Journal.read_run(path).cases[1] == run.cases[1]
    journal._fh = Disk(0)  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space left"):
        journal.append(run.cases[2])
    journal._fh = real
    journal.close()
    assert Journal.read(path) == [run.cases[1]]  # what was written stays readable


def test_journal_ignores_a_torn_last_line_but_not_a_corrupt_middle(tmp_path: Path) -> None:
    run = run_result()
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.append(run.cases[0])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"id": "C-2", "na')  # killed mid-write
    assert Journal.read(path) == [run.cases[0]]
    path.write_text('{"broken\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(UserError, match=r"journal.jsonl:1: corrupt journal line"):
        Journal.read(path)


def test_journal_read_of_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such journal"):
        Journal.read(tmp_path / "nope.jsonl")


def test_empty_run_round_trips(tmp_path: Path) -> None:
    run = run_from_json({"plans": [], "cases": [], "gate": {"passed": True}, "started_at": 1.0, "duration_s": 0.0})
    write_json(run, tmp_path / "r.json")
    assert read_json(tmp_path / "r.json") == run


def test_results_of_another_version_read_with_defaults_and_a_bad_status_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_json(run_result(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    case = data["cases"][0]
    case["added_later"] = {"x": 1}  # a newer writer's key: ignored
    del case["tags"], case["attempts"][0]["steps"][0]["tests"]  # an older writer's file: defaults
    path.write_text(json.dumps(data), encoding="utf-8")
    back = read_json(path).cases[0]
    assert back.tags == () and back.steps[0].tests == () and not hasattr(back, "added_later")
    assert back == replace(run_result().cases[0], tags=())
    assert list(json.loads(encode(back))) == [f.name for f in fields(back)]  # written back in field order
    case["attempts"][0]["steps"][0]["status"] = "bogus"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UserError, match="corrupt results file .*'bogus' is not a valid Status"):
        read_json(path)


def test_cases_encoded_a_slice_at_a_time_read_as_each_case_encoded_alone() -> None:
    """A case the strict encoder refuses (a NaN, a tuple key) costs only its slice the lenient
    path: every case's text is what `encode` makes of it alone, wherever it sits in a slice."""
    import math

    from .factory import many_cases

    run = many_cases(150)
    odd = replace(run.cases[70], duration_s=math.nan)
    step = replace(odd.attempts[0].steps[0], fields={"output": "x", "odd": {(1, 2): "tuple key"}})
    odd = replace(odd, attempts=(replace(odd.attempts[0], steps=(step,)),))
    cases = run.cases[:70] + (odd,) + run.cases[71:]
    run = replace(run, cases=cases)
    text = "".join(run_json_chunks(run))
    expected = "[" + ", ".join(encode(c) for c in cases) + "]"
    assert expected in text
    assert json.loads(text)["cases"][70]["duration_s"] == "NaN"
