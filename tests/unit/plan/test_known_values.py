"""What is known when a plan loads is checked when it loads: templated provider names, whole
numbers and durations that read only vars and --var, and --var names themselves."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import PlanErrors, UserError
from orchestrator.plan.load import load_plan, load_plans
from orchestrator.plan.step_args import CallArgs, LoadArgs

PROVIDER = "def call_api(prompt, options, context):\n    return {'output': prompt}\n"


def write(tmp_path: Path, text: str) -> str:
    (tmp_path / "p.py").write_text(PROVIDER, encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nname: known\n" + text, encoding="utf-8")
    return str(plan)


PROVIDERS = "providers:\n  echo: {python: p.py}\n  other: {python: p.py}\n"


def problems(path: str, overrides: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(PlanErrors) as caught:
        load_plans([path], overrides)
    return [str(p) for p in caught.value.problems]


def test_a_templated_provider_name_is_resolved_from_plan_case_matrix_and_var(tmp_path: Path) -> None:
    path = write(tmp_path, "vars: {which: echo}\n" + PROVIDERS + """cases:
  - {id: PLAN, name: plan var, steps: [{call: "{{ which }}", prompt: hi}]}
  - {id: CASE, name: case var, vars: {mine: other}, steps: [{call: "{{ mine }}", prompt: hi}]}
  - id: MATRIX
    name: matrix
    matrix: {target: [echo, other]}
    steps:
      - call: "{{ target }}"
        prompt: hi
      - load: {call: "{{ target }}", prompt: hi, requests: 2}
""")
    plan = load_plan(path)
    assert [c.steps[0].args_as(CallArgs).provider for c in plan.cases] == ["echo", "other", "echo", "other"]
    assert [c.steps[1].args_as(LoadArgs).call for c in plan.cases[2:]] == ["echo", "other"]
    assert load_plans([path], {"which": "other"})[0].cases[0].steps[0].args_as(CallArgs).provider == "other"


def test_a_templated_provider_name_that_names_no_provider_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "vars: {which: echo}\n" + PROVIDERS + """cases:
  - id: A
    name: a
    steps:
      - call: "{{ which }}"
        prompt: hi
""")
    assert problems(path, {"which": "ecoh"}) == [
        f"{path}:11:15: provider name '{{{{ which }}}}' renders to 'ecoh', which is not a provider "
        "(did you mean 'echo'?); defined providers: echo, other"]


def test_a_provider_name_from_a_step_result_is_rejected_before_the_run(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDERS + """cases:
  - id: A
    name: a
    steps:
      - {call: echo, prompt: other, as: first}
      - {call: "{{ first.output }}", prompt: hi}
""")
    [message] = problems(path)
    assert message.startswith(f"{path}:11:16: provider name '{{{{ first.output }}}}' reads 'first', which is not "
                              "known before the run")


def test_a_var_that_does_not_fit_a_whole_number_is_an_error_at_the_line_using_it(tmp_path: Path) -> None:
    path = write(tmp_path, "vars: {port: 8080, n: 3, t: 5s}\n" + PROVIDERS + """cases:
  - id: A
    name: a
    steps:
      - spawn: {name: srv, command: [sleep, "5"], ready: {port: "{{ port }}"}}
        timeout: "{{ t }}"
      - load: {call: echo, prompt: hi, requests: "{{ n }}"}
""")
    assert load_plans([path], {"port": "9000", "n": "4", "t": "2s"})  # text that is a number is fine
    found = problems(path, {"port": "notaport", "n": "many", "t": "soon"})
    assert found == [
        f"{path}:11:65: spawn.ready.port '{{{{ port }}}}' renders to 'notaport' (text), which is not a whole number",
        f"{path}:12:18: timeout '{{{{ t }}}}' renders to 'soon' (text), which is not a duration "
        "(250ms, 5s, 2m or seconds)",
        f"{path}:13:50: load.requests '{{{{ n }}}}' renders to 'many' (text), which is not a whole number"]


def test_an_unknown_var_is_an_error_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "vars: {port: 8080}\n" + PROVIDERS + """cases:
  - {id: A, name: a, vars: {who: me}, steps: [{call: echo, prompt: "{{ port }} {{ who }} {{ extra }}"}]}
""")
    with pytest.raises(UserError) as caught:
        load_plans([path], {"prot": "8080", "extra": "1"})
    assert str(caught.value) == "--var prot=8080: unknown variable 'prot'; did you mean 'port'?"
    with pytest.raises(UserError) as caught:
        load_plans([path], {"zzz": "1", "extra": "1"})
    assert str(caught.value) == "--var zzz=1: unknown variable 'zzz'; the plan's variables are extra, port, who"
    # declared plan and case vars, and names only a template reads, are all fine
    plan = load_plans([path], {"port": "1", "who": "you", "extra": "x"})[0]
    assert plan.cases[0].vars["who"] == "you"  # --var wins over the case's own vars


@pytest.mark.parametrize("name", ["plan_dir", "env", "i", "first", "len"])
def test_a_var_for_a_name_the_orchestrator_binds_is_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, PROVIDERS + """cases:
  - id: A
    name: a
    steps:
      - {call: echo, prompt: "{{ plan_dir }} {{ env.HOME }} {{ len('x') }}", as: first}
      - load: {call: echo, prompt: "{{ i }} {{ first.output }}", requests: 1}
""")
    with pytest.raises(UserError):
        load_plans([path], {name: "x"})


def test_a_variable_named_like_a_step_field_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "vars: {output: x, stdout: y, greeting: hi}\n" + PROVIDERS + """cases:
  - id: A
    name: a
    vars: {count: 1, worker: w}
    steps:
      - {call: echo, prompt: hi, as: result}
      - processes: {of: run}
""")
    plan = load_plan(path)
    assert [str(w) for w in plan.warnings] == [
        f"{path}:3:8: warning: variable 'output' has the name of a field of call steps: in their expect, "
        "'output' is the step's field, not this variable",
        f"{path}:3:19: warning: variable 'stdout' has the name of a field of exec steps: in their expect, "
        "'stdout' is the step's field, not this variable",
        f"{path}:10:12: warning: variable 'count' has the name of a field of processes steps: in their expect, "
        "'count' is the step's field, not this variable",
        f"{path}:10:22: warning: variable 'worker' has the name of a field of call steps: in their expect, "
        "'worker' is the step's field, not this variable",
        f"{path}:12:34: warning: as: name 'result' has the name of a field of call steps: in their expect, "
        "'result' is the step's field, not this as: name"]


def test_an_assertion_number_from_a_var_that_does_not_fit_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "vars: {n: 1, limit: 50}\n" + PROVIDERS + """cases:
  - id: A
    name: a
    steps:
      - call: echo
        prompt: hi
        expect: [{count: "{{ n }}"}, {max_ms: "{{ limit }}"}, {exit_code: "{{ n }}", on: output}]
""")
    assert load_plans([path], {"n": "2", "limit": "2.5"})
    assert problems(path, {"n": "two", "limit": "soon"}) == [
        f"{path}:13:26: count '{{{{ n }}}}' renders to 'two' (text), which is not a whole number",
        f"{path}:13:47: max_ms '{{{{ limit }}}}' renders to 'soon' (text), which is not a number of milliseconds",
        f"{path}:13:75: exit_code '{{{{ n }}}}' renders to 'two' (text), which is not a whole number"]


def test_a_var_for_a_matrix_variable_is_refused_at_the_matrix(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDERS + """cases:
  - id: A
    name: a
    matrix: {n: [1, 2]}
    steps: [{call: echo, prompt: "{{ n }}"}]
""")
    assert problems(path, {"n": "5"}) == [
        f"{path}:9:14: --var n=5 cannot change the matrix variable 'n': the matrix gives its values "
        "(select one with -k or --id)"]
