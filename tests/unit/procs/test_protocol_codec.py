"""procs/protocol: a worker's answer is read once, and a call is written as json writes it."""
from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.procs import protocol


def test_an_answer_ending_with_its_newline_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # LineBuffer.feed hands a whole line over with its newline: json's scanner reads it alone
    # (it used to go to json.loads for a second parse, every call).
    line = b'["result",{"result":{"output":"Echo: hi"},"id":3,"at":12.5}]\n'
    buffer = protocol.LineBuffer()
    fed = buffer.feed(line)
    assert fed == line

    def no_second_parse(text: str) -> Any:
        raise AssertionError("parsed twice")

    monkeypatch.setattr(protocol.json, "loads", no_second_parse)
    assert protocol.decode(fed) == ("result", {"result": {"output": "Echo: hi"}, "id": 3, "at": 12.5})


@pytest.mark.parametrize("line", [b'["result",{}] x\n', b'["result",{}]\n\n', b' ["result",{}]\n'])
def test_whitespace_or_data_around_an_answer_is_judged_as_json_loads_does(line: bytes) -> None:
    try:
        expected: Any = json.loads(line.decode("ascii"))
    except ValueError:
        with pytest.raises(protocol.ProtocolError):
            protocol.decode(line)
        return
    assert protocol.decode(line) == tuple(expected)


@pytest.mark.parametrize("payload", [
    {"prompt": "h\u00e9 \ud800 😀", "options": {"config": {"n": [1, 2.5, None, True]}}, "id": 7},
    {"odd": {1, 2}, "obj": object.__new__(type("Thing", (), {"__str__": lambda self: "thing"}))},
    {"nan": float("nan"), "inf": [float("inf")]},
])
def test_a_call_is_written_as_json_writes_it(payload: Any) -> None:
    reference = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=protocol._fallback)
    assert protocol.encode(protocol.CALL, payload) == (reference.encode([protocol.CALL, payload]) + "\n").encode("ascii")


def test_a_cycle_is_refused_with_the_message_it_always_had() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError, match="Circular reference detected"):
        protocol.encode(protocol.CALL, cyclic)
