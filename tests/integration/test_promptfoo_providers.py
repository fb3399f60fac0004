"""promptfoo providers run unchanged: embedding/classification signatures, ids, options/context
shapes, usage totals in every report, and latencyMs kept beside the measured duration."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
PF = REPO / "scenarios" / "promptfoo"
CLAIMS_FAST = '''import time


def call_api(prompt, options, context):
    time.sleep(0.3)
    return {"output": "done", "latencyMs": 1}
'''
PLAN = '''version: 1
name: pf
providers:
  chat: {{python: "file://{pf}/chat_provider.py", config: {{prefix: "> "}}}}
  chat_async: {{python: "file://{pf}/chat_provider.py:call_api_async"}}
  shout: {{python: "python:{pf}/chat_provider.py:shout"}}
  embed: {{python: "{pf}/embed_provider.py:call_embedding_api", config: {{dimensions: 3}}}}
  classify: {{python: "file://{pf}/classify_provider.py:call_classification_api"}}
  liar: {{python: "claims_fast.py"}}
cases:
  - id: PF-1
    name: promptfoo providers unchanged
    vars: {{topic: cats}}
    steps:
      - call: chat
        prompt: hello there
        as: r
        expect:
          - contains: "> hello there [cats]"
          - expr: "r.metadata.provider_id == 'file://' ~ '{pf_rel}/chat_provider.py' and r.metadata.base == '{base}'"
          - expr: "r.metadata.test == 'promptfoo providers unchanged' and r.metadata.raw == 'hello there'"
          - expr: "latencyMs == 7 and duration_ms > 0"
      - call: chat_async
        prompt: hi
        expect: [{{equals: HI}}]
      - call: shout
        prompt: hey
        expect: [{{equals: "HEY!"}}]
      - call: embed
        prompt: some words here
        as: e
        expect: [{{expr: "e.embedding | length == 3"}}]
      - call: classify
        prompt: a bad day
        as: c
        expect: [{{expr: "c.classification.negative > 0.5"}}]
  - id: PF-3
    name: a load step's calls count in the usage totals, warm-up included
    steps:
      - load: {{call: chat_async, prompt: hi, requests: 3, warmup: 1}}
        expect: [{{expr: "requests == 3 and calls == 4 and tokenUsage.total == 8"}}]
  - id: PF-2
    name: a provider cannot pass max_ms by claiming it was fast
    steps:
      - call: liar
        prompt: x
        expect: [{{max_ms: 100}}]
'''


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("pf")
    (root / "claims_fast.py").write_text(CLAIMS_FAST, encoding="utf-8")
    (root / "plan.yaml").write_text(PLAN.format(pf=PF, pf_rel=os.path.relpath(PF, root), base=root.name),
                                    encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "plan.yaml", "--out", "out"], cwd=root,
                          capture_output=True, text=True, timeout=120, env=env)
    return root, done


def _case(root: Path, cid: str) -> dict:  # type: ignore[type-arg]
    data = json.loads((root / "out" / "results.json").read_text(encoding="utf-8"))
    return next(c for c in data["cases"] if c["id"] == cid)


def test_promptfoo_providers_run_unchanged(ran: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, done = ran
    case = _case(root, "PF-1")
    assert case["status"] == "passed", done.stdout + json.dumps(case)[:3000]


def test_measured_duration_decides_max_ms_while_latencyMs_is_kept(ran: tuple[Path, object]) -> None:
    root, _ = ran
    case = _case(root, "PF-2")
    step = case["attempts"][-1]["steps"][0]
    assert case["status"] == "failed" and step["fields"]["latencyMs"] == 1
    assert step["fields"]["duration_ms"] >= 300


def test_token_usage_and_cost_are_totalled_per_provider_in_every_report(ran: tuple[Path, object]) -> None:
    root, done = ran
    usage = json.loads((root / "out" / "results.json").read_text(encoding="utf-8"))["usage"]
    assert usage["total"]["tokens"] == {"total": 18, "prompt": 10, "completion": 8, "cached": 0}
    assert usage["total"]["cost"] == pytest.approx(0.0055)
    assert usage["providers"]["chat"]["tokens"]["total"] == 5 and usage["providers"]["embed"]["tokens"]["total"] == 3
    assert _case(root, "PF-3")["status"] == "passed"
    assert "Usage: 18 tokens (prompt 10, completion 8), cost 0.0055 over 10 calls" in done.stdout  # type: ignore[attr-defined]
    props = {p.get("name"): p.get("value")
             for p in etree.parse(str(root / "out" / "junit.xml")).getroot().iter("property")}
    assert props["usage: chat_async"] == "10 tokens (prompt 5, completion 5), cost 0.005 over 5 calls"
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    assert "Token usage and cost" in html and "chat: 5 tokens (prompt 2, completion 3), cost 0.0005 over 1 call" in html
