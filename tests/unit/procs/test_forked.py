"""procs/forked.beside: the child's result or why there is none comes back, and no child outlives it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.procs import forked
from orchestrator.procs.forked import Child, Stopped, beside
from tests.support import poll

REPO = Path(__file__).resolve().parents[3]


REAL_CAN_FORK = forked.can_fork


_EARLIER: set[int] = set()


@pytest.fixture(autouse=True)
def forking_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earlier tests of the suite may have left daemon threads in this process (the capture
    janitor): `beside` would refuse to fork. What is tested here never touches them. Nor
    does it count their children (a run's watchdog) as its own."""
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    _EARLIER.clear()
    _EARLIER.update(p.pid for p in psutil.Process().children())


def _no_child_left() -> bool:
    return not [p for p in psutil.Process().children() if p.pid not in _EARLIER]


def test_the_child_works_beside_the_parent_and_its_text_comes_back() -> None:
    parent_pid = os.getpid()
    both = beside(lambda: f"child {os.getpid()} of {os.getppid()}", lambda child: "parent")
    assert both is not None
    mine, child = both
    assert mine == "parent" and child.failure == ""
    words = child.text.split()
    assert words[0] == "child" and int(words[1]) != parent_pid and int(words[3]) == parent_pid
    assert _no_child_left()


def test_the_parent_can_wait_for_the_child_midway_and_a_big_result_is_not_a_deadlock() -> None:
    big = "x" * (3 << 20)  # far more than a pipe holds: the child blocks until it is read

    def parent(child: Child) -> tuple[int, int]:
        first = child.outcome()
        assert _no_child_left()  # reaped on the first look
        return len(first.text), len(child.outcome().text)

    both = beside(lambda: big, parent)
    assert both is not None
    assert both[0] == (len(big), len(big)) and both[1].text == big


def test_a_child_that_raises_says_what() -> None:
    def boom() -> str:
        raise ValueError("no space for the report\nsecond line")

    both = beside(boom, lambda child: None)
    assert both is not None
    assert both[1].text == "" and both[1].failure == "raised ValueError: no space for the report"
    assert _no_child_left()


@pytest.mark.parametrize(("end", "said"), [
    (lambda: os.kill(os.getpid(), signal.SIGKILL), "was killed by signal SIGKILL (9)"),
    (lambda: os._exit(5), "exited with code 5"),
])
def test_a_child_that_dies_without_its_result_says_how(end: object, said: str) -> None:
    def die() -> str:
        end()  # type: ignore[operator]
        time.sleep(30)
        return "never"

    both = beside(die, lambda child: "parent")
    assert both is not None and both[0] == "parent"
    assert both[1].failure == said and both[1].text == ""
    assert _no_child_left()


def test_with_another_thread_alive_nothing_forks_and_nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "can_fork", REAL_CAN_FORK)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    ran: list[str] = []
    try:
        assert not forked.can_fork()
        assert beside(lambda: str(ran.append("child")), lambda child: ran.append("parent")) is None
    finally:
        release.set()
        other.join()
    assert ran == []


def test_a_stop_signal_ends_both_and_leaves_no_child(tmp_path: Path) -> None:
    child_pid = tmp_path / "child.pid"
    removed = tmp_path / "child-cleaned-up"

    def long_work() -> str:
        child_pid.write_text(str(os.getpid()))
        try:
            time.sleep(60)
        finally:
            removed.write_text("yes")  # what a writer's atomic_writer does: its temporary goes
        return "never"

    def parent(child: Child) -> None:
        assert poll(child_pid.exists, within=10)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(60)

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Stopped) as stopped:
        beside(long_work, parent)
    assert stopped.value.signum == signal.SIGTERM
    assert _no_child_left() and not psutil.pid_exists(int(child_pid.read_text()))
    assert removed.read_text() == "yes"
    assert signal.getsignal(signal.SIGTERM) is before  # the handler was the block's only


def _sleeps() -> str:
    time.sleep(60)
    return "never"


def test_an_exception_in_the_parent_stops_the_child() -> None:
    def parent(child: Child) -> None:
        raise RuntimeError("the parent's writer broke")

    began = time.monotonic()
    with pytest.raises(RuntimeError):
        beside(_sleeps, parent)
    assert _no_child_left() and time.monotonic() - began < 30


def test_the_child_never_runs_the_parents_atexit_handlers_or_flushes_its_buffers() -> None:
    script = ("import atexit, sys\n"
              "from orchestrator.procs.forked import beside\n"
              "atexit.register(lambda: print('atexit ran'))\n"
              "sys.stdout.write('buffered before')\n"
              "print(beside(lambda: 'x', lambda child: 'y'))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("atexit ran") == 1 and out.stdout.count("buffered before") == 1
    assert "ChildOutcome(text='x', failure='')" in out.stdout


def test_a_child_past_its_deadline_is_stopped_reaped_and_has_failed() -> None:
    began = time.monotonic()
    both = beside(lambda: (time.sleep(60), "late")[1], lambda child: child.outcome(within=0.3))
    assert both is not None
    mine, outcome = both
    assert mine.failure == outcome.failure == "did not end within 0.3 s" and mine.text == ""
    assert time.monotonic() - began < 5
    assert _no_child_left()


def test_with_threads_it_forks_beside_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "can_fork", REAL_CAN_FORK)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert beside(lambda: "x", lambda child: "y") is None  # refused, as ever
        both = beside(lambda: f"{threading.active_count()}", lambda child: "y", with_threads=True)
    finally:
        release.set()
        other.join()
    assert both is not None and both[1].text == "1"  # the child has only the thread that forked
    assert _no_child_left()
