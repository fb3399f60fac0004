"""`run` starts its plan's worker before the plan is loaded, held before it imports the provider
(run/early_worker); the loaded plan decides whether it is used. What a user must never see:
a provider imported for a plan that fails to load or does not call it, a provider imported
twice, a process left behind."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestrator.procs.worker import HOLD_VAR

from .conftest import orchestrator
from tests.support import poll

# At import, one line: its pid, and whether it was started held (the variable is in the
# environment it was started with, not in os.environ: the worker takes it out).
PROVIDER = f'''import os
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imports.log"), "a") as log:
    with open("/proc/self/environ", "rb") as env:
        held = b"{HOLD_VAR}=" in env.read()
    log.write("%d %s %s\\n" % (os.getpid(), held, "{HOLD_VAR}" in os.environ))

def call_api(prompt, options, context):
    return {{"output": "echo " + prompt}}
'''
CASES = "cases:\n" + "".join(f"  - id: C-{n}\n    name: c{n}\n    steps:\n      - {{call: echo, prompt: 'hi {n}', "
                             f"expect: [{{contains: 'hi {n}'}}]}}\n" for n in range(3))
# Cases that call nothing, so many that loading them outlasts a worker's boot (~30 ms): a held
# worker that imported its provider at once would have done it by the end of the load.
FILLER = "".join(f"  - id: F-{n}\n    name: f{n}\n    steps:\n      - {{sleep: 0s}}\n" for n in range(2000))


def _plan(tmp_path: Path, provider: str = "{python: echo_provider.py}", tail: str = CASES + FILLER) -> Path:
    (tmp_path / "echo_provider.py").write_text(PROVIDER, encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"version: 1\nname: early\nproviders:\n  echo: {provider}\n{tail}", encoding="utf-8")
    return plan


def _imports(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "imports.log"
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def _ours(tmp_path: Path) -> list[int]:
    """Live processes whose command line names this test's provider file (held or not)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(tmp_path).encode() in cmdline and state != "Z":
            found.append(int(name))
    return found


def test_the_held_worker_serves_the_plan_it_was_started_for(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    done = orchestrator("run", str(plan), "-q", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    imports = _imports(tmp_path)
    assert len(imports) == 1, imports  # imported once, in the worker started before the load
    pid, held, passed_on = imports[0]
    assert (held, passed_on) == ("True", "False")  # and the provider's children do not inherit the hold
    workers = json.loads((tmp_path / "out" / "results.json").read_text())["workers"]
    assert [(w["pid"], w["calls"], w["restarts"]) for w in workers] == [(int(pid), 3, 0)]
    assert workers[0]["cold_start_ms"] > 0
    assert poll(lambda: not _ours(tmp_path), within=5), _ours(tmp_path)


def test_a_plan_that_fails_to_load_never_imports_its_provider(tmp_path: Path) -> None:
    plan = _plan(tmp_path, tail=CASES + FILLER + "  - id: C-9\n    name: bad\n    steps:\n      - {call: nowhere, prompt: x}\n")
    done = orchestrator("run", str(plan), "-q", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "nowhere" in done.stderr
    assert _imports(tmp_path) == []
    assert poll(lambda: not _ours(tmp_path), within=5), _ours(tmp_path)


@pytest.mark.parametrize("args", [["--id", "C-0"], ["-k", "nothing-matches"]])
def test_a_selection_decides_before_the_provider_is_imported(tmp_path: Path, args: list[str]) -> None:
    plan = _plan(tmp_path, tail=CASES.replace("steps:\n      - {call: echo, prompt: 'hi 0', expect: [{contains: 'hi 0'}]}",
                                               "steps:\n      - {sleep: 0s}", 1) + FILLER)
    done = orchestrator("run", str(plan), "-q", "--out", str(tmp_path / "out"), *args, cwd=tmp_path)
    assert done.returncode == (0 if args[0] == "--id" else 2), done.stderr
    assert _imports(tmp_path) == []  # C-0 calls nothing; nothing selected calls the provider
    assert poll(lambda: not _ours(tmp_path), within=5), _ours(tmp_path)


@pytest.mark.parametrize("provider", [
    "{python: echo_provider.py, interpreter: python3}",  # another interpreter: another process
    "{python: echo_provider.py, env: {SOMETHING: x}}",  # an environment of its own
])
def test_a_provider_the_plan_starts_differently_gets_a_worker_of_its_own(tmp_path: Path, provider: str) -> None:
    plan = _plan(tmp_path, provider)
    done = orchestrator("run", str(plan), "-q", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    imports = _imports(tmp_path)
    assert [held for _, held, _ in imports] == ["False"], imports  # the held one never imported it
    assert poll(lambda: not _ours(tmp_path), within=5), _ours(tmp_path)


@pytest.mark.parametrize("variant", ["relative-from-elsewhere", "symlinked-plan", "provider-in-a-sibling-folder",
                                     "bom-and-crlf", "function-named"])
def test_variants_of_how_a_plan_is_written_and_named_run_the_same(tmp_path: Path, variant: str) -> None:
    """Whichever way the plan names its provider and the command line names the plan, the run
    passes with the provider imported once; the held worker serves it where the guess holds."""
    project = tmp_path / "project"
    project.mkdir()
    provider = "{python: echo_provider.py}"
    if variant == "provider-in-a-sibling-folder":
        (tmp_path / "providers").mkdir()
        provider = "{python: ../providers/echo_provider.py}"
    elif variant == "function-named":
        provider = "{python: 'echo_provider.py:call_api', workers: 2}"
    plan = _plan(project, provider)
    where = project
    if variant == "provider-in-a-sibling-folder":
        (project / "echo_provider.py").rename(tmp_path / "providers" / "echo_provider.py")
        where = tmp_path / "providers"
    if variant == "bom-and-crlf":
        plan.write_bytes(b"\xef\xbb\xbf" + plan.read_bytes().replace(b"\n", b"\r\n"))
    named, cwd = str(plan), project
    if variant == "relative-from-elsewhere":
        named, cwd = "project/plan.yaml", tmp_path
    elif variant == "symlinked-plan":  # its paths are relative to the link's folder
        (tmp_path / "link.yaml").symlink_to(plan)
        (project / "echo_provider.py").rename(tmp_path / "echo_provider.py")
        named, cwd, where = "link.yaml", tmp_path, tmp_path
    done = orchestrator("run", named, "-q", "--out", str(tmp_path / "out"), cwd=cwd)
    assert done.returncode == 0, done.stderr
    imports = _imports(where)
    held = [h for _, h, _ in imports]
    assert len(held) == (2 if variant == "function-named" else 1), imports
    assert held[0] == "True", imports  # the first worker is the one started before the load
    assert poll(lambda: not _ours(tmp_path), within=5), _ours(tmp_path)


def test_a_head_start_that_fails_costs_nothing_but_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: the held worker's spawn fails (an interpreter that cannot start, a full /tmp);
    `start` says nothing, holds nothing, and the pools start their workers as they would."""
    from orchestrator.procs.worker import Worker
    from orchestrator.run import early_worker

    def refused(self: Worker, hold: bool = False) -> None:
        raise OSError(24, "Too many open files")

    from orchestrator.procs import subreaper, watchdog

    plan = _plan(tmp_path)
    monkeypatch.setattr(subreaper, "become_subreaper", lambda: True)  # not done to the test process
    monkeypatch.setattr(watchdog, "forget_dead_runs", lambda: None)
    monkeypatch.setattr(Worker, "spawn", refused)
    early_worker.start([str(plan)])
    monkeypatch.undo()
    assert early_worker._held is None
    assert not _ours(tmp_path)
