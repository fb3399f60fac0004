"""`report` prints what `run` prints at its end: failed cases, counts, the gate block, `Report written:`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.result.store import write_json
from tests.unit.report.factory import run_result


def test_report_prints_the_gate_verdict_and_the_same_words_as_run(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results.json"
    write_json(run_result(), results)
    assert main(["report", str(results)]) == 1
    out = capsys.readouterr().out
    assert "FAILED C-2 - assertion failed" in out
    assert "Gate FAILED" in out
    assert re.search(r"^  [✘x] no failures — 3 case\(s\) failed or errored: C-2, C-3, C-9$", out, re.M)
    assert f"Report written: {tmp_path / 'junit.xml'}" in out and f"Report written: {tmp_path / 'report.html'}" in out
    assert "wrote " not in out
