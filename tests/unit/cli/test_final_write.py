"""`run`'s final write (cli/final_write): a forked child makes the HTML page's heaviest parts
beside results.json, JUnit and the rest of the page, even with the run's threads alive; the same
bytes as the writers in turn, whatever happens to the child, and a signal the child gets is never
taken for the run's own."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import psutil
import pytest

from orchestrator.cli import final_write
from orchestrator.cli.final_write import write_final
from orchestrator.cli.interrupts import Interrupts
from orchestrator.procs import forked
from orchestrator.report.writers import write_all
from orchestrator.result.model import RunResult
from tests.support import count_forks, poll
from tests.unit.report.factory import run_result

NAMES = ("results.json", "junit.xml", "report.html")


@pytest.fixture
def earlier() -> set[int]:
    """This process's children before the test (earlier tests' watchdogs are not its own)."""
    return {p.pid for p in psutil.Process().children()}


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every fork counted; a run of any size forks (FORK_FROM_CASES), as on a machine with a spare core."""
    monkeypatch.setattr(final_write, "FORK_FROM_CASES", 1)
    monkeypatch.setattr(forked, "spare_core", lambda: True)
    monkeypatch.setattr(final_write, "_a_core_is_idle", lambda: True)
    return count_forks(monkeypatch)


@pytest.fixture
def a_thread_runs() -> Iterator[None]:
    """As in a run: other threads (its signal watcher, the capture janitor) are alive at the fork."""
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    yield
    release.set()
    other.join()


def _final(run: RunResult, out: Path, flavor: str = "default") -> tuple[Path, ...]:
    written = write_final(run, out / "junit.xml", out / "report.html", out / "results.json", junit_flavor=flavor)
    assert written.problems == ()
    return written.paths


def _in_turn(run: RunResult, out: Path, flavor: str = "default") -> None:
    assert write_all(run, out / "junit.xml", out / "report.html", out / "results.json", junit_flavor=flavor).problems == ()


def _same_files(a: Path, b: Path) -> None:
    for name in NAMES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert sorted(p.name for p in a.iterdir()) == sorted(NAMES)  # no temporary file left


def _children_since(earlier: set[int]) -> list[int]:
    return [p.pid for p in psutil.Process().children() if p.pid not in earlier]


@pytest.fixture
def made_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The page's parts made in this process (the child's own calls stay in the child's memory)."""
    from orchestrator.report import html_parts

    made: list[str] = []
    for name, make in list(html_parts.PARTS.items()):
        def recording(run: RunResult, name: str = name, make: Any = make) -> str:
            made.append(name)
            return str(make(run))
        monkeypatch.setitem(html_parts.PARTS, name, recording)
    return made


@pytest.mark.parametrize("flavor", ["default", "strict"])
def test_with_threads_running_the_page_s_parts_are_made_by_a_child_and_every_byte_is_the_same(
        tmp_path: Path, forks: list[int], a_thread_runs: None, earlier: set[int], made_here: list[str],
        flavor: str) -> None:
    run = run_result(hostile=True, big=True)
    paths = _final(run, tmp_path / "forked", flavor)
    assert forks == [1]
    assert made_here == []  # the child's
    assert paths == tuple(tmp_path / "forked" / n for n in NAMES)  # the order write_all gives them
    _in_turn(run, tmp_path / "in-turn", flavor)
    _same_files(tmp_path / "forked", tmp_path / "in-turn")
    assert not _children_since(earlier)


def _in_the_child_only(monkeypatch: pytest.MonkeyPatch, what: Any) -> None:
    me = os.getpid()
    real = final_write.parts_made_in_child

    def making(run: RunResult, *args: Any) -> str:
        if os.getpid() != me:  # only ever in the child: this process must live
            what()
        return real(run, *args)
    monkeypatch.setattr(final_write, "parts_made_in_child", making)


def _raise() -> None:
    raise MemoryError("no room for the page")


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _stopped() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize("failure", [_raise, _killed, _stopped], ids=["raises", "killed", "sigterm"])
def test_a_child_that_fails_costs_only_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int],
                                            a_thread_runs: None, earlier: set[int], made_here: list[str],
                                            failure: Any) -> None:
    run = run_result(hostile=True)
    _in_the_child_only(monkeypatch, failure)
    _final(run, tmp_path / "forked")
    assert forks == [1]
    assert sorted(made_here) == ["data", "rows", "timeline"]  # here after all
    _in_turn(run, tmp_path / "in-turn")
    _same_files(tmp_path / "forked", tmp_path / "in-turn")
    assert not _children_since(earlier)


def test_a_child_that_never_ends_is_stopped_and_the_parts_made_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], a_thread_runs: None,
        earlier: set[int]) -> None:
    monkeypatch.setattr(final_write, "_PATIENCE_FLOOR_S", 0.5)
    _in_the_child_only(monkeypatch, lambda: time.sleep(3600))  # as a lock another thread held would
    run = run_result(hostile=True)
    began = time.monotonic()
    _final(run, tmp_path / "forked")
    assert time.monotonic() - began < 10
    _in_turn(run, tmp_path / "in-turn")
    _same_files(tmp_path / "forked", tmp_path / "in-turn")
    assert not _children_since(earlier)


def test_a_signal_the_child_gets_is_not_the_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 forks: list[int], earlier: set[int]) -> None:
    """The child inherits the run's handlers and their wakeup pipe: a SIGTERM sent to the child
    alone (its parent's kill of it, say) must not stop the run as if the run had been sent it."""
    interrupts = Interrupts().install()
    try:
        _in_the_child_only(monkeypatch, _stopped)
        _final(run_result(), tmp_path / "forked")
        assert forks == [1]
        time.sleep(0.2)  # the watcher thread would have read the signal's byte by now
        assert not interrupts.stop.is_set()
    finally:
        interrupts.restore()
    assert not _children_since(earlier)


def test_a_stop_signal_to_the_run_during_the_write_still_gets_every_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], earlier: set[int]) -> None:
    """`run`'s own way: the signal sets `stop` and the reports are still written, by the child too."""
    interrupts = Interrupts().install()
    try:
        _in_the_child_only(monkeypatch, lambda: os.kill(os.getppid(), signal.SIGTERM))  # the run, as its child writes
        run = run_result(hostile=True)
        _final(run, tmp_path / "forked")
        assert poll(interrupts.stop.is_set, within=5)
        assert interrupts.stop.signum == signal.SIGTERM
    finally:
        interrupts.restore()
    _in_turn(run, tmp_path / "in-turn")
    _same_files(tmp_path / "forked", tmp_path / "in-turn")
    assert not _children_since(earlier)


def test_few_cases_or_one_core_are_written_in_turn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  forks: list[int]) -> None:
    run = run_result()
    monkeypatch.setattr(final_write, "FORK_FROM_CASES", len(run.cases) + 1)
    _final(run, tmp_path / "few")
    monkeypatch.setattr(final_write, "FORK_FROM_CASES", 1)
    monkeypatch.setattr(forked, "spare_core", lambda: False)
    _final(run, tmp_path / "one-core")
    monkeypatch.setattr(forked, "spare_core", lambda: True)
    monkeypatch.setattr(final_write, "_a_core_is_idle", lambda: False)
    _final(run, tmp_path / "busy")
    assert forks == []
    _same_files(tmp_path / "few", tmp_path / "one-core")
    _same_files(tmp_path / "few", tmp_path / "busy")


def test_a_core_is_idle_when_fewer_tasks_are_runnable_than_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.procs import cores

    runnable = [1]
    monkeypatch.setattr(cores, "runnable_now", lambda: runnable[0])
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert final_write._a_core_is_idle()
    runnable[0] = 2  # this process and another: the child would share a core
    assert not final_write._a_core_is_idle()


def test_an_html_path_that_cannot_be_written_is_named(tmp_path: Path, forks: list[int], a_thread_runs: None,
                                                      earlier: set[int]) -> None:
    html = tmp_path / "report.html"
    html.mkdir()  # a folder where the page should go: the rename into place fails
    written = write_final(run_result(), tmp_path / "junit.xml", html, tmp_path / "results.json")
    assert forks == [1]
    assert written.paths == (tmp_path / "results.json", tmp_path / "junit.xml")
    assert written.problems == (f"cannot write HTML report {html}: Is a directory",)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)  # no temporary file left
    assert not _children_since(earlier)


PLAN = """\
version: 1
name: forked
providers:
  echo: {python: echo.py}
cases:
""" + "".join(f"""  - id: C{n}
    name: "case {n} \\u2028 <&> \\x1b"
    steps: [{{call: echo, prompt: "hi {n}", expect: [{{contains: "hi {n}"}}]}}]
""" for n in range(5))


def test_a_run_forks_for_its_final_write_beside_its_threads_and_writes_what_report_would(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    from orchestrator.cli.entry import main

    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "plan.yaml", "-q", "--out", str(tmp_path / "run")]) == 0
    assert forks == [1]  # the workers and the watchdog are started without os.fork
    assert main(["report", str(tmp_path / "run" / "results.json"), "--out", str(tmp_path / "report")]) == 0
    for name in ("junit.xml", "report.html"):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "report" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(NAMES)
