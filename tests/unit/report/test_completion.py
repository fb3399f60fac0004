"""Results never taken for complete when the run did not end; NaN/Infinity valid JSON; format 1 read."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.result.completion import load_results
from orchestrator.result.journal import Journal, journal_path
from orchestrator.result.model import GateResult, GateRule, RunResult, Status
from orchestrator.result.store import read_json, write_json

from .factory import run_result


def _judge(run: RunResult) -> GateResult:
    return GateResult(not run.interrupted, (GateRule("judged again", True, f"{len(run.cases)} cases"),))


def _strict(text: str) -> object:
    """json.loads as jq and JSON.parse read: NaN and Infinity are not JSON."""
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_a_file_with_the_completion_mark_is_the_run(tmp_path: Path) -> None:
    run = replace(run_result(gate_passed=True), complete=True)
    write_json(run, tmp_path / "results.json")
    raw = (tmp_path / "results.json").read_text(encoding="utf-8")
    assert raw.rstrip().endswith('"complete": true}')  # the mark is the last key written
    assert load_results(tmp_path / "results.json", _judge) == run


def test_a_file_without_the_mark_is_interrupted_with_the_gate_failed(tmp_path: Path) -> None:
    live = replace(run_result(gate_passed=True), interrupted=False, complete=False)  # a killed run's live rewrite
    write_json(live, tmp_path / "results.json")
    run = load_results(tmp_path / "results.json", _judge)
    assert run.interrupted and not run.complete and not run.gate.passed
    rule = run.gate.rules[-1]
    assert rule.rule == "run completed" and not rule.passed and rule.detail.startswith("run incomplete")
    assert [r.rule for r in run.gate.rules[:-1]] == ["judged again"]  # the gate was judged again from the cases


def test_the_journal_beside_an_unmarked_file_is_newer_and_wins(tmp_path: Path) -> None:
    start = replace(run_result(), cases=tuple(replace(c, status=Status.INTERRUPTED, attempts=())
                                              for c in run_result().cases))
    write_json(start, tmp_path / "results.json")  # a live rewrite from before any case finished
    with Journal(journal_path(tmp_path / "results.json"), start=start) as journal:
        journal.append(run_result().cases[0])
    run = load_results(tmp_path / "results.json", _judge)
    assert run.cases[0] == run_result().cases[0]
    assert [c.status for c in run.cases[1:]] == [Status.INTERRUPTED] * (len(run.cases) - 1)
    assert "journal" in run.gate.rules[-1].detail and not run.gate.passed


def test_a_journal_rebuilds_the_run_in_plan_order_keeping_unfinished_cases(tmp_path: Path) -> None:
    full = run_result()
    start = replace(full, cases=tuple(replace(c, status=Status.INTERRUPTED, attempts=(), message="not run")
                                      for c in full.cases))
    path = tmp_path / "results.journal.jsonl"
    with Journal(path, start=start) as journal:
        journal.append(full.cases[2])
        journal.append(full.cases[0])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"id": "torn')  # killed mid-line
    run = load_results(path, _judge)
    assert [c.id for c in run.cases] == [c.id for c in full.cases]
    assert run.cases[0] == full.cases[0] and run.cases[2] == full.cases[2]
    assert run.cases[1].status is Status.INTERRUPTED
    assert run.plans == full.plans and run.interrupted and not run.gate.passed
    assert Journal.read(path) == [full.cases[2], full.cases[0]]


def test_nan_and_infinity_are_valid_json_and_read_back(tmp_path: Path) -> None:
    base = run_result()
    case = replace(base.cases[0], duration_s=math.inf,
                   attempts=(replace(base.cases[0].attempts[0], duration_s=-math.inf),))
    run = replace(base, duration_s=math.nan, cases=(case,) + base.cases[1:])
    path = tmp_path / "results.json"
    write_json(run, path)
    data = _strict(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data["duration_s"] == "NaN"
    back = read_json(path)
    assert math.isnan(back.duration_s)
    assert back.cases[0].duration_s == math.inf and back.cases[0].attempts[0].duration_s == -math.inf


def test_nan_in_a_step_field_is_valid_json(tmp_path: Path) -> None:
    base = run_result()
    step = replace(base.cases[0].steps[0], fields={"output": math.nan, "rps": [math.inf]})
    case = replace(base.cases[0], attempts=(replace(base.cases[0].attempts[0], steps=(step,)),))
    path = tmp_path / "results.json"
    write_json(replace(base, cases=(case,)), path)
    data = _strict(path.read_text(encoding="utf-8"))
    assert data["cases"][0]["attempts"][0]["steps"][0]["fields"] == {"output": "NaN", "rps": ["Infinity"]}  # type: ignore[index]
    assert read_json(path).cases[0].steps[0].fields["output"] == "NaN"


def test_a_format_1_file_is_read_but_never_complete(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json(replace(run_result(gate_passed=True), complete=True), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format"] = 1
    del data["complete"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert read_json(path).cases == run_result().cases
    run = load_results(path, _judge)
    assert run.interrupted and not run.gate.passed
    write_json(run, tmp_path / "again.json")  # rewritten in the current format
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["format"] == 2


@pytest.mark.parametrize("name", ["results.json", "results.journal.jsonl"])
def test_a_missing_input_is_a_user_error(tmp_path: Path, name: str) -> None:
    from orchestrator.errors import UserError

    with pytest.raises(UserError, match="no such"):
        load_results(tmp_path / name, _judge)


def test_a_journal_with_its_end_line_is_a_complete_run(tmp_path: Path) -> None:
    full = replace(run_result(), interrupted=False, duration_s=4.5)
    start = replace(full, cases=tuple(replace(c, status=Status.INTERRUPTED, attempts=()) for c in full.cases))
    path = tmp_path / "results.journal.jsonl"
    with Journal(path, start=start) as journal:
        for case in full.cases:
            journal.append(case)
        journal.end(full)
    run = load_results(path, _judge)
    assert run.complete and not run.interrupted and run.cases == full.cases and run.duration_s == 4.5
    assert [r.rule for r in run.gate.rules] == ["judged again"] and run.gate.passed
