"""plan/peek: a guess at a plan's one Python provider from the head of its file, or none.

A wrong guess costs only a worker started for nothing (run/early_worker compares it with the
loaded plan); these tests hold it to guessing only where the head says it plainly, and to never
raising, whatever the file holds."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.plan.peek import Guess, python_provider

PLAIN = "version: 1\nname: bench\nproviders:\n  echo: {python: echo.py}\ncases:\n  - id: A\n"


def _plan(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "plan.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_plain_head_names_the_provider_its_file_resolved_and_the_plan_s_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _plan(tmp_path, PLAIN)
    monkeypatch.chdir(tmp_path)
    assert python_provider("plan.yaml") == Guess(
        plan="bench", provider="echo", python_file=str((tmp_path / "echo.py").resolve()), function="call_api",
        cwd=str(tmp_path))


@pytest.mark.parametrize("spec, function", [
    ("{python: 'echo.py:call_async'}", "call_async"),
    ('{python: "file://echo.py", workers: 2, timeout: 5s}', "call_api"),
    ("\n    python: echo.py:fn\n    config: {a: [1, 2]}", "fn"),
])
def test_the_function_and_the_provider_s_other_keys(tmp_path: Path, spec: str, function: str) -> None:
    guess = python_provider(_plan(tmp_path, f"version: 1\nname: b\nproviders:\n  p: {spec}\ncases: []\n"))
    assert guess is not None and guess.function == function and guess.python_file.endswith("echo.py")


@pytest.mark.parametrize("text", [
    pytest.param("version: 1\nname: b\nenv: {A: b}\nproviders:\n  p: {python: e.py}\ncases: []\n", id="plan-env"),
    pytest.param("version: 1\nname: b\ninclude: [x.yaml]\nproviders:\n  p: {python: e.py}\ncases: []\n", id="include"),
    pytest.param("version: 1\nname: b\nproviders:\n  p: {python: e.py}\n  q: {python: f.py}\ncases: []\n",
                 id="two-python-providers"),
    pytest.param("version: 1\nname: b\nproviders:\n  w: {http: 'http://x/'}\ncases: []\n", id="http-only"),
    pytest.param("version: 1\nname: b\nproviders:\n  p: {python: '{{ file }}'}\ncases: []\n", id="template"),
    pytest.param("version: 1\nname: b\nproviders:\n  p: &a {python: e.py}\ncases: []\n", id="anchor"),
    pytest.param("version: 1\nname: !!str b\nproviders:\n  p: {python: e.py}\ncases: []\n", id="tag"),
    pytest.param("version: 1\ncases: []\nname: b\nproviders:\n  p: {python: e.py}\n", id="cases-first"),
    pytest.param("version: 1\nproviders:\n  p: {python: e.py}\ncases: []\n", id="no-name"),
    pytest.param("version: 1\nname: b\nname: c\nproviders:\n  p: {python: e.py}\n", id="duplicate-key"),
    pytest.param("version: 1\nname: [b]\nproviders:\n  p: {python: e.py}\n", id="name-not-text"),
    pytest.param("version: 1\nname: b\nproviders:\n  p: {python: [e.py]}\n", id="python-not-text"),
    pytest.param("version: 1\nname: b\nproviders: [p]\n", id="providers-not-a-mapping"),
    pytest.param("- a\n- b\n", id="not-a-mapping"),
    pytest.param("", id="empty"),
    pytest.param("version: 1\nname: b\nproviders:\n  p: {python: e.py\n", id="broken-yaml"),
    pytest.param("version: 1\nname: b\nrequirements:\n" + "".join(f"  R{n}: text {n}\n" for n in range(1500))
                 + "providers:\n  p: {python: e.py}\ncases: []\n", id="long-head"),
    pytest.param(b"version: 1\nname: \xff\xfe\nproviders:\n  p: {python: e.py}\n", id="not-utf-8"),
    pytest.param("version: 1\nname: b\nproviders:\n  p: {python: e.py}\n" + "x" * 5 + ": " + "[" * 200 + "]" * 200,
                 id="deep-nesting"),
])
def test_no_guess_where_the_head_is_not_plain(tmp_path: Path, text: str | bytes) -> None:
    assert python_provider(_plan(tmp_path, text)) is None


def test_no_guess_for_what_is_not_a_readable_file(tmp_path: Path) -> None:
    assert python_provider(str(tmp_path)) is None
    assert python_provider(str(tmp_path / "missing.yaml")) is None
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert python_provider(str(fifo)) is None  # a pipe cannot be read twice: the loader reads it
