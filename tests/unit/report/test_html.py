from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.report.html import render_html, unpack_json, write_html
from orchestrator.report.html_parts import script_text
from orchestrator.result.model import GateResult, RunResult

from .factory import MARKUP, SCRIPT, many_cases, run_result

DATA = re.compile(r'<script type="application/octet-stream" id="case-data" data-encoding="deflate\+base64">(.*?)</script>',
                  re.S)
ROWS = re.compile(r'<script type="application/json" id="case-rows">(.*?)</script>', re.S)
SVG_NS = "http://www.w3.org/2000/svg"  # a namespace name for createElementNS, never fetched


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("html") / "report.html"
    write_html(run_result(hostile=True, big=True), path)
    return path.read_bytes().decode("utf-8")  # strict: a lone surrogate would fail here


def embedded(html: str) -> list[dict[str, object]]:
    match = DATA.search(html)
    assert match
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", match.group(1)), "only base64 between the script tags"
    data: list[dict[str, object]] = unpack_json(match.group(1))
    return data


def rows(html: str) -> list[list[object]]:
    match = ROWS.search(html)
    assert match and not re.search("[<>&]", match.group(1))
    data: list[list[object]] = json.loads(match.group(1))
    return data


def test_no_external_resources(hostile_html: str) -> None:
    hostile_html = hostile_html.replace(f'"{SVG_NS}"', "")
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//""", hostile_html, re.I)
    assert "http://" not in hostile_html and "https://" not in hostile_html
    assert "@import" not in hostile_html and not re.search(r"url\(", hostile_html)


def test_hostile_markup_appears_only_escaped(hostile_html: str) -> None:
    assert SCRIPT not in hostile_html and MARKUP not in hostile_html
    assert hostile_html.count("<script") == 4  # three data blocks and our own code, nothing else
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_html  # the plan title in the header
    assert rows(hostile_html)[0][2].startswith("passes nul\\x00")  # type: ignore[union-attr]
    assert "&lt;b&gt;bold&lt;/b&gt;" in hostile_html


def test_embedded_json_cannot_end_the_script_and_keeps_the_text(hostile_html: str) -> None:
    block = DATA.search(hostile_html)
    assert block and not re.search("[<>&\u2028\u2029]", block.group(1))
    data = embedded(hostile_html)
    stderr = data[0]["attempts"][0]["stderr"]  # type: ignore[index]
    assert SCRIPT in stderr and "]]>" in stderr and "😀" in stderr and "\\x1b" in stderr and "\\ud800" in stderr
    assert script_text(["</script>\u2028"]) == '["\\u003c/script\\u003e\\u2028"]'


def test_header_shows_gate_rules_counts_and_duration(hostile_html: str) -> None:
    assert ">FAILED</span>" in hostile_html
    assert "pass_rate[P0] &gt;= 100%" in hostile_html and "0/1 passed (0%)" in hostile_html
    assert re.search(r'<li class="failed"><span class="mono">pass_rate', hostile_html)
    assert re.search(r'<li class="passed"><span class="mono">max_flaky', hostile_html)
    assert "took 3.21s" in hostile_html
    for status in ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "flaky", "interrupted"):
        assert f'class="status-filter" value="{status}" checked' in hostile_html
    assert 'id="search"' in hostile_html


def test_table_has_one_row_per_case_with_its_columns(hostile_html: str) -> None:
    table = rows(hostile_html)
    assert [r[0] for r in table] == ["passed", "failed", "error", "skipped", "xfailed", "xpassed", "flaky",
                                     "interrupted", "failed"]
    status, cid, name, why, priority, level, tags, seconds, plan, covers = table[1]
    assert (cid, priority, level, tags, seconds, plan) == ("C-2", "P0", "e2e", ["smoke"], 0.12, "smoke")
    assert covers == list(run_result(hostile=True).cases[1].covers)
    assert str(why).startswith("assertion failed") and "second line" not in str(why)
    for select in ("priority", "level", "tag", "plan"):
        assert f'id="filter-{select}"' in hostile_html
    assert '<option value="P0">P0</option>' in hostile_html and '<option value="other">other</option>' in hostile_html


def test_details_hold_steps_assertions_errors_output_and_attempts(hostile_html: str) -> None:
    data = embedded(hostile_html)
    failed = data[1]["attempts"][0]["steps"][1]  # type: ignore[index]
    bad = failed["assertions"][1]
    assert (bad["kind"], bad["passed"], bad["expected"]) == ("contains", False, '"want"')
    assert bad["actual"].startswith('"got nul\\u0000')
    assert failed["worker"] == "pid 4242 · index 1"
    error = data[2]["attempts"][0]["steps"][1]["error"]  # type: ignore[index]
    assert error["type"] == "ValueError" and "Traceback" in error["traceback"]
    assert [a["status"] for a in data[6]["attempts"]] == ["failed", "passed"]  # type: ignore[index]
    assert [a["job"] for a in data[6]["attempts"]] == [1, 2]  # type: ignore[index]
    stdout = data[0]["attempts"][0]["stdout"]  # type: ignore[index]
    assert "characters truncated; full output in results.json" in stdout and len(stdout) < 70_000


def test_worker_table(hostile_html: str) -> None:
    assert '<table id="workers">' in hostile_html
    assert "crashed: SIGKILL" in hostile_html and "57.2 MiB" in hostile_html and "120 ms" in hostile_html
    no_workers = render_html(replace(run_result(), workers=()))
    assert '<table id="workers">' not in no_workers


def test_lone_surrogates_everywhere_do_not_crash(tmp_path: Path) -> None:
    run = run_result(hostile=True)
    nasty = replace(run, plans=tuple(replace(p, title="\ud800" + p.title, name="\udfff") for p in run.plans),
                    version="\ud800", gate=GateResult(False, tuple(replace(r, rule="\udc80") for r in run.gate.rules)))
    write_html(nasty, tmp_path / "r.html")
    text = (tmp_path / "r.html").read_bytes().decode("utf-8")
    assert "\\ud800" in text


def test_gate_passed_and_empty_run() -> None:
    html = render_html(run_result(gate_passed=True))
    assert ">PASSED</span>" in html
    empty = RunResult(plans=(), cases=(), gate=GateResult(True), started_at=0.0, duration_s=0.0)
    assert "No cases ran." in render_html(empty)


def test_ten_thousand_cases_stay_light(tmp_path: Path) -> None:
    run = many_cases(10_000)
    start = time.perf_counter()
    write_html(run, tmp_path / "big.html")
    elapsed = time.perf_counter() - start
    html = (tmp_path / "big.html").read_text(encoding="utf-8")
    assert len(rows(html)) == 10_000
    assert len(embedded(html)) == 10_000
    assert elapsed < 15, f"{elapsed:.1f}s"
    assert (tmp_path / "big.html").stat().st_size < 20 * 2**20


@pytest.mark.parametrize("duration", [float("inf"), float("-inf"), float("nan")])
def test_a_duration_that_is_not_a_number_of_seconds_is_shown_as_a_dash(tmp_path: Path, duration: float) -> None:
    """A hand-edited or damaged results.json ("Infinity") must not cost the HTML report."""
    run = run_result()
    case = run.cases[0]
    attempts = tuple(replace(a, duration_s=duration) for a in case.attempts)
    broken = replace(run, cases=(replace(case, duration_s=duration, attempts=attempts), *run.cases[1:]))
    write_html(broken, tmp_path / "r.html")
    details = embedded((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert details[0]["attempts"] and all(a["duration"] == "–" for a in details[0]["attempts"])
