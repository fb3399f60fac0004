"""The HTML report as a person uses it, in real headless Chromium, opened from disk."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import pytest

from orchestrator.report.html import write_html
from orchestrator.result.model import GateResult, GateRule, PlanInfo, RiskInfo, RunResult, Status, StepResult

from tests.unit.report.factory import many_cases, run_result

PWN = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
Open = Callable[[Path], Any]


def shown_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all("#cases tbody tr.case td.mono", "els => els.map(e => e.textContent)")


def hostile_run() -> RunResult:
    run = run_result(hostile=True)
    load = StepResult(index=0, title=f"burst {PWN}", action="load", status=Status.PASSED, duration_s=1.0,
                      fields={"requests": 10, "latency_ms": {"min": 1, "mean": 2, "p50": 2, "p95": 3, "p99": 4, "max": 5},
                              "histogram": {PWN: 3}})
    cases = tuple(replace(c, id=f"{c.id}{PWN}" if i == 0 else c.id, name=f"{c.name} {PWN}", message=f"{c.message} {PWN}",
                          tags=c.tags + (PWN,), covers=c.covers + (PWN,),
                          attempts=tuple(replace(a, stdout=a.stdout + PWN, stderr=PWN, message=PWN,
                                                 steps=a.steps + (load,)) for a in c.attempts))
                  for i, c in enumerate(run.cases))
    plans = (replace(run.plans[0], title=PWN, requirements={"AC-1": PWN, PWN: PWN}, risks={"RISK-1": RiskInfo(PWN)}),
             *run.plans[1:])
    gate = GateResult(False, (GateRule(PWN, False, PWN),))
    return replace(run, cases=cases, plans=plans, gate=gate, command=PWN, version=PWN)


def test_hostile_output_stays_text_and_runs_no_script(tmp_path: Path, open_report: Open) -> None:
    path = tmp_path / "hostile.html"
    write_html(hostile_run(), path)
    report = open_report(path)
    page = report.page
    for i in range(page.locator("#cases tbody tr.case").count()):  # open every case's details
        page.locator("#cases tbody tr.case").nth(i).click()
    page.locator("#timeline summary").click()
    page.wait_for_selector("#timeline svg rect")
    assert page.locator("#cases tbody tr.detail-row").count() == 9
    body = page.inner_text("body")
    assert "window.__pwned=1</script><img src=x" in body  # visible as text, where a person can read it
    assert page.locator("img").count() == 0 and page.locator("script").count() == 4
    report.assert_clean()


def test_filters_search_and_paging_on_ten_thousand_cases(tmp_path: Path, open_report: Open) -> None:
    path = tmp_path / "many.html"
    write_html(many_cases(10_000), path)
    report = open_report(path)
    page = report.page
    assert page.locator("#cases tbody tr.case").count() == 100
    assert page.inner_text("#page") == "page 1 of 100"
    page.click("#next")
    assert shown_ids(page)[0] == "M-100"
    page.uncheck("input.status-filter[value='passed']")
    assert page.inner_text("#shown") == "1000 of 10000 shown"
    assert set(page.eval_on_selector_all("#cases tbody tr.case", "els => els.map(e => e.dataset.status)")) == {"failed"}
    page.check("input.status-filter[value='passed']")
    page.fill("#search", "case number 9999")
    page.wait_for_function("document.getElementById('shown').textContent === '1 of 10000 shown'")
    assert shown_ids(page) == ["M-9999"]
    report.assert_clean()


def test_a_requirement_with_many_cases_lists_twenty_and_draws_the_rest_on_demand(tmp_path: Path,
                                                                               open_report: Open) -> None:
    run = many_cases(30)
    run = replace(run, cases=tuple(replace(c, covers=("AC-1",) + (("AC-2",) if i % 3 == 0 else ()))
                                   for i, c in enumerate(run.cases)),
                  plans=(replace(run.plans[0], requirements={"AC-1": "covered thirty times", "AC-2": "ten"}),))
    path = tmp_path / "trace.html"
    write_html(run, path)
    report = open_report(path)
    page = report.page
    chips = page.locator("#trace tbody tr", has_text="AC-1").locator("button.open-case")
    assert chips.count() == 20
    page.click("#trace button.more-cases")
    assert chips.count() == 30 and page.locator("#trace button.more-cases").count() == 0
    page.fill("#search", "ac-2")  # search finds cases by the requirement they cover
    page.wait_for_function("document.getElementById('shown').textContent === '10 of 30 shown'")
    page.locator("#trace button.open-case", has_text="M-25").click()
    assert page.locator("#cases tbody tr.case.open", has_text="M-25").count() == 1
    report.assert_clean()


def test_priority_level_tag_filters_details_and_matrix_links(tmp_path: Path, open_report: Open) -> None:
    path = tmp_path / "r.html"
    write_html(run_result(), path)
    report = open_report(path)
    page = report.page
    page.select_option("#filter-priority", "P0")
    assert shown_ids(page) == ["C-2"]
    page.select_option("#filter-priority", "")
    page.select_option("#filter-level", "e2e")
    assert "C-3" not in shown_ids(page) and len(shown_ids(page)) == 8
    page.select_option("#filter-level", "")
    page.select_option("#filter-tag", "smoke")
    assert "C-4" not in shown_ids(page)  # C-4 has no tags
    page.select_option("#filter-tag", "")
    page.select_option("#filter-plan", "other")
    assert shown_ids(page) == ["C-7", "C-8", "C-9"]
    page.select_option("#filter-plan", "")

    page.locator("#cases tbody tr.case", has_text="C-7").click()  # flaky: both attempts, assertions, outputs
    detail = page.locator("#cases tbody tr.detail-row").inner_text()
    assert "attempt 1 of 2" in detail and "attempt 2 of 2" in detail and "first try" in detail
    assert '"want"' in detail and "stdout does not contain" in detail and "peak RSS 47.7 MiB" in detail
    assert "job 1" in detail and "job 2" in detail and "worker pid 4242" in detail

    page.locator("#matrix button.show[data-priority='P0']").click()  # the matrix cell filters the table
    assert shown_ids(page) == ["C-2"]
    page.locator("#ranking button.open-case").first.click()  # the ranking opens a case, clearing filters
    assert page.locator("#cases tbody tr.detail-row").count() >= 1
    page.locator("#trace button.open-case", has_text="C-3").click()
    assert page.locator("#cases tbody tr.case.open", has_text="C-3").count() == 1
    report.assert_clean()


SHIPPED = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "plans").glob("*.yaml"))


@pytest.mark.parametrize("plan", SHIPPED)
def test_every_shipped_plan_report_opens_and_filters(plan: str, shipped_reports: dict[str, Path],
                                                     open_report: Open) -> None:
    report = open_report(shipped_reports[plan] / "report.html")
    page = report.page
    total = page.locator("#cases tbody tr.case").count()
    assert total > 0 and page.inner_text("#shown") == f"{total} cases"
    for box in page.locator("input.status-filter").all():  # each status alone shows only that status
        status = box.get_attribute("value")
        for other in page.locator("input.status-filter").all():
            other.set_checked(other.get_attribute("value") == status)
        statuses = set(page.eval_on_selector_all("#cases tbody tr.case", "els => els.map(e => e.dataset.status)"))
        assert statuses == {status}
    for other in page.locator("input.status-filter").all():
        other.check()
    first = shown_ids(page)[0]
    page.fill("#search", first)
    page.wait_for_function(f"document.querySelectorAll('#cases tbody tr.case').length < {total} || {total} == 1")
    assert first in shown_ids(page)
    page.locator("#cases tbody tr.case").first.click()
    assert page.locator("#cases tbody tr.detail-row .step").count() >= 1
    assert page.locator("#trace tbody tr").count() >= 1  # shipped plans declare requirements
    page.locator("#timeline summary").click()
    page.wait_for_selector("#timeline svg rect")
    if plan == "pool-resilience":  # its load steps: percentiles and a histogram that adds up
        section = page.locator("#load-section")
        assert section.locator("table.lat:not(.hist)").count() >= 4
        first = section.locator("table.hist").first
        counts = [int(t) for t in first.locator("td.num").all_inner_texts()]
        meta = section.locator(".meta").first.inner_text()
        assert sum(counts) == int(meta.split(" requests")[0]), meta
        assert first.locator(".bar").first.is_visible()
    report.assert_clean()


def test_a_browser_without_decompression_streams_says_why_details_are_missing(tmp_path: Path,
                                                                              browser_context: Any) -> None:
    path = tmp_path / "old-browser.html"
    write_html(many_cases(3), path)
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.add_init_script("delete window.DecompressionStream;")
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']")
        page.locator("#cases tbody tr.case").first.click()
        assert "cannot unpack the case details" in page.inner_text("#cases tbody tr.detail-row")
        assert page.locator("#cases tbody tr.case").count() == 3  # the table itself still works
        assert errors == []
    finally:
        page.close()


def test_case_ids_stay_on_one_line_and_filters_with_one_value_are_hidden(tmp_path: Path, open_report: Open) -> None:
    run = many_cases(12)  # one plan, every case P1, level e2e and tag smoke
    long_name = "a-name-without-spaces-" * 6
    run = replace(run, cases=tuple(replace(c, id=f"F-{i:03d}", name=f"{long_name} {i}", tags=("smoke",))
                                   for i, c in enumerate(run.cases)))
    path = tmp_path / "narrow.html"
    write_html(run, path)
    report = open_report(path)
    page = report.page
    page.set_viewport_size({"width": 420, "height": 800})
    lines = page.eval_on_selector_all(
        "#cases tbody tr.case td.mono",  # the id cell
        "els => els.map(e => { const r = document.createRange(); r.selectNodeContents(e); "
        "return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; })")
    assert len(lines) == 12 and set(lines) == {1}  # F-001, never F- / 001
    assert page.locator("select.field-filter").count() == 0  # one plan, one priority, one level, one tag
    assert page.locator("input.status-filter").count() >= 1
    report.assert_clean()

    mixed = replace(run, cases=tuple(replace(c, priority="P0" if i == 0 else "P1", plan="other" if i == 1 else c.plan)
                                     for i, c in enumerate(run.cases)),
                    plans=(*run.plans, PlanInfo("other", "Other", "plans/other.yaml")))
    write_html(mixed, path)
    report = open_report(path)
    assert sorted(report.page.eval_on_selector_all("select.field-filter", "els => els.map(e => e.id)")) == [
        "filter-plan", "filter-priority"]
    report.assert_clean()
