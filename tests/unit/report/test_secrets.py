"""The masker: every form a secret takes in text, and nothing else."""
from __future__ import annotations

import json
import shlex
from dataclasses import replace
from urllib.parse import quote, quote_plus

from orchestrator.result.model import AssertionResult, RecordedGate, RiskInfo
from orchestrator.result.secrets import MASK, Masker, looks_secret

from .factory import run_result


def test_names_that_look_secret() -> None:
    assert all(looks_secret(n) for n in ("api_token", "DB_PASSWORD", "secret", "ApiKey", "x-auth", "ssh_private"))
    assert not any(looks_secret(n) for n in ("greeting", "model", "url", "count"))


def test_raw_and_escaped_forms_are_masked() -> None:
    secret = "it's \"s3cr\\et\" ü/+&"
    masker = Masker([secret])
    for text in (secret, json.dumps(secret), json.dumps(secret, ensure_ascii=False), repr(secret),
                 repr([secret]), f"x={secret}!", quote(secret, safe=""), quote_plus(secret), shlex.quote(secret)):
        assert "s3cr" not in masker.text(text), text
    assert masker.text(f"[{secret}]") == f"[{MASK}]"


def test_nothing_to_mask_returns_the_same_objects() -> None:
    run = run_result(hostile=True)
    assert Masker([]).value(run) is run
    assert Masker(["never-appears-anywhere"]).value(run) is run
    assert not Masker(["", ""])


def test_model_values_are_masked_deeply_but_numbers_only_where_any_value_may_stand() -> None:
    run = run_result()
    step = replace(run.cases[0].steps[0], fields={"stdout": "token 987654!", "n": 987654, "k987654": [987654, "a987654"]},
                   assertions=(AssertionResult("equals", False, 987654, 987654.0, "output", "987654 != 987654"),))
    case = replace(run.cases[0], name="login 987654", line=987654,
                   attempts=(replace(run.cases[0].attempts[0], steps=(step,), stdout="987654"),))
    masked = Masker(["987654"]).value(replace(run, cases=(case,) + run.cases[1:], command="run --secret pin=987654"))
    c = masked.cases[0]
    assert c.name == f"login {MASK}" and c.line == 987654  # a line number is not the secret
    s = c.steps[0]
    assert s.fields == {"stdout": f"token {MASK}!", "n": MASK, f"k{MASK}": [MASK, f"a{MASK}"]}
    assert (s.assertions[0].expected, s.assertions[0].actual, s.assertions[0].message) == (MASK, MASK, f"{MASK} != {MASK}")
    assert c.attempts[0].stdout == MASK and masked.command == f"run --secret pin={MASK}"
    assert masked.cases[1:] == run.cases[1:]


def test_numbers_of_the_plan_s_gate_are_never_masked_and_risks_stay_typed() -> None:
    run = run_result()
    plan = replace(run.plans[0], gate=RecordedGate({"P0": 1.0}, 1), risks={"R": RiskInfo("leaks 1 port", "low")})
    masked = Masker(["1"]).value(replace(run, plans=(plan,)))
    assert masked.plans[0].gate == RecordedGate({"P0": 1.0}, 1)  # `merge` reads it back as numbers
    assert masked.plans[0].risks == {"R": RiskInfo(f"leaks {MASK} port", "low")}


def test_a_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    assert Masker(["abc", "abcdef"]).text("xabcdefx abc") == f"x{MASK}x {MASK}"


CUT = "\n[… output truncated: 90 bytes written, 40 left out here; the first 25 and the last 25 are kept …]\n"


def test_a_secret_cut_by_a_truncation_is_masked_on_both_sides_of_the_cut() -> None:
    masker = Masker(["sk-live-abcdef123"])
    assert masker.text("token sk-live-ab" + CUT + "cdef123 done") == "token ***" + CUT + "*** done"
    body = "\n[body truncated: 90 bytes received, the first 20 kept]\n"
    assert masker.text("auth: sk-live" + body) == "auth: ***" + body
    trimmed = "\n[… truncated for the report: 9 characters, 1 left out here; the first 4 and the last 4 are kept …]\n"
    assert masker.text("a sk-l" + trimmed + "b" + CUT + "f123") == "a ***" + trimmed + "b" + CUT + "***"


def test_ordinary_text_beside_a_cut_is_left_alone() -> None:
    masker = Masker(["sk-live-abcdef123"])
    assert masker.text("a sk" + CUT + "23 b") == "a sk" + CUT + "23 b"  # two letters: too short to be a piece
    assert masker.text("no secret here" + CUT + "nor here") == "no secret here" + CUT + "nor here"
    assert masker.text("sk-live-ab, truncated elsewhere") == "sk-live-ab, truncated elsewhere"  # no cut: whole only
