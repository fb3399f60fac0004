from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.report import writers
from orchestrator.result.store import read_json

from .factory import run_result


def test_writes_every_requested_report(tmp_path: Path) -> None:
    run = run_result(hostile=True)
    problems = writers.write_reports(run, tmp_path / "j.xml", tmp_path / "r.html", tmp_path / "r.json")
    assert problems == []
    assert read_json(tmp_path / "r.json") == run
    assert (tmp_path / "j.xml").stat().st_size and (tmp_path / "r.html").stat().st_size


def test_one_failing_writer_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(run: object, path: Path, **_: object) -> None:
        raise RuntimeError("template exploded\nTraceback (most recent call last): ...")

    monkeypatch.setattr(writers, "write_junit", broken)
    (tmp_path / "r.html").mkdir()  # the HTML path is a directory: that writer fails too
    problems = writers.write_reports(run_result(), tmp_path / "j.xml", tmp_path / "r.html", tmp_path / "r.json")
    assert len(problems) == 2
    assert problems[0].startswith("cannot write JUnit report") and "template exploded" in problems[0]
    assert problems[1].startswith("cannot write HTML report")
    assert all("\n" not in p and "Traceback" not in p for p in problems)
    assert read_json(tmp_path / "r.json") == run_result()


def test_none_means_not_requested(tmp_path: Path) -> None:
    assert writers.write_reports(run_result(), None, None, tmp_path / "only.json") == []
    assert [p.name for p in tmp_path.iterdir()] == ["only.json"]
