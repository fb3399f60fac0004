"""The worker's side of the protocol pipe: whole lines however they arrive, and the spin."""
from __future__ import annotations

import json
import os
from typing import Iterator

import pytest

from orchestrator.procs import cores, spin
from orchestrator.procs.worker_main import Channel


@pytest.fixture
def pipe() -> Iterator[tuple[Channel, int]]:
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    channel = Channel(to_worker_r, from_worker_w)
    yield channel, to_worker_w
    for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w):
        try:
            os.close(fd)
        except OSError:
            pass


def line(name: str, payload: object) -> bytes:
    return json.dumps([name, payload]).encode("ascii") + b"\n"


def test_lines_are_read_whole_whether_they_come_together_split_or_long(pipe: tuple[Channel, int]) -> None:
    channel, write_fd = pipe
    os.write(write_fd, line("call", {"id": 1}) + line("call", {"id": 2}) + b'["ca')
    assert channel.receive() == ("call", {"id": 1})
    assert channel.receive() == ("call", {"id": 2})  # already read with the first: no read blocks
    os.write(write_fd, b'll", {"id": 3}]\n')
    assert channel.receive(spin_s=0.01) == ("call", {"id": 3})
    long_prompt = "x" * 300_000  # several reads of the pipe
    import threading

    writer = threading.Thread(target=lambda: os.write(write_fd, line("call", {"prompt": long_prompt})))
    writer.start()
    assert channel.receive() == ("call", {"prompt": long_prompt})
    writer.join()
    os.close(write_fd)
    assert channel.receive(spin_s=0.001) is None  # the controller went away


def test_the_spin_ends_when_a_message_arrives_or_its_time_is_up(pipe: tuple[Channel, int]) -> None:
    channel, write_fd = pipe
    os.write(write_fd, line("ping", {"n": 1}))
    assert channel.receive(spin_s=60.0) == ("ping", {"n": 1})  # did not spin a minute: data was there
    os.write(write_fd, line("ping", {"n": 2}))
    assert channel.receive(spin_s=0.0005) == ("ping", {"n": 2})


def test_only_one_call_at_a_time_with_a_core_to_spare_spins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert spin.spin_budget(1) == spin.SPIN_S > 0
    assert spin.spin_budget(2) == 0.0  # the cores are taken, and a spinning thread holds the GIL
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert spin.spin_budget(1) == 0.0  # one core: the spinner would keep the worker from running


def test_no_spin_while_other_processes_wait_for_a_core(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(spin, "_cores_at_start", lambda: 2)

    def runnable(line: str) -> bool:
        path = tmp_path / "loadavg"
        path.write_text(line)
        fd = os.open(path, os.O_RDONLY)
        monkeypatch.setattr(cores, "_loadavg", fd)
        try:
            return spin.no_one_waits_for_a_core()
        finally:
            os.close(fd)

    assert runnable("0.50 0.40 0.30 2/345 12345\n")  # us and our worker: the cores are ours
    assert not runnable("3.10 2.00 1.00 5/345 12345\n")  # three more want a core: poll no more
    assert runnable("garbage\n")  # unreadable: as if idle (the spin is bounded anyway)
