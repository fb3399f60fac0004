from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from orchestrator.procs import protocol
from orchestrator.procs.worker import HOLD_VAR, WORKER_MAIN

WEIRD = ["\ud800", "a\udfffb", "\ufffe", "\x00nul", "😀", "中文字符", "line\nbreak", "\u2028", ""]


def _worker_constants() -> dict[str, str]:
    module = ast.parse(Path(WORKER_MAIN).read_text(encoding="utf-8"))
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper() and not target.id.startswith("_"):
                    found[target.id] = node.value.value
    return found


def test_worker_and_controller_use_the_same_message_names() -> None:
    worker = _worker_constants()
    assert worker.pop("HOLD_VAR") == HOLD_VAR
    controller = {name: getattr(protocol, name)
                  for name in ("CALL", "STOP", "GO", "PING", "READY", "IMPORT_ERROR", "RESULT", "ERROR", "PONG")}
    assert worker == controller
    assert set(worker.values()) == protocol.NAMES


def test_worker_main_parses_as_python_3_9() -> None:
    ast.parse(Path(WORKER_MAIN).read_text(encoding="utf-8"), feature_version=(3, 9))


@pytest.mark.parametrize("text", WEIRD)
def test_any_string_round_trips_as_one_ascii_line(text: str) -> None:
    line = protocol.encode(protocol.RESULT, {"result": {"output": text, text: 1}})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    line.decode("ascii")
    assert protocol.decode(line[:-1]) == (protocol.RESULT, {"result": {"output": text, text: 1}})


def test_values_json_cannot_hold_are_sent_as_data_or_text() -> None:
    request = {"prompt": set, "x": b"b", "vars": MappingProxyType({"a": frozenset({1})})}
    name, payload = protocol.decode(protocol.encode(protocol.CALL, request))
    assert name == protocol.CALL and payload == {"prompt": "<class 'set'>", "x": "b'b'", "vars": {"a": [1]}}


@pytest.mark.parametrize("line", [b"garbage", b'{"result": 1}', b'["nope", {}]', b"[1, 2, 3]"])
def test_lines_that_are_not_messages_are_protocol_errors(line: bytes) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(line)


def test_line_buffer_reassembles_split_and_merged_lines() -> None:
    buf = protocol.LineBuffer()
    assert buf.feed(b'["ready",{}]\n') == b'["ready",{}]\n'  # the fast path: one whole line
    assert buf.feed(b'["res') is None and buf.pop_line() is None
    assert buf.feed(b'ult",1]\n["error",2]\n["x') is None
    assert buf.pop_line() == b'["result",1]'
    assert buf.pop_line() == b'["error",2]'
    assert buf.pop_line() is None and buf.pending() == 3
    assert json.loads(b'["ready",{}]\n') == ["ready", {}]
    assert sys.getdefaultencoding() == "utf-8"
