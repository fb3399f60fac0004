"""`run` writes results.json's cases from its journal's lines (issue 13): on real runs of every
kind the file is byte for byte what encoding the run's cases again writes, and every case that
finished came from the journal (no case object is replaced once it is journaled)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pytest

from orchestrator.cli.entry import main
from orchestrator.report import json_report
from orchestrator.result.model import CaseResult, RunResult, Status
from orchestrator.result.store import run_json_chunks

SECRET = "s3cr3t-T0KEN-value"
PROVIDER = r'''
import os, time

def call_api(prompt, options, context):
    if prompt == "hostile":
        return {"output": "nul\x00 esc\x1b[31m vt\x0b \ufffe\uffff emoji \U0001F600 \u2028\u2029 lone \ud800 \udfff </script> end",
                "extra": {"nested": ["\x01", 1.5, None, True], "key \u00e9": -0.0}}
    if prompt == "secret":
        return {"output": "the token is " + os.environ.get("TOKEN", "")}
    if prompt == "huge":
        token = os.environ.get("TOKEN", "")
        return {"output": "x" * (32 * 1024 - 5) + token + "y" * 200_000 + token}
    if prompt.startswith("flaky "):
        mark = prompt.split(" ", 1)[1]
        if not os.path.exists(mark):
            open(mark, "w").close()
            raise RuntimeError("first try fails")
        return {"output": "second try"}
    if prompt == "slow":
        time.sleep(30)
    return {"output": prompt}
'''
PLAN = """\
version: 1
name: journal-bytes
title: "T\u00eftle \u2603"
vars: {{TOKEN: none}}
providers:
  p: {{python: p.py, env: {{TOKEN: "{secret}"}}}}
cases:
  - id: HOSTILE
    name: "hostile \u00e9\u4e2d\U0001F600"
    tags: [t1, "t\u00e9"]
    steps:
      - {{call: p, prompt: hostile, expect: [{{contains: emoji}}]}}
  - id: SECRET
    name: secret masked
    steps:
      - {{call: p, prompt: secret, expect: [{{contains: "{secret}"}}]}}
  - id: HUGE
    name: huge output, trimmed
    steps:
      - {{call: p, prompt: huge, expect: [{{starts_with: x}}]}}
  - id: BYTES
    name: invalid UTF-8 on stdout
    steps:
      - exec: {{command: [python3, bytes.py]}}
        expect: [{{exit_code: 0}}]
  - id: FLAKY
    name: passes on retry
    retries: 2
    steps:
      - {{call: p, prompt: "flaky {mark}", expect: [{{equals: second try}}]}}
  - id: REPEAT
    name: repeated
    repeat: 3
    steps:
      - {{call: p, prompt: again, expect: [{{equals: again}}]}}
  - id: FAILS
    name: fails
    priority: P0
    steps:
      - {{call: p, prompt: nope, expect: [{{equals: "yes"}}]}}
  - id: SKIPPED
    name: skipped
    skip: not today
    steps:
      - {{call: p, prompt: x}}
  - id: XFAIL
    name: known bug
    xfail: bug 12
    steps:
      - {{call: p, prompt: x, expect: [{{equals: y}}]}}
{more}"""
SLOW = """\
  - id: SLOW
    name: outlived by the run's deadline
    steps:
      - {call: p, prompt: slow}
  - id: AFTER
    name: never started
    steps:
      - {call: p, prompt: after}
"""


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[RunResult, int, bytes]]:
    """Every results.json written with the journal's texts: the run, how many cases' texts the
    journal gave, and the bytes encoding every case writes (the file is renamed into place only
    once the final write ends: the test compares it then)."""
    seen: list[tuple[RunResult, int, bytes]] = []
    write_json = json_report.write_json

    def noted(run: RunResult, path: Any, texts: Any = None) -> None:
        if texts is None:
            return write_json(run, path)
        lent = 0

        def counted(cases: Sequence[CaseResult], at: int) -> bytes | list[bytes | None]:
            nonlocal lent
            found: bytes | list[bytes | None] = texts(cases, at)
            lent += len(cases) if isinstance(found, bytes) else sum(t is not None for t in found)
            return found

        write_json(run, path, texts=counted)
        seen.append((run, lent, ("".join(run_json_chunks(run)) + "\n").encode("utf-8")))

    monkeypatch.setattr(json_report, "write_json", noted)
    return seen


def _plan(tmp_path: Path, more: str = "") -> None:
    (tmp_path / "p.py").write_text(PROVIDER, encoding="utf-8")
    (tmp_path / "bytes.py").write_text("import sys\nsys.stdout.buffer.write(b'bad \\xff\\xfe \\xed\\xa0\\x80 end')\n")
    (tmp_path / "plan.yaml").write_text(PLAN.format(secret=SECRET, mark=tmp_path / "flaky.mark", more=more),
                                        encoding="utf-8")


@pytest.mark.parametrize("options", [[], ["-j", "2"], ["--repeat", "2"], ["-j", "3", "--order", "priority"],
                                     ["--fail-fast"]])
def test_results_json_from_the_journal_is_what_encoding_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               watched: list[tuple[RunResult, int, bytes]],
                                                               options: list[str]) -> None:
    _plan(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "plan.yaml", "-q", "--out", "out", "--secret", f"TOKEN={SECRET}", *options]) == 1
    (run, lent, encoded), = [seen for seen in watched if seen[0].complete]
    assert (tmp_path / "out" / "results.json").read_bytes() == encoded
    assert lent == len(run.cases) == 9  # every case finished: every text came from the journal
    text = encoded.decode("ascii")
    assert SECRET not in text and '"the token is ***"' in text
    assert "lone \\ud800 \\udfff" in text and "bad \\ufffd" in text  # lone surrogates escaped, bad UTF-8 replaced
    statuses = {c["id"]: c["status"] for c in json.loads(text)["cases"]}
    assert statuses["FLAKY"] == "flaky" and statuses["SKIPPED"] == "skipped" and statuses["FAILS"] == "failed"
    assert not (tmp_path / "out" / "results.journal.jsonl").exists()


def test_an_interrupted_run_encodes_only_the_cases_that_never_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watched: list[tuple[RunResult, int, bytes]]) -> None:
    _plan(tmp_path, SLOW)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "plan.yaml", "-q", "--out", "out", "--timeout", "3s"]) == 124
    (run, lent, encoded), = [seen for seen in watched if seen[0].complete]
    assert (tmp_path / "out" / "results.json").read_bytes() == encoded
    never_run = [c.id for c in run.cases if c.status is Status.INTERRUPTED and not c.attempts]
    assert "AFTER" in never_run and "SLOW" not in never_run  # SLOW was cut short: it finished, interrupted
    assert lent == len(run.cases) - len(never_run)
