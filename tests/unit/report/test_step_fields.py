"""Step results are typed records (result/step_fields.py): one per action, declaring that
action's field vocabulary, read by the reports by attribute and stored in results.json as before."""
from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.plan.fields import STEP_FIELDS
from orchestrator.result.model import Status, StepResult
from orchestrator.result.step_fields import (
    RECORDS, CallFields, ExecFields, LoadFields, ParallelFields, StepFields, WorkerRef, declared, step_fields,
)
from orchestrator.result.store import read_json, write_json
from orchestrator.vocabulary import STEP_ACTIONS
from tests.unit.report.factory import run_result

REPORT = Path(__file__).resolve().parents[3] / "orchestrator" / "report"
COMMON = set(declared(StepFields).values())  # reason, stdout, stderr, worker: any step may carry them
# Stored beside the vocabulary: the provider a call went to (usage totals are per provider).
# `result` is no stored field: it is the provider's answer as `expr` sees it.
EXTRA = {"call": {"provider"}}


@pytest.mark.parametrize("action", sorted(STEP_FIELDS))
def test_each_action_has_a_record_declaring_its_vocabulary(action: str) -> None:
    names = set(declared(RECORDS[action]).values())
    wanted = set(STEP_FIELDS[action]) - {"result"} | EXTRA.get(action, set())
    assert wanted <= names, f"{action}: the record lacks {sorted(wanted - names)}"
    beyond = sorted(names - wanted - COMMON)
    assert not beyond, f"{action}: the record declares {beyond} beyond the vocabulary"


def test_every_schema_action_has_a_record() -> None:
    assert set(STEP_ACTIONS) <= set(RECORDS)


def _step(action: str, fields: dict[str, object]) -> StepResult:
    return StepResult(index=0, title="s", action=action, status=Status.PASSED, duration_s=0.1, fields=fields)


def test_records_read_back_from_results_json_typed_and_in_order(tmp_path: Path) -> None:
    run = run_result()
    steps = (
        _step("call", {"answer": 42, "output": "hi", "error": None, "duration_ms": 1.5,
                       "worker": {"pid": 7, "index": 1, "calls": 3, "restarts": 0}, "provider": "echo"}),
        _step("exec", {"stdout": "out\n", "stderr": "", "exit_code": 3, "signal": None, "timed_out": False,
                       "duration_ms": 2, "pid": 99, "tests": {"total": 2, "failed": 1}, "error": None}),
        _step("load", {"requests": 10, "failed": 1, "rps": "Infinity", "success_rate": 0.9,
                       "latency_ms": {"p50": 2.0, "max": 5}, "histogram": [[5, 3]]}),
        _step("parallel", {"steps": [{"title": "a", "status": "passed", "duration_ms": 1}], "duration_ms": 3}),
    )
    case = replace(run.cases[0], attempts=(replace(run.cases[0].attempts[0], steps=steps),))
    write_json(replace(run, cases=(case,)), tmp_path / "results.json")
    call, exe, load, par = read_json(tmp_path / "results.json").cases[0].steps

    assert isinstance(call.fields, CallFields) and call.fields.output == "hi" and call.fields.provider == "echo"
    assert call.fields.worker == WorkerRef(pid=7, pool_index=1, calls=3, restarts=0)
    assert call.fields.returned == {"answer": 42}  # the provider's own keys, which no record declares
    assert list(call.fields) == ["answer", "output", "error", "duration_ms", "worker", "provider"]
    assert call.fields["answer"] == 42  # the name lookup assertions and `expr` use
    assert isinstance(exe.fields, ExecFields) and exe.fields.exit_code == 3 and exe.fields.stdout == "out\n"
    assert exe.fields.tests is not None and (exe.fields.tests.total, exe.fields.tests.failed) == (2, 1)
    assert isinstance(load.fields, LoadFields) and load.fields.summary is not None
    summary = load.fields.summary
    assert summary.errors == 1 and summary.rps is None  # a number that cannot be drawn is None
    assert dict(summary.latency_ms) == {"min": None, "mean": None, "p50": 2.0, "p95": None, "p99": None, "max": 5.0}
    assert summary.histogram == (("≤ 5", 3.0),)
    assert isinstance(par.fields, ParallelFields) and par.fields.steps[0].title == "a"


def test_a_value_of_the_wrong_type_reads_as_none() -> None:
    fields = step_fields("exec", {"exit_code": "3", "stdout": ["x"], "pid": True, "worker": [1]})
    assert (fields.exit_code, fields.stdout, fields.pid, fields.worker) == (None, None, None, None)
    assert fields["exit_code"] == "3"  # stored as it was


def test_a_plain_mapping_given_to_a_step_becomes_its_actions_record() -> None:
    step = _step("exec", {"stdout": "x"})
    assert isinstance(step.fields, ExecFields) and step.fields == {"stdout": "x"}
    assert isinstance(replace(step, fields={"exit_code": 0}).fields, ExecFields)
    assert type(_step("leak-check", {}).fields) is StepFields


def test_reports_read_no_step_field_by_string_key() -> None:
    """`x.fields["k"]` or `x.fields.get("k")` in a report is the unwritten contract coming back."""
    found = []
    for path in sorted(REPORT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = node.value if isinstance(node, ast.Subscript) else (
                node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "items", "keys", "values") else None)
            if isinstance(target, ast.Attribute) and target.attr == "fields":
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
