"""A clean run (workers that exit when asked, nothing left behind) reads the process table from
/proc and never imports psutil (~10-13 ms of CPU, issue 13); psutil comes in only once something
is found that must be described or killed. Writing the reports (run's, `report`'s, `merge`'s)
never imports Jinja2 (~15 ms of CPU at the end of every run): it is for plans' templates only."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_startup_imports import imported, plan

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere the table is read by psutil")

EXEC_AND_CALLS = """version: 1
name: mixed
providers:
  echo: {python: echo.py, workers: 2}
cases:
  - {id: E-1, name: exec, steps: [{exec: {code: "print(2 + 2)"}, expect: [{contains: "4"}]}]}
  - {id: E-2, name: call, steps: [{call: echo, prompt: hi, expect: [{contains: hi}]}]}
  - {id: E-3, name: another call, steps: [{call: echo, prompt: ho, expect: [{contains: ho}]}]}
"""

LEAVES_A_CHILD = """import subprocess

def call_api(prompt, options, context):
    subprocess.Popen(["sleep", "618"])  # left in the worker's tree: a provider leftover
    return {"output": prompt}
"""


def _run(tmp_path: Path, path: Path, *options: str) -> tuple[set[str], Any]:
    out = tmp_path / "out"
    found = imported(["run", str(path), "-q", "--out", str(out), *options], tmp_path)
    return found, json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_clean_run_of_calls_never_imports_psutil(tmp_path: Path, jobs: str) -> None:
    found, results = _run(tmp_path, plan(tmp_path), "-j", jobs)
    out = tmp_path / "out"
    assert [case["status"] for case in results["cases"]] == ["passed"] * 3
    assert "orchestrator.procs.worker" in found  # workers were started, and closed
    assert (out / "report.html").is_file() and "orchestrator.report.html" in found
    assert "psutil" not in found
    assert "jinja2" not in found


def test_a_clean_run_with_an_exec_step_and_two_workers_never_imports_psutil(tmp_path: Path) -> None:
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n",
                                      encoding="utf-8")
    (tmp_path / "mixed.yaml").write_text(EXEC_AND_CALLS, encoding="utf-8")
    found, results = _run(tmp_path, tmp_path / "mixed.yaml", "-j", "2")
    assert [case["status"] for case in results["cases"]] == ["passed"] * 3
    assert "orchestrator.procs.command" in found  # the exec ran, with its leak check
    assert "psutil" not in found
    assert "jinja2" not in found


def test_a_provider_leftover_brings_psutil_to_kill_and_name_it(tmp_path: Path) -> None:
    (tmp_path / "leaves.py").write_text(LEAVES_A_CHILD, encoding="utf-8")
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\nname: leaves\nproviders:\n  leaves: {python: leaves.py}\ncases:\n"
                    "  - {id: L-1, name: leaves a child, steps: [{call: leaves, prompt: hi}]}\n", encoding="utf-8")
    found, results = _run(tmp_path, path)
    assert "psutil" in found
    assert [(leak["cmdline"], leak["case"]) for leak in results["provider_leaks"]] == [("sleep 618", "L-1")]


@pytest.mark.parametrize("command", ["report", "merge"])
def test_writing_reports_from_results_never_imports_jinja2(tmp_path: Path, command: str) -> None:
    _, results = _run(tmp_path, plan(tmp_path))
    assert results["cases"]
    source, html = tmp_path / "out" / "results.json", tmp_path / "again" / "report.html"
    html.parent.mkdir()
    args = ([command, str(source), "--html", str(html)] if command == "report"
            else [command, str(source), "--json", str(tmp_path / "again" / "merged.json"), "--html", str(html)])
    found = imported(args, tmp_path)
    assert "<h1>tiny</h1>" in html.read_text(encoding="utf-8")
    assert "jinja2" not in found


def test_a_plan_with_templates_does_import_jinja2(tmp_path: Path) -> None:
    # The same probe sees Jinja2 where it is needed: the tests above can fail.
    found, results = _run(tmp_path, plan(tmp_path, step="{call: echo, prompt: '{{ 1 + 1 }}', expect: [{contains: '2'}]}"))
    assert [case["status"] for case in results["cases"]] == ["passed"] * 3
    assert "jinja2" in found
