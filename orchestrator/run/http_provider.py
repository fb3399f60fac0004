"""`http:` providers: a call is POSTed as JSON `{prompt, options, context}`, promptfoo-style.

The response's JSON object is the call's result (`output` and any other keys); any other body
becomes `{"output": text}`. A 4xx/5xx is a call error "HTTPError", no answer in time a
"TimeoutError", no connection a "ConnectionError". It implements the `Pool` contract of
`orchestrator.procs.api` but starts no process, so it lives here and not in procs/.
"""
from __future__ import annotations

import threading
from typing import Any, Mapping

from orchestrator.errors import ErrorKind
from orchestrator.plan.model import ProviderSpec
from orchestrator.procs.api import CallError, CallOutcome, CallRequest, WorkerInfo, WorkerStatus
from orchestrator.procs.returned import judge
from orchestrator.run.http_step import send
from orchestrator.evaluation.templating import TemplateError, render


class HttpPool:
    """One endpoint; calls run at once on the caller's thread (the server does the queueing)."""

    def __init__(self, spec: ProviderSpec, variables: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self.variables = dict(variables or {})
        self._lock = threading.Lock()
        self._calls = 0
        self._closed = False

    def start(self) -> None:
        pass  # nothing to start: the first call finds out whether the endpoint answers

    def call(self, request: CallRequest) -> CallOutcome:
        with self._lock:
            if self._closed:
                return _failed(ErrorKind.POOL_CLOSED, f"provider '{self.spec.id}' is closed", 0)
            self._calls += 1
            calls = self._calls
        scope = {**self.variables, **dict(request.context.get("vars") or {})}
        try:
            url = str(render(self.spec.url or "", scope))
            headers = {k: str(v) for k, v in render(dict(self.spec.headers), scope).items()}
        except TemplateError as exc:
            return _failed(ErrorKind.TEMPLATE, f"provider '{self.spec.id}': {exc}", calls)
        payload = {"prompt": request.prompt, "options": dict(request.options), "context": dict(request.context)}
        if request.session is not None:
            payload["session"] = request.session
        timeout = request.timeout_s if request.timeout_s is not None else self.spec.timeout_s
        response = send(self.spec.method, url, json_body=None if self.spec.method == "GET" else payload,
                        headers=headers, timeout_s=timeout)
        worker = WorkerInfo(pid=None, index=0, calls=calls, restarts=0)
        if response.error is not None:
            return CallOutcome(None, CallError(response.error.type, response.error.message),
                               response.duration_ms, worker)
        if response.status is not None and response.status >= 400:
            snippet = response.text.strip()[:300] or "(empty body)"
            return CallOutcome({"output": response.text, "status": response.status},
                               CallError(ErrorKind.HTTP, f"{self.spec.method} {url} answered {response.status}: {snippet}"),
                               response.duration_ms, worker)
        body = response.json()
        if not isinstance(body, dict):
            return CallOutcome({"output": response.text}, None, response.duration_ms, worker)
        result, error = judge(body, "the endpoint")
        if error is not None:
            error = CallError(error.type, f"{self.spec.method} {url}: {error.message.replace('a dict', 'a JSON object')}")
        return CallOutcome(result, error, response.duration_ms, worker)

    def pids(self) -> list[int]:
        return []

    def stats(self) -> list[WorkerStatus]:
        return [WorkerStatus(provider_id=self.spec.id, index=0, pid=None, calls=self._calls, restarts=0)]

    def close(self) -> None:
        with self._lock:
            self._closed = True


def _failed(kind: str, message: str, calls: int) -> CallOutcome:
    return CallOutcome(None, CallError(kind, message), 0.0, WorkerInfo(pid=None, index=0, calls=calls, restarts=0))
