"""What each step action stores is what its typed record (result/step_fields.py) declares: a
field a producer adds without declaring it is a field the reports cannot read by attribute."""
from __future__ import annotations

import json
from pathlib import Path

from orchestrator.result.step_fields import RECORDS, CallFields, declared
from tests.integration.conftest import REPO, orchestrator

PLAN = """\
version: 1
name: records
providers:
  echo: {{python: {echo}}}
cases:
  - id: R-1
    name: every action once
    steps:
      - {{call: echo, prompt: hi}}
      - exec: {{command: [sh, -c, "echo out; echo err >&2; exit 3"]}}
        expect: [{{exit_code: 3}}]
      - {{sleep: 1ms, if: "false"}}
      - {{sleep: 1ms}}
      - parallel:
          - {{sleep: 1ms}}
          - {{exec: {{command: [sh, -c, "true"]}}}}
      - spawn: {{name: srv, command: "sleep 30"}}
      - processes: {{cmdline: "sleep 30"}}
      - signal: {{target: srv, signal: TERM}}
      - wait: {{exit: srv, within: 5s}}
      - load: {{call: echo, prompt: "q{{{{ i }}}}", requests: 4, concurrency: 2}}
      - http: {{url: "http://127.0.0.1:9/closed", timeout: 2s}}
        expect: [{{error: ConnectionError}}]
"""


def test_every_stored_field_is_declared_by_the_actions_record(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(echo=REPO / "tests" / "fixtures" / "providers" / "echo.py"), encoding="utf-8")
    done = orchestrator("run", str(plan), "--out", str(tmp_path / "out"), "-q")
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    steps = results["cases"][0]["attempts"][-1]["steps"]
    assert {s["action"] for s in steps} == set(RECORDS), done.stdout + done.stderr
    undeclared = {}
    for step in steps:
        record = RECORDS[step["action"]]
        own = set(declared(record).values())
        extra = set(step["fields"]) - own
        if record is CallFields:  # the keys the provider returned are the call's own business
            extra -= set(CallFields(step["fields"]).returned)
        if extra:
            undeclared[step["action"]] = sorted(extra)
    assert undeclared == {}
    assert all(s["status"] in ("passed", "skipped") for s in steps), done.stdout
