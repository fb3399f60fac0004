"""The providers' workers start as soon as the plans are selected (run/pools.start_early), while
the orchestrator imports the rest of its run path; the engine adopts them."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from orchestrator.errors import Location
from orchestrator.plan.model import CaseSpec, Plan, ProviderSpec, StepSpec
from orchestrator.plan.step_args import CallArgs
from orchestrator.procs import leaks, watchdog
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
    monkeypatch.setattr(leaks, "become_subreaper", lambda: calls.append("subreaper") or True)
    monkeypatch.setattr(watchdog, "guard_run", lambda: calls.append("guard_run"))
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
        assert run_stage_calls == ["subreaper", "guard_run"]  # first: the workers inherit a clean environment
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
