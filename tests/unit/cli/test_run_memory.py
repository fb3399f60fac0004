"""`orchestrator run` writes its reports without holding the plans (issue 13, peak memory): the
reports read only the results, and 10,000 cases' specs would otherwise stay beside what the
writers build."""
from __future__ import annotations

import weakref
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import run as cli_run
from orchestrator.cli import session
from orchestrator.cli.entry import main
from orchestrator.plan.model import CaseSpec
from tests.support import poll

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
    load_stage, write_final = cli_run.load_stage, session.write_final

    def loading(request: Any) -> Any:
        loaded = load_stage(request)
        plans.extend(weakref.ref(p) for p in loaded)
        return loaded

    def writing(run: Any, *args: Any, **kwargs: Any) -> Any:
        assert run.complete  # the final write, not a live rewrite during the run
        alive_at_write.extend(ref() is not None for ref in plans)
        return write_final(run, *args, **kwargs)

    monkeypatch.setattr(cli_run, "load_stage", loading)
    monkeypatch.setattr(session, "write_final", writing)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "plan.yaml", "-q", "-j", jobs, "--out", str(tmp_path / "out")]) == 0
    assert plans and alive_at_write == [False] * len(plans)
    assert (tmp_path / "out" / "report.html").is_file()


class _Tracked(CaseSpec):
    """A case spec a weak reference can follow (the model's specs have `__slots__`)."""

    __slots__ = ("__weakref__",)


@pytest.mark.parametrize("options", [["-j", "1"], ["-j", "2"], ["-k", "C", "--order", "priority"],
                                     ["-j", "2", "--shard", "2/3"]])
def test_a_case_spec_is_gone_once_its_case_is_journaled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        options: list[str]) -> None:
    """At 10,000 cases the finished cases' specs would otherwise stay beside their results until the run ends."""
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    (tmp_path / "plan.yaml").write_text(PLAN + "".join(
        f"  - id: C{n}\n    name: c{n}\n    steps: [{{call: echo, prompt: hi, expect: [{{contains: hi}}]}}]\n"
        for n in range(6)))
    specs: dict[str, weakref.ref[Any]] = {}
    alive_when_journaled: dict[str, list[str]] = {}
    load_stage, case_finished = cli_run.load_stage, session.RunSession.case_finished

    def loading(request: Any) -> Any:
        plans = []
        for plan in load_stage(request):
            cases = tuple(_Tracked(**{f.name: getattr(c, f.name) for f in fields(c)}) for c in plan.cases)
            specs.update((c.id, weakref.ref(c)) for c in cases)
            plans.append(replace(plan, cases=cases))
        return plans

    def finished(self: Any, case: Any) -> None:
        case_finished(self, case)
        # At -j 2 the job thread that ran the case lets go of its arguments just after it
        # handed over the result: a moment later, not at the end of the run.
        poll(lambda: specs[case.id]() is None, within=2)
        alive_when_journaled[case.id] = [i for i, ref in specs.items() if ref() is not None]

    monkeypatch.setattr(cli_run, "load_stage", loading)
    monkeypatch.setattr(session.RunSession, "case_finished", finished)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "plan.yaml", "-q", *options, "--out", str(tmp_path / "out")]) == 0
    assert len(specs) == 8 and len(alive_when_journaled) >= 2
    for case_id, alive in alive_when_journaled.items():
        assert case_id not in alive
    assert list(alive_when_journaled.values())[-1] == []  # the last case journaled: no spec left
