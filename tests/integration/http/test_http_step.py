"""The `http` step against a real server: result fields, status handling, timeouts, refusals."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.plan.load import load_plan
from orchestrator.result.model import RunResult, Status, StepResult
from orchestrator.run.engine import Engine, Listener, RunOptions


def run_plan(tmp_path: Path, text: str) -> RunResult:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return Engine([load_plan(str(path))], RunOptions(), Listener()).run()


def step(result: RunResult, case: int = 0, index: int = 0) -> StepResult:
    return result.cases[case].attempts[0].steps[index]


def plan(url: str, steps: str, variables: str = "{}") -> str:
    return f"""version: 1
name: http-step
vars: {variables}
cases:
  - id: H-1
    name: http
    steps:
{steps}
"""


def test_post_json_gives_status_headers_json_text_and_duration(server: str, tmp_path: Path) -> None:
    result = run_plan(tmp_path, plan(server, f"""      - http:
          method: POST
          url: "{{{{ base }}}}/echo"
          json: {{code: "{{{{ who }}}}", n: 2}}
          headers: {{Authorization: "Bearer {{{{ who }}}}"}}
        as: reply
        expect:
          - {{equals: 200, on: status}}
          - {{json: {{path: body.code, equals: alice}}}}
          - {{equals: "Bearer alice", on: json.auth}}
          - {{equals: application/json, on: json.type}}
          - {{equals: "yes", on: headers.X-Test}}
          - expr: "duration_ms >= 0 and json.method == 'POST'"
      - http: {{url: "{{{{ base }}}}/text"}}
        expect: [{{equals: plain words}}, {{expr: "json is none and reply.status == 200"}}]""",
                                         f"{{base: '{server}', who: alice}}"))
    assert result.cases[0].status is Status.PASSED, result.cases[0].message
    fields: dict[str, Any] = dict(step(result).fields)
    assert fields["json"]["body"] == {"code": "alice", "n": 2}
    assert fields["text"].startswith("{") and isinstance(fields["duration_ms"], float)
    assert step(result, index=1).fields["json"] is None  # GET by default; not JSON -> null


def test_error_status_is_an_http_error_unless_the_step_checks_status(server: str, tmp_path: Path) -> None:
    result = run_plan(tmp_path, plan(server, f"""      - http: {{url: "{server}/status/503"}}
  - id: H-2
    name: expects the 404
    steps:
      - http: {{url: "{server}/status/404", method: DELETE}}
        expect: [{{equals: 404, on: status}}, {{contains: boom}}]"""))
    first, second = result.cases
    assert first.status is Status.ERROR
    assert "HTTPError" in first.message and "503" in first.message and "boom" in first.message
    assert second.status is Status.PASSED, second.message


def test_a_wrong_expectation_fails_and_says_what_came_back(server: str, tmp_path: Path) -> None:
    result = run_plan(tmp_path, plan(server, f"""      - http: {{url: "{server}/text"}}
        expect: [{{contains: nowhere}}]"""))
    case = result.cases[0]
    assert case.status is Status.FAILED
    assert "contains on text" in case.message


def test_timeout_and_refused_connection_are_named_errors(server: str, closed_port: int, tmp_path: Path) -> None:
    result = run_plan(tmp_path, plan(server, f"""      - http: {{url: "{server}/slow", timeout: 200ms}}
  - id: H-2
    name: refused
    steps:
      - http: {{url: "http://127.0.0.1:{closed_port}/x"}}"""))
    slow, refused = result.cases
    assert slow.status is Status.ERROR and "TimeoutError" in slow.message and "0.2s" in slow.message
    assert step(result).duration_s < 1.5
    assert refused.status is Status.ERROR and "ConnectionError" in refused.message


def test_an_error_assertion_accepts_the_expected_failure(server: str, closed_port: int, tmp_path: Path) -> None:
    result = run_plan(tmp_path, plan(server, f"""      - http: {{url: "http://127.0.0.1:{closed_port}/x"}}
        expect: [{{error: ConnectionError}}]"""))
    assert result.cases[0].status is Status.PASSED, result.cases[0].message


def test_the_timeout_covers_a_body_or_headers_trickled_a_byte_at_a_time(server: str, tmp_path: Path) -> None:
    result = run_plan(tmp_path, plan(server, f"""      - http: {{url: "{server}/trickle", timeout: 1s}}
  - id: H-2
    name: headers trickled
    steps:
      - http: {{url: "{server}/trickle-headers", timeout: 1s}}
  - id: H-3
    name: an error body trickled
    steps:
      - http: {{url: "{server}/trickle-error", timeout: 1s}}
        expect: [{{expr: "status == 500"}}]
  - id: H-4
    name: the next case
    steps:
      - http: {{url: "{server}/text"}}"""))
    body, headers, error_body, after = result.cases
    for case in (body, headers):
        assert case.status is Status.ERROR and "no complete response within 1s" in case.message
    assert error_body.status is Status.PASSED
    assert "did not arrive within the deadline" in step(result, 2).fields["text"]
    for index in range(3):
        assert step(result, index).duration_s < 2.0
    assert after.status is Status.PASSED
