"""What provider calls leave running: found by the run's marker, killed, reported per provider
(a warning by default; `provider_leaks: fail` makes it an error of the calling case)."""
from __future__ import annotations

import json
from pathlib import Path

import psutil

from tests.integration.conftest import REPO, orchestrator

PROVIDER = f"""\
import subprocess, sys

def call_api(prompt, options, context):
    if prompt == "daemon":  # double fork + setsid: out of the worker's tree and session
        subprocess.run([sys.executable, {str(REPO / 'scenarios' / 'targets' / 'double_fork_daemon.py')!r}, "616"],
                       check=True)
    if prompt == "child":  # still in the worker's tree
        subprocess.Popen(["sleep", "617"])
    return {{"output": prompt}}
"""


def write_plan(folder: Path, switch: str = "") -> Path:
    (folder / "leaky.py").write_text(PROVIDER, encoding="utf-8")
    plan = folder / "plan.yaml"
    plan.write_text(f"""version: 1
name: leaky-provider
{switch}
providers:
  leaky: {{python: leaky.py}}
cases:
  - {{id: P-1, name: a daemon, steps: [{{call: leaky, prompt: daemon}}]}}
  - {{id: P-2, name: a child, steps: [{{call: leaky, prompt: child}}]}}
  - {{id: P-3, name: clean, steps: [{{call: leaky, prompt: nothing}}]}}
""", encoding="utf-8")
    return plan


def sleeping(seconds: str) -> list[int]:
    return [p.pid for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", seconds]]


def test_provider_leftovers_are_killed_and_reported_per_provider_with_the_calling_case(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = orchestrator("run", str(write_plan(tmp_path)), "--out", str(out), "-q")
    assert done.returncode == 0, done.stdout + done.stderr  # a warning, by default
    assert not sleeping("616") and not sleeping("617")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    leaks = {(leak["cmdline"], leak["case"], leak["provider"]) for leak in results["provider_leaks"]}
    assert leaks == {("sleep 616", "P-1", "leaky"), ("sleep 617", "P-2", "leaky")}
    warning = [line for line in done.stderr.splitlines() if line.startswith("orchestrator: warning: provider leaky")]
    assert len(warning) == 1 and "left 2 process(es) running" in warning[0] and "[case P-1]" in warning[0]
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'name="provider leaks: leaky-provider/leaky"' in junit
    assert "Provider leftovers" in (out / "report.html").read_text(encoding="utf-8")


def test_provider_leaks_fail_makes_them_an_error_of_the_calling_case(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = orchestrator("run", str(write_plan(tmp_path, "provider_leaks: fail")), "--out", str(out), "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    cases = {c["id"]: c for c in json.loads((out / "results.json").read_text(encoding="utf-8"))["cases"]}
    assert cases["P-3"]["status"] == "passed"
    for case, command in (("P-1", "sleep 616"), ("P-2", "sleep 617")):
        assert cases[case]["status"] == "error"
        assert f"({command}) started by a call to provider leaky" in cases[case]["message"] + json.dumps(
            cases[case]["attempts"])
    assert not sleeping("616") and not sleeping("617")
