"""Plans without aliases are composed by libyaml (issue 13: ~2x faster than composing its events
in Python); everything a plan author sees must stay what the event composer gives."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from orchestrator.plan import yaml_load
from orchestrator.plan.yaml_load import load_yaml

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(p for folder in ("plans", "tests/fixtures", "scenarios") for p in (ROOT / folder).rglob("*.y*ml"))


def _loaded(path: Path) -> tuple[object, ...]:
    source, problems = load_yaml(str(path))
    paths = list(_paths(source.data, ()))
    return (source.data, {p: source.at(p) for p in paths}, {p: source.key_at(p) for p in paths},
            [str(p) for p in problems])


def _paths(value: object, path: tuple[object, ...]) -> Iterator[tuple[object, ...]]:
    """Every path into `value`, and one past each (its location is its nearest ancestor's)."""
    yield path
    yield path + ("not-there",)
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        yield path + (len(value),)
        for index, item in enumerate(value):
            yield from _paths(item, path + (index,))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_composes_what_the_event_composer_does(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _loaded(path)
    monkeypatch.setattr(yaml_load, "_compose_in_c", lambda text: (False, None))
    assert fast == _loaded(path)


def test_the_fast_path_is_taken_for_a_plain_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "version: 1\nname: p\ncases:\n  - id: A\n    steps: [{sleep: 1s}]\n"
    done, root = yaml_load._compose_in_c(text)
    assert done and root is not None
    assert yaml_load._compose_in_c(text + "x: &a 1\ny: *a\n") == (False, None)  # aliases: counted by the event path
    assert yaml_load._compose_in_c("a: 1\n---\nb: 2\n") == (False, None)  # its message says it


@pytest.mark.parametrize("text, message", [
    ("- " * 100_000 + "x\n", "nesting deeper than 100 levels"),  # libyaml's recursion would crash here
    ("a:\n" + "".join("  " * i + "- b:\n" for i in range(1, 120)), "nesting deeper than 100 levels"),
])
def test_hostile_nesting_never_reaches_libyaml_s_recursive_composer(tmp_path: Path, text: str, message: str) -> None:
    plan = tmp_path / "deep.yaml"
    plan.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "orchestrator", "validate", str(plan)], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2, done.stderr
    assert message in done.stdout + done.stderr


@pytest.mark.parametrize("depth", [98, 99, 100, 101])
def test_the_depth_limit_is_the_event_composer_s(tmp_path: Path, depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text("version: 1\nx:\n" + "".join("  " * i + "- k:\n" for i in range(depth // 2)) + "  " * (depth // 2)
                    + ("- [1]\n" if depth % 2 else "- 1\n"), encoding="utf-8")
    fast = _loaded(plan)
    monkeypatch.setattr(yaml_load, "_compose_in_c", lambda text: (False, None))
    assert fast == _loaded(plan)
