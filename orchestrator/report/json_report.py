"""The JSON report is the results store itself: `results.json`, readable by `orchestrator report`."""
from __future__ import annotations

from orchestrator.result.model import RunResult
from orchestrator.result.store import PathLike, write_json


def write_results(run: RunResult, path: PathLike) -> None:
    write_json(run, path)
