"""Hostile or broken input: one clean problem, quickly, never a traceback or a hang."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.errors import PlanErrors
from orchestrator.plan.load import load_plan


def problems_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> list[str]:
    monkeypatch.chdir(tmp_path)
    Path("plan.yaml").write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(PlanErrors) as caught:
        load_plan("plan.yaml")
    assert time.perf_counter() - started < 1.0
    return [str(p) for p in caught.value.problems]


def alias_bomb() -> bytes:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text.encode()


CASES = {
    "alias bomb": (alias_bomb(), "plan.yaml:6:8: aliases expand to more than 100,000 values (alias bomb?)"),
    "deep flow nesting": (b"[" * 10_000, "plan.yaml:1:101: nesting deeper than 100 levels"),
    "deep block nesting": (b"- " * 10_000 + b"x\n", "plan.yaml:1:201: nesting deeper than 100 levels"),
    "binary junk": (b"version: 1\n\x89PNG\x00\x01\x02\xff", "plan.yaml:2:5: not a text file: NUL byte at line 2"),
    "not utf-8": (b"version: 1\nname: x\ntitle: caf\xff\n", "plan.yaml:3:11: not UTF-8: invalid byte 0xff at line 3"),
    "not utf-8 after a BOM": (b"\xef\xbb\xbfversion: 1\nname: x\xff\n", "plan.yaml:2:8: not UTF-8: invalid byte 0xff at line 2"),
    "not utf-8 right after a BOM": (b"\xef\xbb\xbf\xff: 1\n", "plan.yaml:1:1: not UTF-8: invalid byte 0xff at line 1"),
    "not utf-8 on a BOM's line": (b"\xef\xbb\xbfab\xfe: 1\n", "plan.yaml:1:3: not UTF-8: invalid byte 0xfe at line 1"),
    "NUL after a BOM": (b"\xef\xbb\xbfab\x00", "plan.yaml:1:3: not a text file: NUL byte at line 1"),
    "not utf-8 after a character of two bytes": (b"title: caf\xc3\xa9\xff\n",
                                                 "plan.yaml:1:12: not UTF-8: invalid byte 0xff at line 1"),
    "python tag": (b"version: !!python/object/apply:os.system ['echo pwned']\n",
                   "plan.yaml:1:10: tag '!!python/object/apply:os.system' is not allowed (plans are data)"),
    "empty": (b"# nothing here\n\n", "plan.yaml:1:1: empty plan"),
    "list at top": (b"- id: A\n", "plan.yaml:1:1: a plan must be a mapping of keys (version, name, cases, ...), got a list"),
    "recursive alias": (b"a: &x [*x]\n", "plan.yaml:1:4: an alias refers to the value that contains it"),
    "syntax error": (b"version: 1\ncases: [1, 2\nname: x\n",
                     "plan.yaml:2:8: this '[' is never closed: end the value with ']'\n"
                     "    (PyYAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2))"),
    "two documents": (b"version: 1\n---\nversion: 1\n", "plan.yaml:2:1: a plan file holds one YAML document; found a second one"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_gives_one_clean_problem(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content, expected = CASES[name]
    assert problems_of(tmp_path, monkeypatch, content) == [expected]


def test_huge_file_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"version: 1\n" + b"# padding padding padding padding padding padding\n" * 220_000
    assert problems_of(tmp_path, monkeypatch, content) == [
        "plan.yaml:1:1: file is too large (10.5 MiB; plans are limited to 10 MiB)"]


def test_python_tag_does_not_run_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    content = f"x: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    problems_of(tmp_path, monkeypatch, content)
    assert not marker.exists()


def test_merge_keys_are_rejected_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"version: 1\nname: m\nvars: &v {a: 1}\ndefaults: {<<: *v}\ncases: [{id: A, name: a, steps: [{sleep: 1}]}]\n"
    assert problems_of(tmp_path, monkeypatch, content) == [
        "plan.yaml:4:12: merge keys ('<<') are not supported: write the keys out, or use 'defaults:' for shared case keys"]


def test_every_duplicate_key_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"version: 1\nname: a\nversion: 1\ncases: []\nname: b\n"
    problems = problems_of(tmp_path, monkeypatch, content)
    assert "plan.yaml:3:1: duplicate key 'version' (first at line 1)" in problems
    assert "plan.yaml:5:1: duplicate key 'name' (first at line 2)" in problems


@pytest.mark.parametrize("value, expected", [
    ("!!bool maybe", "plan.yaml:6:15: invalid !!bool value 'maybe': write true or false"),  # was a KeyError (exit 3)
    ("!!int abc", "plan.yaml:6:15: invalid !!int value 'abc': invalid literal for int() with base 10: 'abc'"),
])
def test_a_scalar_tagged_as_what_it_is_not(value: str, expected: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    content = (f"version: 1\nname: t\ncases:\n  - id: A\n    name: a\n    vars: {{x: {value}}}\n"
               "    steps: [{sleep: 1}]\n")
    assert problems_of(tmp_path, monkeypatch, content.encode()) == [expected]
