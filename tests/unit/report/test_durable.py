"""result/durable: the reports' fsyncs at once (`synced_together`), their renames in order, and
what fails still named and cleaned up."""
from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from orchestrator.report.writers import write_all
from orchestrator.result.durable import atomic_writer, synced_together

from .factory import run_result

NAMES = ["junit.xml", "report.html", "results.json"]


def test_the_three_reports_are_synced_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each fsync waits (up to 5 s) until all three have begun: in turn, the first would wait alone."""
    real_fsync = os.fsync
    entered = threading.Barrier(3, timeout=5)
    at_once: list[bool] = []

    def fsync(fd: int) -> None:
        try:
            entered.wait()
            at_once.append(True)
        except threading.BrokenBarrierError:
            at_once.append(False)
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    written = write_all(run_result(), tmp_path / "junit.xml", tmp_path / "report.html", tmp_path / "results.json")
    assert written.problems == ()
    assert at_once == [True, True, True]
    assert written.paths == (tmp_path / "results.json", tmp_path / "junit.xml", tmp_path / "report.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES


def test_files_appear_only_once_synced_and_in_the_order_written(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    renamed: list[str] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        renamed.append(Path(dst).name)
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    with synced_together() as failed:
        for name in ("b", "a", "c"):
            with atomic_writer(tmp_path / name) as fh:
                fh.write(name.encode())
            assert not (tmp_path / name).exists()  # not before its fsync
    assert failed == {} and renamed == ["b", "a", "c"]
    assert [(tmp_path / n).read_text() for n in "abc"] == ["a", "b", "c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]


def test_a_file_whose_fsync_fails_is_named_and_the_others_are_written(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync
    junit_fd: list[int] = []
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        fh = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        if ".junit.xml." in os.readlink(f"/proc/self/fd/{fd}"):
            junit_fd.append(fd)
        return fh

    def fsync(fd: int) -> None:
        if fd in junit_fd:
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)
    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(os, "fsync", fsync)
    written = write_all(run_result(), tmp_path / "junit.xml", tmp_path / "report.html", tmp_path / "results.json")
    assert written.problems == (f"cannot write JUnit report {tmp_path / 'junit.xml'}: Input/output error",)
    assert written.paths == (tmp_path / "results.json", tmp_path / "report.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "results.json"]  # no temporary file


def test_an_interrupt_before_the_renames_leaves_no_file_at_all(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with synced_together():
            with atomic_writer(tmp_path / "a") as fh:
                fh.write(b"a")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_outside_a_block_a_file_is_synced_and_in_place_at_once(tmp_path: Path) -> None:
    with atomic_writer(tmp_path / "a") as fh:
        fh.write(b"a")
    assert (tmp_path / "a").read_bytes() == b"a"
