"""`http:` providers: the call goes out as {prompt, options, context}; the JSON answer is the result."""
from __future__ import annotations

from pathlib import Path

from orchestrator.errors import Location
from orchestrator.plan.model import ProviderSpec
from orchestrator.procs.api import CallRequest
from orchestrator.result.model import Status
from orchestrator.run.http_provider import HttpPool

from .test_http_step import run_plan


def pool(url: str, variables: dict[str, str] | None = None, **kw: object) -> HttpPool:
    spec = ProviderSpec(id="backend", kind="http", location=Location("plan.yaml", 1, 1), cwd=Path("."),
                        url=url, **kw)  # type: ignore[arg-type]
    return HttpPool(spec, variables)


def test_json_object_answer_is_the_result(server: str) -> None:
    backend = pool(f"{server}/result", config={"temperature": 0})
    outcome = backend.call(CallRequest(prompt="hi", options={"config": {"temperature": 0}},
                                       context={"vars": {"who": "bob"}}))
    assert outcome.error is None
    assert outcome.result == {"output": "got hi", "vars": {"who": "bob"}, "config": {"temperature": 0}, "tokens": 3}
    assert outcome.worker is not None and outcome.worker.calls == 1 and outcome.worker.pid is None
    assert backend.stats()[0].calls == 1 and backend.pids() == []


def test_other_answers_become_output_text(server: str) -> None:
    outcome = pool(f"{server}/text").call(CallRequest(prompt="x"))
    assert outcome.error is None and outcome.result == {"output": "plain words"}


def test_error_status_timeout_and_refusal_are_call_errors(server: str, closed_port: int) -> None:
    failed = pool(f"{server}/status/500").call(CallRequest(prompt="x"))
    assert failed.error is not None and failed.error.type == "HTTPError"
    assert "500" in failed.error.message and "boom" in failed.error.message
    slow = pool(f"{server}/slow").call(CallRequest(prompt="x", timeout_s=0.2))
    assert slow.error is not None and slow.error.type == "TimeoutError" and slow.duration_ms < 1500
    refused = pool(f"http://127.0.0.1:{closed_port}/x").call(CallRequest(prompt="x"))
    assert refused.error is not None and refused.error.type == "ConnectionError"


def test_a_json_object_without_output_or_error_is_an_invalid_result(server: str) -> None:
    outcome = pool(f"{server}/empty").call(CallRequest(prompt="x"))
    assert outcome.result is None and outcome.error is not None and outcome.error.type == "InvalidResult"
    assert outcome.error.message == (f"POST {server}/empty: returned an empty dict {{}}; the endpoint must return "
                                     "a JSON object with 'output' or 'error'")


def test_values_json_cannot_carry_back_are_text(server: str) -> None:
    outcome = pool(f"{server}/nan").call(CallRequest(prompt="x"))
    assert outcome.error is None and outcome.result is not None
    assert outcome.result["output"] == "NaN" and outcome.result["big"] == "9" * 5000


def test_url_and_headers_are_templates(server: str) -> None:
    backend = pool("{{ base }}/echo-answer", {"base": server}, headers={"Authorization": "Bearer {{ token }}"})
    outcome = backend.call(CallRequest(prompt="p", context={"vars": {"token": "t0k"}}))
    assert outcome.error is None and outcome.result is not None
    assert outcome.result["auth"] == "Bearer t0k" and outcome.result["body"]["prompt"] == "p"


def test_a_plan_calls_an_http_provider(server: str, tmp_path: Path) -> None:
    result = run_plan(tmp_path, f"""version: 1
name: http-provider
vars: {{base: "{server}"}}
providers:
  backend:
    http: "{{{{ base }}}}/result"
    timeout: 5s
  down:
    http: "{server}/status/502"
cases:
  - id: P-1
    name: call through HTTP
    vars: {{who: ann}}
    steps:
      - call: backend
        prompt: "Hello {{{{ who }}}}"
        expect:
          - equals: got Hello ann
          - {{equals: 3, on: tokens}}
          - {{equals: ann, on: vars.who}}
          - expr: "worker.calls == 1"
  - id: P-2
    name: a failing backend is an error naming the status
    steps:
      - call: down
        prompt: x
""")
    ok, down = result.cases
    assert ok.status is Status.PASSED, ok.message
    assert down.status is Status.ERROR and "HTTPError" in down.message and "502" in down.message
