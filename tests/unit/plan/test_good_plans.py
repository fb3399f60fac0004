"""Good plans load into the model the runner expects."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from orchestrator.errors import Location, PlanErrors
from orchestrator.plan.load import load_plan
from orchestrator.plan.model import ParallelArgs, Plan
from orchestrator.plan.step_args import (CallArgs, ExecArgs, HttpArgs, LoadArgs, ReadyArgs, SignalArgs, SleepArgs,
                                         SpawnArgs, WaitArgs)

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "fixtures" / "good_plans"
FULL = "tests/fixtures/good_plans/full.yaml"


@pytest.fixture()
def plan(monkeypatch: pytest.MonkeyPatch) -> Plan:
    monkeypatch.chdir(ROOT)
    return load_plan(FULL, {"who": "override", "brand_new": "1"})


def test_top_level(plan: Plan) -> None:
    assert plan.path == GOOD / "full.yaml"
    assert plan.name == "full-example"
    assert plan.title == "Everything the loader understands"
    assert plan.requirements == {"AC-1": "Workers persist"}
    assert plan.risks["RISK-1"].impact == "high"


def test_vars_include_merge_and_overrides(plan: Plan) -> None:
    # greeting from the include, who from the plan but overridden, brand_new only on the command line
    assert plan.vars == {"greeting": "Hello", "who": "override", "brand_new": "1"}


def test_env_rendered_with_vars(plan: Plan) -> None:
    assert plan.env == {"COMMON": "yes-Hello", "MODE": "override-mode"}


def test_providers(plan: Plan) -> None:
    echo, slow, backend = plan.providers["echo"], plan.providers["slow"], plan.providers["backend"]
    assert echo.kind == "python" and echo.python_file == GOOD / "providers" / "echo.py"
    assert echo.function == "call_api" and echo.interpreter == "python3"
    assert (echo.workers, echo.timeout_s, echo.startup_timeout_s) == (2, 120.0, 30.0)
    assert echo.max_rss_bytes == 512 * 2**20 and echo.max_calls == 100 and echo.affinity == "session"
    assert echo.env == {"COMMON": "yes-Hello", "MODE": "override-mode", "MODEL": "tiny"}
    assert echo.config == {"temperature": 0} and echo.cwd == GOOD
    assert echo.location == Location(FULL, 12, 5)
    # from the included file: its path is relative to the included file, its location in that file
    assert slow.function == "slow_api" and slow.timeout_s == 1.5 and slow.workers == 2
    assert slow.location.file == "tests/fixtures/good_plans/common.yaml"
    assert slow.interpreter is None
    assert backend.kind == "http" and backend.url == "http://127.0.0.1:8080/api" and backend.timeout_s == 10.0


def test_gate(plan: Plan) -> None:
    assert plan.gate is not None
    assert dict(plan.gate.pass_rate) == {"P0": 1.0, "P1": 0.95, "P2": 0.9}
    assert plan.gate.max_flaky == 0 and plan.gate.require_covered == ("AC-1",)


def test_case_ids_after_matrix_and_discover(plan: Plan) -> None:
    assert [c.id for c in plan.cases] == [
        "E2E-001", "E2E-002[n=1,m=a]", "E2E-002[n=1,m=b]", "E2E-002[n=2,m=a]", "E2E-002[n=2,m=b]",
        "FILE-test_gamma", "FILE-test_alpha", "FILE-test_beta"]


def test_case_keys_and_defaults(plan: Plan) -> None:
    first, matrix = plan.cases[0], plan.cases[1]
    assert first.location == Location(FULL, 40, 5)
    assert first.priority == "P0" and first.tags == ("smoke",)  # tags replaced, not merged
    assert first.covers == ("AC-1", "RISK-1") and first.skip == "skipped by plan" and first.xfail is None
    assert first.timeout_s == 60.0  # from defaults
    # defaults vars merged, the case winning over them and --var (who=override) over both
    assert first.vars == {"who": "override", "extra": 1}
    assert first.serial is True and first.lock == "gpu" and first.stop_on_failure is False
    assert matrix.priority == "P1" and matrix.tags == ("common",)  # from the included defaults
    assert matrix.xfail == "expected to fail"
    assert matrix.matrix == {"n": 1, "m": "a"} and matrix.vars == {"who": "override", "extra": 1, "n": 1, "m": "a"}


def test_discover_cases(plan: Plan) -> None:
    alpha = next(c for c in plan.cases if c.id == "FILE-test_alpha")
    script = GOOD / "scripts" / "test_alpha.py"
    assert alpha.name == "scripts/test_alpha.py"
    assert alpha.vars["path"] == str(script) and alpha.vars["relpath"] == "scripts/test_alpha.py"
    assert (alpha.vars["name"], alpha.vars["stem"], alpha.vars["dir"]) == ("test_alpha.py", "test_alpha", str(script.parent))
    assert alpha.steps[0].args == ExecArgs(command=["python3", "{{ path }}"], timeout=300.0)


def test_call_step_args_and_assertions(plan: Plan) -> None:
    call = plan.cases[0].steps[0]
    assert call.action == "call" and call.as_name == "first" and call.title == "call echo"
    assert call.args == CallArgs(provider="echo", prompt="{{ greeting }}, {{ who }}", vars={"x": 1},
                                 options={"temperature": 1}, session="s1")
    kinds = [(a.kind, a.value, a.on) for a in call.expect]
    assert kinds[:6] == [("contains", "Hello", None), ("not_contains", "bye", None), ("is-json", None, None),
                         ("matches", "^echo", None), ("starts_with", "echo", "output"),
                         ("expr", "output == 'x' and first.output", None)]
    assert kinds[6:9] == [("json", {"path": "a.b[0]", "equals": 1}, None), ("max_ms", "{{ 100 * 2 }}", None),
                          ("count", {"min": 1, "max": 4}, None)]
    assert kinds[9] == ("equals_file", str(GOOD / "golden.txt"), None)
    assert call.expect[0].location == Location(FULL, 57, 13)


def test_durations_in_steps(plan: Plan) -> None:
    sleep, exec_step = plan.cases[0].steps[1], plan.cases[0].steps[2]
    assert sleep.args == SleepArgs(2.0)
    assert exec_step.args_as(ExecArgs).timeout == 5.0 and exec_step.condition == "first.output != ''"
    spawn, parallel, wait, processes, http = plan.cases[1].steps
    assert spawn.args_as(SpawnArgs).ready == ReadyArgs(delay=0.1)
    load, signal = parallel.args_as(ParallelArgs).steps
    assert load.action == "load" and load.args_as(LoadArgs).duration == 60.0
    assert load.args_as(LoadArgs).requests == "{{ n * 10 }}"
    assert signal.args == SignalArgs(target="provider:echo#random", signal="SIGKILL")
    assert wait.args == WaitArgs(exit="srv", within=3.0)
    assert processes.always is True and processes.expect[0].kind == "count"
    assert http.args_as(HttpArgs).timeout == 2.0 and http.args_as(HttpArgs).json == {"a": 1}
    assert http.args_as(HttpArgs).has_body


def test_loading_is_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    load_plan(FULL)
    started = time.perf_counter()
    for _ in range(5):
        load_plan(FULL)
    assert (time.perf_counter() - started) / 5 < 0.05


def test_hundred_case_plan_loads_in_milliseconds(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    cases = "".join(
        f"  - id: C-{i}\n    name: case {i}\n    tags: [t]\n    steps:\n"
        f"      - call: p\n        prompt: 'hello {{{{ who }}}} {i}'\n        as: r\n"
        f"        expect: [{{contains: hello}}, {{max_ms: 100}}, {{expr: \"r.output != ''\"}}]\n"
        f"      - exec: {{command: [echo, '{{{{ r.output }}}}'], timeout: 5s}}\n        expect: [{{exit_code: 0}}]\n"
        for i in range(100))
    path = tmp_path / "big.yaml"
    path.write_text(f"version: 1\nname: big\nvars: {{who: me}}\nproviders:\n  p: {{python: p.py}}\ncases:\n{cases}")
    load_plan(str(path))
    started = time.perf_counter()
    plan = load_plan(str(path))
    elapsed = time.perf_counter() - started
    assert len(plan.cases) == 100
    assert elapsed < 0.25, f"{elapsed * 1000:.0f} ms"


def test_include_cycle_does_not_hang_and_included_file_may_omit_top_keys(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("sub").mkdir()
    Path("sub/common.yaml").write_text("vars: {a: from-include}\ndefaults: {priority: P0}\n")
    Path("plan.yaml").write_text("version: 1\nname: x\ninclude: [sub/common.yaml]\n"
                                 "cases: [{id: A, name: '{{ a }}', steps: [{exec: {command: [echo, '{{ a }}']}}]}]\n")
    plan = load_plan("plan.yaml")
    assert plan.vars == {"a": "from-include"} and plan.cases[0].priority == "P0"
    Path("sub/common.yaml").write_text("vars: {a: 1}\nproviders: {bad: {python: nope.py}}\n")
    with pytest.raises(PlanErrors) as caught:
        load_plan("plan.yaml")
    assert str(caught.value) == ("sub/common.yaml:2:27: file not found: nope.py "
                                 "(paths are relative to the folder of the file that names them)")


@pytest.mark.parametrize("shipped", sorted((ROOT / "plans").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_plan_validates(shipped: Path) -> None:
    """A name a step reads that validation does not know (a new result field) fails here, in a
    second, instead of only when the shipped plan is run."""
    load_plan(str(shipped))
