from __future__ import annotations

from dataclasses import replace

from orchestrator.report.html import render_html
from orchestrator.report.html_sections import duration_ranking, load_steps, regression_matrix, timeline, traceability
from orchestrator.result.model import PlanInfo, Status, StepResult

from .factory import HOSTILE, run_result


def test_regression_matrix_counts_level_priority_and_status() -> None:
    matrix = regression_matrix(run_result().cases)
    by_key = {(r["level"], r["priority"]): r for r in matrix["rows"]}
    assert matrix["statuses"][0] == "passed"
    e2e_p1 = by_key[("e2e", "P1")]
    assert e2e_p1["verdict"] == "fail" and e2e_p1["total"] == 7
    assert by_key[("e2e", "P0")]["counts"][matrix["statuses"].index("failed")] == 1
    assert by_key[("", "P1")]["total"] == 1  # C-3 has no level: its own row, shown as "—"
    html = render_html(run_result())
    assert '<table id="matrix">' in html and "✘ 0/1" in html


def test_traceability_flags_uncovered_requirements_and_risks() -> None:
    run = run_result()
    plans = (replace(run.plans[0], requirements={"AC-1": "works", "AC-2": "nobody tests this"}),) + run.plans[1:]
    rows = {r["id"]: r for r in traceability(replace(run, plans=plans))}
    assert rows["AC-1"]["verdict"] == "failing"  # C-2 covers it and failed
    assert [c["id"] for c in rows["AC-1"]["cases"]][:3] == ["C-1", "C-2", "C-3"]
    assert rows["AC-2"]["verdict"] == "uncovered" and rows["AC-2"]["cases"] == []
    assert rows["RISK-1"]["kind"] == "risk" and rows["RISK-1"]["verdict"] == "uncovered"  # no case covers RISK-1
    html = render_html(replace(run, plans=plans))
    assert '<tr class="uncovered">' in html and "nobody tests this" in html


def test_timeline_and_ranking() -> None:
    run = run_result()
    t = timeline(run)
    assert t["jobs"] == [0, 1, 2] and len(t["bars"]) == sum(len(c.attempts) for c in run.cases)
    assert all(b[2] == 0.0 for b in t["bars"])  # every factory attempt starts at the same instant
    ranking = duration_ranking(run.cases)
    assert ranking[0]["duration"] >= ranking[-1]["duration"] and ranking[0]["pct"] == 100.0


def test_load_step_percentiles_and_histograms_render_escaped() -> None:
    run = run_result()
    fields = {"requests": 200, "errors": 1, "rps": 95.5, "success_rate": 0.995,
              "latency_ms": {"min": 1.0, "mean": 4.2, "p50": 3.9, "p95": 9.0, "p99": 12.5, "max": 20.0},
              "histogram": [[5, 120], [10, 70], [50, 10]]}
    step = StepResult(index=0, title=f"burst {HOSTILE}", action="load", status=Status.PASSED, duration_s=2.0,
                      fields=fields)
    case = replace(run.cases[0], attempts=(replace(run.cases[0].attempts[0], steps=(step,)),))
    [load] = load_steps([case])
    assert [p["name"] for p in load["latency"]] == ["min", "mean", "p50", "p95", "p99", "max"]
    assert load["latency"][-1]["pct"] == 100.0 and load["histogram"][0] == {"label": "≤ 5", "count": 120, "pct": 100.0}
    html = render_html(replace(run, cases=(case,) + run.cases[1:]))
    assert 'id="load-section"' in html and "95.5 req/s" in html and "12.5" in html
    assert "<script>alert(1)" not in html
    assert load_steps([replace(case, attempts=())]) == []


def test_histogram_shapes() -> None:
    from orchestrator.result.step_fields import histogram_buckets

    assert [label for label, _ in histogram_buckets({"bounds_ms": [1, 2], "counts": [3, 4, 5]})] == ["≤ 1", "≤ 2", "> 2"]
    assert [count for _, count in histogram_buckets([{"le": 5, "count": 2}, {"le": 10, "count": 1}])] == [2, 1]
    assert histogram_buckets({"0-5": 7})[0][0] == "0-5" and histogram_buckets("junk") == ()
    assert PlanInfo("p", "P", "p.yaml").requirements == {}
