"""The load step as a plan author uses it: statistics, warm-up, correlation, through the CLI."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.conftest import orchestrator

from .conftest import SCENARIOS


def _run(tmp_path: Path, providers: str, steps: str) -> tuple[int, str, dict[str, Any]]:
    plan = tmp_path / "load.yaml"
    plan.write_text(f"version: 1\nname: load-test\nproviders:\n{providers}\ncases:\n"
                    f"  - id: L-1\n    name: load\n    steps:\n{steps}", encoding="utf-8")
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"))
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    return done.returncode, done.stdout + done.stderr, results


def _fields(results: dict[str, Any], step: int = 0) -> dict[str, Any]:
    return dict(results["cases"][0]["attempts"][-1]["steps"][step]["fields"])


def test_statistics_warmup_and_correlation(tmp_path: Path, no_new_workers: None) -> None:
    code, out, results = _run(
        tmp_path, f"  echo: {{python: {SCENARIOS / 'correlated.py'}, workers: 2}}",
        "      - load: {call: echo, prompt: 'q{{ i }}', requests: 50, concurrency: 4, warmup: 5}\n"
        "        expect:\n"
        "          - expr: \"success_rate >= 0.99 and latency_ms.p99 < 5000\"\n"
        "          - expr: \"errors == 0\"\n"  # a count: all 50 succeeded
        "          - max_ms: 5000\n")
    assert code == 0, out
    fields = _fields(results)
    assert fields["requests"] == 50 and fields["errors"] == 0 and fields["errors_by_type"] == {} and fields["success_rate"] == 1
    lat = fields["latency_ms"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["min"] <= lat["mean"] <= lat["max"]
    hist = fields["histogram"]
    assert sum(hist["counts"]) == 50 and hist["counts"][0] > 0 and hist["counts"][-1] > 0
    assert hist["bounds_ms"] == sorted(hist["bounds_ms"]) and hist["bounds_ms"][-1] >= lat["max"] > 0
    assert fields["rps"] > 0 and fields["correlation"] == {"checked": 50, "mismatched": 0}
    assert sum(w["calls"] for w in results["workers"] if w["provider"] == "echo") == 55  # warm-up ran, uncounted
    assert {a["on"] for a in results["cases"][0]["attempts"][-1]["steps"][0]["assertions"]} >= {"latency_ms.p95"}


def test_answers_for_another_request_are_correlation_errors(tmp_path: Path, no_new_workers: None) -> None:
    code, out, results = _run(
        tmp_path, f"  mixed: {{python: {SCENARIOS / 'misanswer.py'}}}",
        "      - load: {call: mixed, prompt: p, requests: 30}\n"
        "        expect: [{expr: \"success_rate >= 0.99\"}]\n")
    assert code == 1, out
    fields = _fields(results)
    assert fields["errors"] == 10 and fields["errors_by_type"] == {"CorrelationError": 10}
    assert fields["success_rate"] == round(20 / 30, 6)
    assert fields["error_samples"][0].startswith("CorrelationError: request ")
    assert "success_rate" in out  # the failed expr names the value that made it false


def test_duration_bounded_load_and_errors_by_type(tmp_path: Path, no_new_workers: None) -> None:
    code, out, results = _run(
        tmp_path, f"  busy: {{python: {SCENARIOS / 'correlated.py'}, workers: 1, queue_timeout: 100ms,"
                  f" config: {{delay: 0.3}}}}",
        "      - load: {call: busy, prompt: p, duration: 1s, concurrency: 3}\n"
        "        expect: [{expr: \"errors_by_type.PoolBusy >= 2 and errors >= 2 and success_rate < 1\"}]\n")
    assert code == 0, out
    fields = _fields(results)
    assert set(fields["errors_by_type"]) == {"PoolBusy"}
    assert 0.9 <= fields["duration_ms"] / 1000 < 3
