"""A process's captured output is bounded in memory and on disk, keeping its head and tail."""
from __future__ import annotations

import os

from orchestrator.procs.capture import Capture


def write(capture: Capture, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(capture.write_fd, view):]


def test_short_output_comes_back_whole_and_segments_follow_each_other() -> None:
    capture = Capture("t", head=10, tail=10, disk=100)
    try:
        write(capture, b"before\n")
        capture.start()
        write(capture, b"call one\n")
        assert capture.peek() == "call one\n"
        assert capture.since_mark() == "call one\n"
        write(capture, "call twö\n".encode())
        assert capture.since_mark() == "call twö\n"
        assert capture.since_mark() == ""
    finally:
        capture.close()


def test_long_output_keeps_head_and_tail_with_a_note() -> None:
    capture = Capture("t", head=10, tail=10, disk=1000)
    try:
        write(capture, b"H" * 10 + b"m" * 500 + b"T" * 10)
        text = capture.since_mark()
        assert text.startswith("H" * 10) and text.endswith("T" * 10) and "m" not in text
        assert "520 bytes written, 500 left out here; the first 10 and the last 10 are kept" in text
    finally:
        capture.close()


def test_the_file_never_uses_much_more_disk_than_its_bound() -> None:
    block = 4096  # holes are freed in whole blocks
    capture = Capture("t", head=2 * block, tail=2 * block, disk=16 * block)
    try:
        write(capture, b"HEAD" + b"h" * (2 * block - 4))
        for n in range(200):
            write(capture, b"m" * block)
            capture.enforce()  # the janitor thread does this every 0.1 s
            assert os.fstat(capture.read_fd).st_blocks * 512 <= 17 * block
        write(capture, b"TAIL")
        text = capture.since_mark()
        assert text.startswith("HEAD") and text.endswith("m" * 100 + "TAIL")
        assert f"{202 * block + 4:,} bytes written, {198 * block + 4:,} left out here" in text
        write(capture, b"next")
        assert capture.since_mark() == "next"
    finally:
        capture.close()


def test_without_hole_punching_the_file_is_emptied_keeping_head_and_tail(monkeypatch) -> None:
    from orchestrator.procs import capture as module

    monkeypatch.setattr(module, "_FALLOCATE", None)
    capture = Capture("t", head=10, tail=10, disk=100)
    try:
        write(capture, b"HEAD......")
        for n in range(50):
            write(capture, b"m" * 40)
            capture.enforce()
            assert os.fstat(capture.read_fd).st_size <= 100
        write(capture, b"....TAIL..")
        text = capture.since_mark()
        assert text.startswith("HEAD......") and text.endswith("mmmm....TAIL.."[-10:])
        assert "2,020 bytes written, 2,000 left out here" in text
        write(capture, b"next")
        assert capture.since_mark() == "next"
    finally:
        capture.close()


def test_a_tail_shorter_than_the_bound_after_emptying_joins_the_kept_tail(monkeypatch) -> None:
    from orchestrator.procs import capture as module

    monkeypatch.setattr(module, "_FALLOCATE", None)
    capture = Capture("t", head=4, tail=6, disk=20)
    try:
        write(capture, b"abcd" + b"x" * 30 + b"123456")
        capture.enforce()
        write(capture, b"78")
        text = capture.since_mark()
        assert text.startswith("abcd") and text.endswith("345678")
    finally:
        capture.close()
