"""A run's claim on its report folders, and the previous run's reports going at its start."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.errors import UserError
from orchestrator.result.outdir import LOCK_NAME, claim_folders, remove_previous_reports


def test_a_second_claim_on_a_held_folder_names_the_holder(tmp_path: Path) -> None:
    first = claim_folders([tmp_path / "out"], "orchestrator run a.yaml --out out")
    try:
        with pytest.raises(UserError) as info:
            claim_folders([tmp_path / "elsewhere", tmp_path / "out" / ".." / "out"], "orchestrator run b.yaml")
        message = str(info.value)
        assert f"pid {os.getpid()}" in message and "orchestrator run a.yaml --out out" in message
        assert "started 20" in message and str(tmp_path / "out") in message
        assert not (tmp_path / "elsewhere" / LOCK_NAME).exists()  # what it had claimed is given back
    finally:
        first.release()
    second = claim_folders([tmp_path / "out"], "orchestrator run b.yaml")  # free once released
    second.release()
    assert not (tmp_path / "out" / LOCK_NAME).exists()


def test_a_lock_file_left_by_a_dead_run_does_not_block(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text('{"pid": 999999, "command": "killed", "started": "then"}\n', encoding="utf-8")
    claim = claim_folders([tmp_path], "orchestrator run")
    assert f'"pid": {os.getpid()}' in (tmp_path / LOCK_NAME).read_text(encoding="utf-8")
    claim.release()


def test_previous_reports_and_their_temporary_files_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    for name in ("junit.xml", "report.html", "results.json", "results.journal.jsonl", ".report.html.x1.tmp",
                 "notes.txt"):
        (out / name).write_text("old", encoding="utf-8")
    elsewhere = tmp_path / "ci" / "junit.xml"
    elsewhere.parent.mkdir()
    elsewhere.write_text("old", encoding="utf-8")
    remove_previous_reports([elsewhere, out / "report.html", out / "results.json"], out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # the old junit.xml in --out went too
    assert not elsewhere.exists()
