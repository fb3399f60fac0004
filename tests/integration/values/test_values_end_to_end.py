"""The "Why" of issue 10 about values, as a user meets them: `orchestrator run` on small plans.

Nothing a provider, process or server returns may make a verdict PASSED that should not be,
nor end the run with exit 3: it is that assertion's failure or that step's error, the reports
are written, and results.json stays strictly valid JSON.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import orchestrator

PROVIDER = '''
import math

ANSWERS = {
    "forged": {"output": "bad", "expected": "bad"},
    "forged_measured": {"output": "ok", "duration_ms": -1, "worker": {"pid": -1}, "exit_code": 0},
    "true": {"output": True},
    "none": None,
    "text": "hello",
    "empty": {},
    "list": [1, 2],
    "slow": {"output": "x", "took": "slow"},
    "nan": {"output": math.nan, "score": math.inf},
    "huge": {"output": 10 ** 5000},
    "distinct": {"output": "ok", "distinct": 1, "client_pid": 42},
}


def call_api(prompt, options, context):
    return ANSWERS[prompt]
'''


def _plan(tmp_path: Path, body: str, head: str = "") -> Path:
    (tmp_path / "prov.py").write_text(PROVIDER, encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nname: values\n" + head + "providers:\n  p: {python: prov.py}\ncases:\n" + body,
                    encoding="utf-8")
    return plan


def _run(tmp_path: Path, plan: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / "out"
    done = orchestrator("run", str(plan), "--out", str(out), *extra, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    text = (out / "results.json").read_text(encoding="utf-8")
    results = json.loads(text, parse_constant=_no_bare_constants)  # NaN/Infinity are not JSON
    assert (out / "junit.xml").is_file() and (out / "report.html").is_file()
    return done.returncode, done.stdout + done.stderr, results


def _no_bare_constants(name: str) -> Any:
    raise AssertionError(f"results.json holds a bare {name}")


def _case(results: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(c for c in results["cases"] if c["id"].split("[")[0] == case_id)


def _step(results: dict[str, Any], case_id: str, index: int = 0) -> dict[str, Any]:
    return dict(_case(results, case_id)["attempts"][-1]["steps"][index])


# -- names a provider cannot forge ---------------------------------------------------------------

FORGED = """\
  - id: PLAN-VAR
    name: a plan variable
    steps: [{call: p, prompt: forged, expect: [{expr: "output == expected"}]}]
  - id: CASE-VAR
    name: a case variable
    vars: {wanted: good}
    steps: [{call: p, prompt: forged, expect: [{expr: "output == expected"}]}]
  - id: MATRIX
    name: a matrix value
    matrix: {expected: [good]}
    steps: [{call: p, prompt: forged, expect: [{expr: "output == expected"}]}]
  - id: AS-NAME
    name: an as name
    steps:
      - {call: p, prompt: distinct, as: expected}
      - {call: p, prompt: forged, expect: [{expr: "output == expected"}]}
  - id: TEMPLATE
    name: a template in an assertion
    steps: [{call: p, prompt: forged, expect: [{equals: "{{ expected }}"}]}]
"""


def test_a_returned_key_never_shadows_a_variable(tmp_path: Path) -> None:
    code, out, results = _run(tmp_path, _plan(tmp_path, FORGED, "vars: {expected: good}\n"))
    assert code == 1, out
    for case_id in ("PLAN-VAR", "MATRIX", "AS-NAME", "TEMPLATE"):
        assert _case(results, case_id)["status"] == "failed", case_id
    # a case variable of another name does not protect `expected`: the plan variable does
    assert _case(results, "CASE-VAR")["status"] == "failed"
    assert _case(results, "PLAN-VAR")["message"] == (
        "step 1 (call p): expr 'output == expected' was False where output='bad', expected='good'; "
        "'expected' is the variable, the provider's 'expected' is result.expected")
    notes = _step(results, "PLAN-VAR")["fields"]["orchestrator_notes"]
    assert notes == ["the provider returned 'expected', which is also a variable: 'expected' in expr and "
                     "templates is the variable, the provider's value is result.expected"]


def test_the_same_repro_via_var_and_the_returned_value_under_result(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: FORGED
    name: forged
    steps: [{call: p, prompt: forged, expect: [{expr: "output == expected"}]}]
  - id: RESULT
    name: the provider's own value is result.KEY
    steps: [{call: p, prompt: forged, expect: [{expr: "result.expected == 'bad' and result.output == 'bad'"}]}]
""", "vars: {expected: placeholder}\n")
    code, out, results = _run(tmp_path, plan, "--var", "expected=good")
    assert code == 1, out
    assert _case(results, "FORGED")["status"] == "failed"
    assert _case(results, "RESULT")["status"] == "passed"


def test_returned_keys_cannot_replace_measured_fields_but_stay_readable(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: MEASURED
    name: measured fields win
    steps:
      - call: p
        prompt: forged_measured
        expect:
          - expr: "duration_ms >= 0 and worker.pid > 0 and result.duration_ms == -1 and result.worker.pid == -1"
          - max_ms: 60000
  - id: BARE
    name: returned keys keep their bare names
    steps:
      - {call: p, prompt: distinct, as: first}
      - {call: p, prompt: distinct, expect: [{expr: "distinct == 1 and client_pid == first.client_pid"}]}
""")
    code, out, results = _run(tmp_path, plan)
    assert code == 0, out
    fields = _step(results, "MEASURED")["fields"]
    assert fields["duration_ms"] >= 0 and fields["worker"]["pid"] > 0
    assert any("'duration_ms'" in note for note in fields["orchestrator_notes"])


# -- strict comparisons --------------------------------------------------------------------------

def test_equals_1_on_true_fails_and_says_why(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: ONE
    name: equals 1 on true
    steps: [{call: p, prompt: "true", expect: [{equals: 1}]}]
  - id: ZERO
    name: equals 0 on false-y
    steps: [{call: p, prompt: distinct, expect: [{equals: true, on: distinct}]}]
  - id: SAME
    name: equals true on true
    steps: [{call: p, prompt: "true", expect: [{equals: true}]}]
""")
    code, out, results = _run(tmp_path, plan)
    assert code == 1
    assert _case(results, "ONE")["status"] == "failed" and _case(results, "ZERO")["status"] == "failed"
    assert _case(results, "SAME")["status"] == "passed"
    assert "expected 1 (integer), got true (boolean)" in out


def test_a_number_compared_with_stdout_compares_text_and_the_failure_suggests_quoting(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: TEXT
    name: equals 4 on stdout 4
    steps: [{exec: {command: [printf, "4"]}, expect: [{equals: 4}]}]
  - id: WORD
    name: equals yes
    steps: [{exec: {command: [printf, "yes"]}, expect: [{equals: yes}]}]
""")
    code, out, results = _run(tmp_path, plan)
    assert code == 1
    assert _case(results, "TEXT")["status"] == "passed"
    assert _case(results, "WORD")["status"] == "failed"
    assert 'quote it to compare text, e.g. equals: "yes"' in _case(results, "WORD")["message"] or \
        'equals: "yes"' in json.dumps(_step(results, "WORD")["assertions"])


# -- provider results are checked ----------------------------------------------------------------

@pytest.mark.parametrize("prompt, named", [
    ("none", "returned None; call_api must return a dict with 'output' or 'error'"),
    ("text", "returned a str 'hello'; call_api must return a dict with 'output' or 'error'"),
    ("empty", "returned an empty dict {}; call_api must return a dict with 'output' or 'error'"),
    ("list", "returned a list [1, 2]; call_api must return a dict with 'output' or 'error'"),
])
def test_a_provider_that_returns_no_answer_is_an_error(tmp_path: Path, prompt: str, named: str) -> None:
    plan = _plan(tmp_path, f"""\
  - id: BAD
    name: no answer
    steps: [{{call: p, prompt: {prompt}, expect: [{{not_contains: anything}}]}}]
""")
    code, out, results = _run(tmp_path, plan)
    assert code == 1
    case = _case(results, "BAD")
    assert case["status"] == "error"
    assert case["message"] == f"step 1 (call p): InvalidResult: {named}"


# -- values that cannot be evaluated: that assertion fails, the run goes on -----------------------

def test_unevaluable_values_fail_their_assertion_not_the_run(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: MAX-MS
    name: max_ms on a string
    steps: [{call: p, prompt: slow, expect: [{max_ms: 5, on: took}]}]
  - id: COUNT-NAN
    name: count on NaN
    steps: [{call: p, prompt: nan, expect: [{count: 1}]}]
  - id: HUGE-EXPR
    name: an expr producing a huge integer
    steps: [{call: p, prompt: slow, expect: [{expr: "(output | length + 1) ** 20000 == 3"}]}]
  - id: INCOMPARABLE
    name: comparing text with a number
    steps: [{call: p, prompt: slow, expect: [{expr: "output > 3"}]}]
  - id: HUGE-OUTPUT
    name: a huge integer output
    steps: [{call: p, prompt: huge, expect: [{equals: 1}, {count: 1}, {contains: "9"}]}]
  - id: AFTER
    name: the run went on
    steps: [{call: p, prompt: distinct, expect: [{equals: ok}]}]
""")
    code, out, results = _run(tmp_path, plan)
    assert code == 1, out
    for case_id in ("MAX-MS", "COUNT-NAN", "HUGE-EXPR", "INCOMPARABLE", "HUGE-OUTPUT"):
        assert _case(results, case_id)["status"] == "failed", case_id
    assert _case(results, "AFTER")["status"] == "passed"
    assert "expected a duration in ms (a number), got 'slow' (text)" in _case(results, "MAX-MS")["message"]
    assert "got 'NaN' (text)" in _case(results, "COUNT-NAN")["message"]
    assert "TypeError" in _case(results, "INCOMPARABLE")["message"]


def test_nan_and_infinity_never_reach_results_as_bare_constants(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: NAN
    name: NaN output
    steps: [{call: p, prompt: nan, expect: [{equals: NaN}]}]
""")
    code, _, results = _run(tmp_path, plan)  # _run parses results.json strictly
    fields = _step(results, "NAN")["fields"]
    assert fields["output"] == "NaN" and fields["score"] == "Infinity"
    assert "output: NaN became the text 'NaN'" in fields["orchestrator_notes"]
    assert code == 0  # equals: NaN (text) holds on the text 'NaN'
    assert not math.isnan(0.0)


# -- templated provider names, --var, values that do not fit ---------------------------------------

def test_templated_provider_names_run_and_a_bad_one_is_exit_2_not_an_internal_error(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: T
    name: templated
    steps: [{call: "{{ which }}", prompt: distinct, expect: [{equals: ok}]}]
""", "vars: {which: p}\n")
    code, out, _ = _run(tmp_path, plan)
    assert code == 0, out
    bad = orchestrator("run", str(plan), "--out", str(tmp_path / "bad"), "--var", "which=q", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (f"{plan}:9:20: provider name '{{{{ which }}}}' renders to 'q', which is not a "
                                  "provider; defined providers: p")


def test_a_misspelt_var_is_exit_2_with_did_you_mean(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - {id: T, name: t, steps: [{call: p, prompt: distinct, expect: [{equals: ok}]}]}
""", "vars: {port: 8080}\n")
    for command in ("run", "validate", "list"):
        done = orchestrator(command, str(plan), "--var", "prot=8080", cwd=tmp_path)
        assert done.returncode == 2, command
        assert "unknown variable 'prot'; did you mean 'port'?" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_value_from_a_step_result_that_does_not_fit_is_that_steps_error(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - id: PORT
    name: a port from a result
    steps:
      - {call: p, prompt: slow, as: r}
      - spawn: {name: s, command: [sleep, "5"], ready: {port: "{{ r.took }}"}}
  - id: REQUESTS
    name: requests from a result
    steps:
      - {call: p, prompt: slow, as: r}
      - load: {call: p, prompt: slow, requests: "{{ r.took }}"}
""")
    code, out, results = _run(tmp_path, plan)
    assert code == 1, out
    assert _case(results, "PORT")["message"] == ("step 2 (spawn s): InvalidStep: ready port must be a whole number, "
                                                 "got 'slow' (text)")
    assert _case(results, "REQUESTS")["message"] == ("step 2 (load): InvalidStep: load requests must be a whole "
                                                     "number, got 'slow' (text)")


def test_validate_warns_about_a_variable_named_like_a_step_field(tmp_path: Path) -> None:
    plan = _plan(tmp_path, """\
  - {id: T, name: t, steps: [{call: p, prompt: distinct, expect: [{expr: "output == output"}]}]}
""", "vars: {output: mine}\n")
    done = orchestrator("validate", str(plan), cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr.startswith(f"{plan}:3:8: warning: variable 'output' has the name of a field of call steps")
