"""The providers' workers start as soon as the plans are selected (run/pools.start_early), while
the orchestrator imports the rest of its run path; the engine adopts them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import CaseSpec, Plan, ProviderSpec, StepSpec
from orchestrator.plan.step_args import CallArgs
from orchestrator.procs import subreaper, tree, watchdog
from orchestrator.run.pools import close_all, start_early

from .conftest import orchestrator, poll
from tests.support import gone

PROVIDERS = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
AT = Location("plan.yaml", 1, 1)


def calling(case_id: str, provider: str, **extra: object) -> CaseSpec:
    step = StepSpec(action="call", args=CallArgs(provider=provider, prompt="hi"), location=AT)
    return CaseSpec(id=case_id, name=case_id, location=AT, steps=(step,), **extra)  # type: ignore[arg-type]


def python(provider_id: str, **extra: object) -> ProviderSpec:
    return ProviderSpec(id=provider_id, kind="python", location=AT, cwd=PROVIDERS,
                        python_file=PROVIDERS / "echo.py", **extra)  # type: ignore[arg-type]


@pytest.fixture
def run_stage_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the early start does of the run stage's own start (not done to the test process)."""
    calls: list[str] = []
    monkeypatch.setattr(subreaper, "become_subreaper", lambda: calls.append("subreaper") or True)
    monkeypatch.setattr(watchdog, "forget_dead_runs", lambda: calls.append("forget_dead_runs"))
    monkeypatch.setattr(watchdog, "guard_run", lambda: calls.append("guard_run"))
    spawn = tree.spawn

    def spawned(*args: Any, **kwargs: Any) -> Any:
        calls.append("spawn")
        return spawn(*args, **kwargs)

    monkeypatch.setattr(tree, "spawn", spawned)
    return calls


def test_only_the_persistent_python_providers_that_a_running_case_calls_start_early(
        run_stage_calls: list[str], no_new_workers: None) -> None:
    plan = Plan(path=PROVIDERS / "plan.yaml", name="early", providers={
        "unused": python("unused"), "echo": python("echo", workers=2), "skipped": python("skipped"),
        "fresh": python("fresh", mode="ephemeral"),
        "web": ProviderSpec(id="web", kind="http", location=AT, cwd=PROVIDERS, url="http://127.0.0.1:9/")},
        cases=(calling("C-1", "echo"), calling("C-2", "skipped", skip="not today"), calling("C-3", "fresh"),
               calling("C-4", "web")))
    pools = start_early([plan], threading.Event())
    try:
        assert {p: list(by_id) for p, by_id in pools.items()} == {0: ["echo"]}
        workers = pools[0]["echo"].pids()
        assert len(workers) == 2  # running already, before any case asked
        # Dead runs' markers leave the environment before the workers inherit it; the sweep of
        # their leftovers (every process read) and the watchdog's start while the workers boot.
        assert run_stage_calls == ["subreaper", "forget_dead_runs", "spawn", "spawn", "guard_run"]
    finally:
        close_all(pools)
    assert poll(lambda: all(gone(pid) for pid in workers), within=3)


def test_nothing_starts_early_for_a_stopped_run_or_without_python_providers(run_stage_calls: list[str]) -> None:
    plan = Plan(path=PROVIDERS / "plan.yaml", name="early", providers={"echo": python("echo")},
                cases=(calling("C-1", "echo"),))
    stopped = threading.Event()
    stopped.set()
    assert start_early([plan], stopped) == {}
    no_calls = Plan(path=PROVIDERS / "plan.yaml", name="early", providers={"echo": python("echo")},
                    cases=(CaseSpec(id="C-1", name="c", location=AT, steps=()),))
    assert start_early([no_calls], threading.Event()) == {}
    assert run_stage_calls == []  # left to the run stage, as before


def test_a_run_that_cannot_claim_its_report_folder_leaves_no_early_worker_behind(tmp_path: Path,
                                                                                  no_new_workers: None) -> None:
    (tmp_path / "echo.py").write_text(
        "import os\nopen(os.path.join(os.path.dirname(__file__), 'worker.pid'), 'w').write(str(os.getpid()))\n"
        "def call_api(prompt, options, context):\n    return {'output': prompt}\n", encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nname: early\nproviders:\n  echo: {python: echo.py}\ncases:\n"
                    "  - {id: C-1, name: c, steps: [{call: echo, prompt: hi}]}\n", encoding="utf-8")
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "taken" / "out"), "-q", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot write reports" in done.stderr and "Traceback" not in done.stderr
    pid_file = tmp_path / "worker.pid"
    if pid_file.exists():  # the worker had imported the provider: it is gone with the run
        assert poll(lambda: gone(int(pid_file.read_text())), within=3)


def test_a_worker_started_early_inherits_no_dead_runs_marker_and_the_leftover_is_still_swept(tmp_path: Path) -> None:
    """Started from a shell opened inside a run that died: the workers start before the sweep of
    dead runs' leftovers now, and still without the dead run's marker (else a later run would
    sweep them as that run's leftovers); the leftover itself is still killed and reported."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale_var = f"ORCHESTRATOR_RUN_{dead.pid}_123_abcdef"
    (tmp_path / "env.py").write_text(
        "import os\ndef call_api(prompt, options, context):\n"
        "    return {'output': ' '.join(sorted(k for k in os.environ if k.startswith('ORCHESTRATOR_RUN_')))}\n",
        encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nname: env\nproviders:\n  env: {python: env.py}\ncases:\n"
                    "  - {id: E-1, name: e, steps: [{call: env, prompt: hi, expect: [{contains: ORCHESTRATOR_RUN_}, "
                    f"{{not_contains: {stale_var}}}]}}]}}\n", encoding="utf-8")
    leftover = subprocess.Popen(["sleep", "617"], env={**os.environ, stale_var: "plan:c1"}, start_new_session=True)
    try:
        for _ in range(3):
            done = subprocess.run([sys.executable, "-m", "orchestrator", "run", str(plan), "--out",
                                   str(tmp_path / "out"), "-q"], cwd=tmp_path, capture_output=True, text=True,
                                  timeout=60, env={**os.environ, stale_var: "plan:c1",
                                                   "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
            if done.returncode != -9:
                break
            # Another orchestrator on this machine swept our orchestrator itself: it carries the
            # dead run's marker, as the shell it was started from would. Not ours to judge: again.
        assert done.returncode == 0, done.stdout + done.stderr
        assert poll(lambda: leftover.poll() is not None, within=2)  # swept (by this run, or a neighbour's)
        swept = [line for line in done.stderr.splitlines() if "left running by an earlier run" in line]
        assert len(swept) <= 1 and all(line.endswith(f"pids {leftover.pid}") for line in swept), \
            done.stderr  # the leftover alone, not our own worker carrying the dead marker
        workers = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["workers"]
        assert [w["restarts"] for w in workers] == [0]
    finally:
        if leftover.poll() is None:
            leftover.kill()
        leftover.wait()
