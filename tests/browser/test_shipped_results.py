"""Results of real runs: they validate against the published schema, and re-rendering them with
`orchestrator report` gives the very same JUnit, HTML and JSON. No browser needed here."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

from orchestrator.report.json_report import results_schema
from orchestrator.report.json_report import write_results
from orchestrator.result.store import read_json

from .conftest import REPO


def test_shipped_plan_results_validate_against_the_schema(shipped_reports: dict[str, Path]) -> None:
    for name, folder in shipped_reports.items():
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        assert data["cases"], name
        jsonschema.Draft202012Validator(results_schema()).validate(data)


def test_report_rerenders_the_same_junit_html_and_json(shipped_reports: dict[str, Path], tmp_path: Path) -> None:
    for name, folder in shipped_reports.items():
        again = tmp_path / name
        proc = subprocess.run([sys.executable, "-m", "orchestrator", "report", str(folder / "results.json"),
                               "--junit", str(again / "junit.xml"), "--html", str(again / "report.html")],
                              cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert proc.returncode in (0, 1), proc.stderr
        assert (again / "junit.xml").read_bytes() == (folder / "junit.xml").read_bytes(), name
        assert (again / "report.html").read_bytes() == (folder / "report.html").read_bytes(), name
        write_results(read_json(folder / "results.json"), again / "results.json")
        assert (again / "results.json").read_bytes() == (folder / "results.json").read_bytes(), name


def test_shipped_junit_passes_the_validator_and_flaky_cases_show_their_attempts(
        shipped_reports: dict[str, Path]) -> None:
    from junitparser import xunit2

    validator = REPO.parent / "shared" / "junit" / "validate_junit.py"
    for name, folder in shipped_reports.items():
        if validator.is_file():
            proc = subprocess.run([sys.executable, str(validator), str(folder / "junit.xml")],
                                  capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"{name}:\n{proc.stdout}{proc.stderr}"
        elif os.environ.get("CI"):
            raise AssertionError(f"{validator} missing; CI must validate the JUnit report")
        flaky = {c["id"] for c in json.loads((folder / "results.json").read_text(encoding="utf-8"))["cases"]
                 if c["status"] == "flaky"}
        xml = xunit2.JUnitXml.fromfile(str(folder / "junit.xml"))
        shown = {case.name.split(": ")[0] for suite in xml for case in suite if case.is_flaky}
        assert shown == flaky, name
