"""The JSON report is the results store itself: `results.json`, readable by `orchestrator report`.

Its published JSON Schema is `orchestrator/schema/results-v1.json` (shipped as package data; it
describes format 2, the file name kept for the links that point at it).
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from orchestrator.result import journal_texts
from orchestrator.result.model import RunResult
from orchestrator.result.store import PathLike, write_json


def write_results(run: RunResult, path: PathLike) -> None:
    """Save the run as `results.json`: compact JSON (the indented form takes 5x longer to write),
    its cases' texts taken from the run's journal where a session lends them (journal_texts)."""
    write_json(run, path, texts=journal_texts.active())


@lru_cache(maxsize=1)
def results_schema() -> dict[str, Any]:
    """The JSON Schema every `results.json` of format 1 validates against."""
    text = resources.files("orchestrator").joinpath("schema/results-v1.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
