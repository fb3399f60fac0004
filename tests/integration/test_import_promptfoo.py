"""`orchestrator import promptfoo`: a promptfoo config becomes a plan that validates and runs,
with the verdicts promptfoo gives, and what cannot convert listed with its line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIXED = REPO / "tests" / "fixtures" / "promptfoo" / "promptfooconfig.yaml"
EXAMPLE = REPO / "scenarios" / "promptfoo" / "promptfooconfig.yaml"


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def _statuses(out: Path) -> dict[str, str]:
    return {c["id"]: c["status"] for c in json.loads((out / "results.json").read_text(encoding="utf-8"))["cases"]}


def test_the_example_config_converts_and_passes_as_it_does_under_promptfoo(tmp_path: Path) -> None:
    plan = tmp_path / "sub" / "plan.yaml"
    plan.parent.mkdir()
    done = cli("import", "promptfoo", str(EXAMPLE), "-o", str(plan))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "wrote" in done.stdout and "12 case(s), 2 provider(s)" in done.stdout
    ran = cli("run", str(plan), "--out", str(tmp_path / "out"), "-q")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    statuses = _statuses(tmp_path / "out")
    # 3 tests (1 inline, 2 from tests.csv) x 2 prompts x 2 providers, each its own verdict, as promptfoo shows
    assert len(statuses) == 12 and set(statuses.values()) == {"passed"}
    assert "T-2-P2-shout" in statuses


def test_what_cannot_convert_is_listed_with_its_line_and_the_rest_runs(tmp_path: Path) -> None:
    done = cli("import", "promptfoo", str(MIXED), "-o", str(tmp_path / "plan.yaml"))
    assert done.returncode == 0, done.stderr
    shown = str(MIXED)  # as it was named
    lines = done.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{shown}:4:5", f"{shown}:8:16", f"{shown}:9:5", f"{shown}:17:5", f"{shown}:24:15", f"{shown}:33:15",
        f"{shown}:37:17", f"{shown}:45:3"]
    assert "provider 'openai:gpt-4o-mini' not converted" in lines[2]
    assert "'llm-rubric' is not supported: it asks a model to grade" in lines[4]
    assert "assertion key 'weight' not converted" in lines[6]
    plan_text = (tmp_path / "plan.yaml").read_text(encoding="utf-8")
    assert plan_text.count("# not converted: ") == 8
    assert cli("validate", str(tmp_path / "plan.yaml")).returncode == 0
    ran = cli("run", str(tmp_path / "plan.yaml"), "--out", str(tmp_path / "out"), "-q")
    assert ran.returncode == 1
    # promptfoo's verdicts: equals "dogs?" fails, a bare CSV __expected is equals (fails), the rest pass;
    # the list-valued var runs once per value (promptfoo expands it)
    assert _statuses(tmp_path / "out") == {"T-1": "passed", "T-2": "failed", "T-3[topic=red]": "passed",
                                            "T-3[topic=blue]": "passed", "T-4": "passed", "T-5": "failed"}


def test_a_config_with_nothing_runnable_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text("prompts: [hi]\nproviders: [openai:gpt-4o]\ntests: []\n", encoding="utf-8")
    done = cli("import", "promptfoo", str(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{config}:2:13: provider 'openai:gpt-4o' not converted" in done.stderr
    assert f"{config}:2:12: no providers could be converted" in done.stderr
    missing = cli("import", "promptfoo", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("prompts: [unclosed\n", encoding="utf-8")
    assert cli("import", "promptfoo", str(broken)).returncode == 2


PROMPTFOO_EXAMPLE = """prompts:
  - "Write a tweet about {{topic}}"
providers:
  - model: python:provider.py
    config:
      someOption: foobar
tests:
  - vars:
      topic: bananas
    assert:
      - type: contains
        value: Bananamax
  - vars:
      topic: fruits
    assert:
      - type: llm-rubric
        value: includes at least one emoji
"""


def test_promptfoos_own_example_shape_converts_and_a_test_left_without_checks_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "promptfooconfig.yaml").write_text(PROMPTFOO_EXAMPLE, encoding="utf-8")
    (tmp_path / "provider.py").write_text(
        "def call_api(prompt, options, context):\n"
        "    return {'output': 'Bananamax: ' + prompt, 'tokenUsage': None,\n"
        "            'metadata': {'config': options.get('config', {})}}\n", encoding="utf-8")
    done = cli("import", "promptfoo", "promptfooconfig.yaml", "-o", "plan.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ran = cli("run", "plan.yaml", "--out", "out", "-q", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # the llm-rubric test is not claimed as passed: nothing of it could be checked here
    assert _statuses(tmp_path / "out") == {"T-1": "passed", "T-2": "skipped"}
