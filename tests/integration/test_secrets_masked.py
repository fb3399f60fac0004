"""Secrets never reach a report: `--secret`, a secret-named `--var` and an environment variable
a plan (here: its include) marks secret, printed, compared and failed on, are `***` in
results.json, JUnit, HTML, the console, GitHub annotations, the step summary and the command line."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from orchestrator.report.html import unpack_json

from .conftest import REPO

PW = "hunter2'\"q"  # quotes: escaped differently by repr, JSON and the shell
TOKEN = "tok-abc123"
ENV_SECRET = "envs3cr3t\\x"
MARKERS = ("hunter2", "abc123", "envs3cr3t")


def _leaks(text: str) -> list[str]:
    return [m for m in MARKERS if m in text]


def test_secrets_are_masked_in_every_report_and_output(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text("secrets: [ORCH_TEST_ENV_SECRET]\n", encoding="utf-8")
    plan = tmp_path / "leak.yaml"
    plan.write_text(f"""version: 1
name: leak
include: [common.yaml]
cases:
  - id: S-1
    name: prints and compares secrets
    steps:
      - exec:
          command: [{sys.executable}, -c, "import os, sys; print('out', os.environ['T'], os.environ['P']); print('err', os.environ['ORCH_TEST_ENV_SECRET'], file=sys.stderr)"]
          env: {{T: "{{{{ api_token }}}}", P: "{{{{ pw }}}}"}}
        expect:
          - expr: "stdout == 'x' and env.ORCH_TEST_ENV_SECRET == 'no' and pw == 'z' and api_token == 'y'"
          - contains: "{{{{ pw }}}}!"
          - equals: "{{{{ api_token }}}}"
  - id: S-2
    name: errors with a secret in its message
    steps:
      - exec: {{command: ["/no/such/{{{{ pw }}}}"]}}
""", encoding="utf-8")
    out, summary = tmp_path / "out", tmp_path / "summary.md"
    env = {**os.environ, "NO_COLOR": "1", "ORCH_TEST_ENV_SECRET": ENV_SECRET, "GITHUB_ACTIONS": "true",
           "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out), "-v",
                           "--var", f"api_token={TOKEN}", "--secret", f"pw={PW}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "***" in done.stdout and not _leaks(done.stdout + done.stderr), done.stdout + done.stderr
    assert "::error " in done.stdout  # the annotations were printed, masked

    results_text = (out / "results.json").read_text(encoding="utf-8")
    assert not _leaks(results_text)
    results = json.loads(results_text)
    assert f"--secret 'pw=***'" in results["command"] or "--secret pw=***" in results["command"]
    assert "api_token=***" in results["command"]
    steps = results["cases"][0]["attempts"][0]["steps"]
    assert steps[0]["fields"]["stdout"] == "out *** ***\n" and steps[0]["fields"]["stderr"] == "err ***\n"
    expr = steps[0]["assertions"][0]
    assert not expr["passed"] and "***" in expr["message"]

    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert "***" in junit and not _leaks(junit)
    html = (out / "report.html").read_text(encoding="utf-8")
    data = re.search(r'id="case-data"[^>]*>(.*?)</script>', html, re.S)
    assert data is not None
    details = json.dumps(unpack_json(data.group(1)))
    assert "***" in details and not _leaks(html) and not _leaks(details)
    summary_text = summary.read_text(encoding="utf-8")
    assert "S-1" in summary_text and not _leaks(summary_text)


def test_a_secret_cut_in_two_by_an_output_truncation_is_masked_on_both_sides(tmp_path: Path) -> None:
    """A provider's output over the kept head and tail: the cuts fall inside the secret."""
    secret = "sk-live-0123456789abcdef"
    keep = 512 * 1024  # procs/worker.OUTPUT_KEEP and result/trim.LOG_KEEP_CHARS: head and tail kept
    (tmp_path / "loud.py").write_text(f"""import sys
def call_api(prompt, options, context):
    secrets = {secret!r} * 3  # wherever a line prefix puts the cut, it falls inside one of them
    sys.stdout.write("x" * ({keep} - 40) + secrets + "y" * {keep} + secrets + "z" * ({keep} - 40))
    return {{"output": "done"}}
""", encoding="utf-8")
    plan = tmp_path / "cut.yaml"
    plan.write_text("version: 1\nname: cut\nvars: {key: none}\nproviders:\n  loud: {python: loud.py}\ncases:\n"
                    "  - {id: C-1, name: loud, steps: [{call: loud, prompt: go}]}\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out), "-q",
                           "--secret", f"key={secret}"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    log = json.loads((out / "results.json").read_text(encoding="utf-8"))["cases"][0]["attempts"][0]["stdout"]
    cut = re.search(r"\n\[… [^\n]*truncated[^\n]*\]\n", log)
    assert cut is not None, "the output was cut"
    around = log[cut.start() - 40:cut.start()] + log[cut.end():cut.end() + 40]
    pieces = {secret[i:i + 4] for i in range(len(secret) - 3)}
    assert not [p for p in pieces if p in around], repr(around)  # neither half of a cut secret is left
    assert "***" in log[cut.start() - 40:cut.start()] and "***" in log[cut.end():cut.end() + 40]
