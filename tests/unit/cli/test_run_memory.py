"""`orchestrator run` writes its reports without holding the plans (issue 13, peak memory): the
reports read only the results, and 10,000 cases' specs would otherwise stay beside what the
writers build."""
from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import run as cli_run
from orchestrator.cli import session
from orchestrator.cli.entry import main

PLAN = """\
version: 1
name: released
providers:
  echo: {python: echo.py}
cases:
  - id: A
    name: a
    steps:
      - call: echo
        prompt: hi
        expect: [{contains: hi}]
  - id: B
    name: b
    steps:
      - call: echo
        prompt: "{{ tmp }}"
        expect: [{contains: tmp}]
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_plans_are_gone_when_the_reports_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         jobs: str) -> None:
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    (tmp_path / "plan.yaml").write_text(PLAN)
    plans: list[weakref.ref[Any]] = []
    alive_at_write: list[bool] = []
    load_stage, write_all = cli_run.load_stage, session.write_all

    def loading(request: Any) -> Any:
        loaded = load_stage(request)
        plans.extend(weakref.ref(p) for p in loaded)
        return loaded

    def writing(run: Any, *args: Any, **kwargs: Any) -> Any:
        if run.complete:  # the final write, not a live rewrite during the run
            alive_at_write.extend(ref() is not None for ref in plans)
        return write_all(run, *args, **kwargs)

    monkeypatch.setattr(cli_run, "load_stage", loading)
    monkeypatch.setattr(session, "write_all", writing)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "plan.yaml", "-q", "-j", jobs, "--out", str(tmp_path / "out")]) == 0
    assert plans and alive_at_write == [False] * len(plans)
    assert (tmp_path / "out" / "report.html").is_file()
