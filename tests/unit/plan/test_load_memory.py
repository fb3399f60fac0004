"""A loaded plan keeps nothing of the files it was read from (issue 13, peak memory): their
values and YAML nodes go as soon as the plan is built, by reference counting alone. The loaded
plan is frozen out of the collector's sight (records.long_lived): anything a reference cycle
still held then would stay for the whole run."""
from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any, Iterator

import pytest

from orchestrator.plan import expand, load
from orchestrator.plan import yaml_load

PLAN = """\
version: 1
name: kept-small
include: [shared.yaml]
cases:
  - id: A
    name: a
    steps:
      - parallel:
          - call: echo
            prompt: hi
            expect: [{contains: hi}]
          - sleep: 0
  - id: B
    name: b
    matrix: {n: [1, 2]}
    steps: &steps
      - call: echo
        prompt: "{{ n }}"
        expect: [{equals: "{{ n }}"}]
  - id: C
    name: c
    vars: {n: 3}
    steps: *steps
"""


@pytest.fixture
def loaded_sources(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[weakref.ref[Any]]]:
    refs: list[weakref.ref[Any]] = []

    def spy(shown: str, path: Path | None = None, text: str | None = None) -> tuple[yaml_load.Source, list[Any]]:
        source, problems = yaml_load.load_yaml(shown, path, text)
        refs.append(weakref.ref(source))
        return source, problems

    monkeypatch.setattr(load, "load_yaml", spy)
    monkeypatch.setattr(expand, "load_yaml", spy)
    monkeypatch.setattr(load, "long_lived", lambda: None)  # no collection: reference counting alone
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield refs
    finally:
        if was_enabled:
            gc.enable()


def test_nothing_of_the_plan_files_outlives_the_load(tmp_path: Path, loaded_sources: list[weakref.ref[Any]]) -> None:
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    (tmp_path / "shared.yaml").write_text("providers:\n  echo: {python: echo.py}\n")
    (tmp_path / "plan.yaml").write_text(PLAN)
    plan = load.load_plan(str(tmp_path / "plan.yaml"))
    assert [c.id for c in plan.cases] == ["A", "B[n=1]", "B[n=2]", "C"]
    assert len(loaded_sources) == 2  # the plan and its include
    assert [ref() for ref in loaded_sources] == [None, None]
