"""`report` packs the HTML's case details in a forked child while it writes JUnit and the rest
(cli/results, procs/forked): the same bytes as the writers in turn, whatever happens to the child,
and a report that cannot be written still ends in exit 3 naming it."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import psutil
import pytest

from orchestrator.cli import main
from orchestrator.cli import results as results_cli
from orchestrator.cli.results import read_results
from orchestrator.procs import forked
from orchestrator.report import html_parts
from orchestrator.report.writers import write_all
from orchestrator.result.model import RunResult
from orchestrator.result.store import write_json
from tests.support import count_forks
from tests.unit.report.factory import run_result


@pytest.fixture
def results(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "results.json"
    write_json(run_result(hostile=True), path)
    return path


@pytest.fixture
def forkable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earlier tests of the suite may have left daemon threads in this process (the capture
    janitor), and `report` would write in turn: what it does here never touches them. Nor
    would it fork for the few cases used here (FORK_FROM_CASES), or on one core."""
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    monkeypatch.setattr(results_cli, "_worth_forking", lambda run: True)


def _children_since(earlier: set[int]) -> list[int]:
    return [p.pid for p in psutil.Process().children() if p.pid not in earlier]


@pytest.fixture
def earlier() -> set[int]:
    """This process's children before the test (earlier tests' watchdogs are not its own)."""
    return {p.pid for p in psutil.Process().children()}


@pytest.mark.parametrize("flavor", ["default", "strict"])
def test_reports_written_side_by_side_are_the_bytes_written_in_turn(results: Path, tmp_path: Path, flavor: str,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     forkable: None, earlier: set[int]) -> None:
    forks = count_forks(monkeypatch)
    assert main(["report", str(results), "--out", str(tmp_path / "forked"), "--junit-flavor", flavor]) == 1
    assert forks == [1]
    in_turn = tmp_path / "in-turn"
    write_all(read_results(results), in_turn / "junit.xml", in_turn / "report.html", None, junit_flavor=flavor)
    for name in ("junit.xml", "report.html"):
        assert (tmp_path / "forked" / name).read_bytes() == (in_turn / name).read_bytes(), name
    assert not _children_since(earlier)


def test_with_a_thread_running_the_reports_are_written_in_turn(results: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    forks = count_forks(monkeypatch)
    monkeypatch.setattr(results_cli, "FORK_FROM_CASES", 1)  # the thread alone keeps it from forking
    monkeypatch.setattr(forked, "spare_core", lambda: True)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert main(["report", str(results), "--out", str(tmp_path)]) == 1
    finally:
        release.set()
        other.join()
    assert forks == []
    out = capsys.readouterr().out
    assert f"Report written: {tmp_path / 'junit.xml'}\nReport written: {tmp_path / 'report.html'}\n" in out
    assert (tmp_path / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_a_junit_path_that_cannot_be_written_is_named_and_exits_3(results: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  forkable: None, earlier: set[int]) -> None:
    junit = tmp_path / "junit.xml"
    junit.mkdir()  # a folder where the file should go: the rename into place fails
    assert main(["report", str(results), "--junit", str(junit), "--html", str(tmp_path / "r.html")]) == 3
    captured = capsys.readouterr()
    assert f"orchestrator: cannot write JUnit report {junit}: Is a directory" in captured.err
    assert f"Report written: {tmp_path / 'r.html'}" in captured.out
    assert f"Report written: {junit}" not in captured.out
    assert (tmp_path / "r.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not _children_since(earlier)


def test_an_html_path_that_cannot_be_written_is_named_and_exits_3(results: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  forkable: None, earlier: set[int]) -> None:
    html = tmp_path / "report.html"
    html.mkdir()
    assert main(["report", str(results), "--junit", str(tmp_path / "j.xml"), "--html", str(html)]) == 3
    captured = capsys.readouterr()
    assert f"orchestrator: cannot write HTML report {html}: Is a directory" in captured.err
    assert f"Report written: {tmp_path / 'j.xml'}" in captured.out and f"Report written: {html}" not in captured.out
    assert "</testsuites>" in (tmp_path / "j.xml").read_text(encoding="utf-8")
    assert not _children_since(earlier)


@pytest.mark.parametrize("how", ["killed", "raises"])
def test_when_the_child_fails_the_details_are_made_here_and_the_html_is_the_same(
        results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forkable: None, earlier: set[int],
        how: str) -> None:
    me = os.getpid()
    real = html_parts.PARTS["data"]
    made_here: list[int] = []

    def failing_in_the_child(run: RunResult) -> str:  # the details
        if os.getpid() != me:  # only ever the child: this process must live
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise MemoryError("no room for the details")
        made_here.append(1)
        return real(run)
    monkeypatch.setitem(html_parts.PARTS, "data", failing_in_the_child)
    forks = count_forks(monkeypatch)
    assert main(["report", str(results), "--out", str(tmp_path / "forked")]) == 1
    assert forks == [1] and made_here == [1]  # the child did not send them: this process made them
    in_turn = tmp_path / "in-turn"
    write_all(read_results(results), in_turn / "junit.xml", in_turn / "report.html", None)
    for name in ("junit.xml", "report.html"):
        assert (tmp_path / "forked" / name).read_bytes() == (in_turn / name).read_bytes(), name
    assert not _children_since(earlier)


def test_few_cases_or_one_core_are_written_in_turn(results: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    forks = count_forks(monkeypatch)
    assert main(["report", str(results), "--out", str(tmp_path / "few")]) == 1  # 9 cases
    monkeypatch.setattr(results_cli, "FORK_FROM_CASES", 1)
    monkeypatch.setattr(forked, "spare_core", lambda: False)
    assert main(["report", str(results), "--out", str(tmp_path / "one-core")]) == 1
    assert forks == []
    monkeypatch.setattr(forked, "spare_core", lambda: True)
    assert main(["report", str(results), "--out", str(tmp_path / "forked")]) == 1
    assert forks == [1]
    for name in ("junit.xml", "report.html"):
        assert (tmp_path / "few" / name).read_bytes() == (tmp_path / "forked" / name).read_bytes()


def test_a_corrupt_results_file_is_still_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"format": 2, "cases": [{"id": 1}]}', encoding="utf-8")
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"orchestrator: error: {bad}: corrupt results file")
    assert not (tmp_path / "junit.xml").exists()
