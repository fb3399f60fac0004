from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from orchestrator.report.json_report import results_schema, write_results
from orchestrator.result.model import RunResult
from orchestrator.result.store import run_json_chunks

from .factory import run_result


def validate(path: Path) -> None:
    jsonschema.Draft202012Validator(results_schema()).validate(json.loads(path.read_text(encoding="utf-8")))


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(results_schema())


def test_written_results_validate_hostile_text_included(tmp_path: Path) -> None:
    write_results(run_result(hostile=True), tmp_path / "r.json")
    validate(tmp_path / "r.json")


def test_the_schema_rejects_what_report_cannot_read(tmp_path: Path) -> None:
    data = json.loads("".join(run_json_chunks(run_result())))
    data["cases"][0]["status"] = "exploded"
    with pytest.raises(jsonschema.ValidationError, match="exploded"):
        jsonschema.validate(data, results_schema())
    del data["gate"]
    with pytest.raises(jsonschema.ValidationError, match="gate"):
        jsonschema.validate(data, results_schema())


def test_every_model_field_is_described() -> None:
    from dataclasses import fields

    from orchestrator.result import model

    defs = results_schema()["$defs"]
    pairs = {"plan": model.PlanInfo, "case": model.CaseResult, "attempt": model.Attempt, "step": model.StepResult,
             "assertion": model.AssertionResult, "error": model.ErrorInfo, "worker": model.WorkerStats}
    for name, cls in pairs.items():
        assert {f.name for f in fields(cls)} <= set(defs[name]["properties"]), name
    assert {f.name for f in fields(RunResult)} <= set(results_schema()["properties"])
