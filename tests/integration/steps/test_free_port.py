"""`{{ free_port('name') }}`: one free loopback port per attempt and name, free when the spawn binds it."""
from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from orchestrator.run.free_ports import FreePorts
from tests.integration.conftest import REPO, orchestrator

PLAN = """\
version: 1
name: free-ports
cases:
  - id: PORT-001
    name: each attempt its own server on its own port
    repeat: 4
    concurrency: 4
    vars: {{port: "{{{{ free_port('srv') }}}}"}}
    steps:
      - spawn:
          name: srv
          command: ["{python}", "{server}", "{{{{ free_port('srv') }}}}", "0.2"]
          ready: {{port: "{{{{ port }}}}"}}
      - exec: {{command: ["{python}", -c, "print({{{{ free_port('srv') }}}}, {{{{ free_port('other') }}}})"]}}
        expect:
          - expr: "stdout.split()[0] | int == port and stdout.split()[1] | int != port"
"""


def test_a_port_per_attempt_the_same_within_it_and_free_for_the_spawn(tmp_path: Path) -> None:
    plan = tmp_path / "ports.yaml"
    plan.write_text(PLAN.format(python=sys.executable, server=REPO / "scenarios" / "targets" / "tcp_server.py"))
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    [case] = json.loads((tmp_path / "out" / "results.json").read_text())["cases"]
    printed = [attempt["steps"][1]["fields"]["stdout"].split() for attempt in case["attempts"]]
    assert len(printed) == 4
    ports = [int(pair[0]) for pair in printed] + [int(pair[1]) for pair in printed]
    assert len(set(ports)) == 8  # concurrent attempts never share a port, names never share one


def test_the_same_name_is_the_same_port_and_it_is_released() -> None:
    ports = FreePorts()
    web = ports("web")
    assert ports("web") == web and ports() != web and FreePorts()("web") != web
    with socket.socket() as server:  # nothing holds it: a server can bind it at once
        server.bind(("127.0.0.1", web))
