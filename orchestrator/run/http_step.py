"""The `http` step — one HTTP request — and the request helper the HTTP provider shares.

stdlib `urllib` is enough: one request at a time per step, JSON in and out, no sessions or
retries to manage; a third-party client would add a dependency for nothing a plan can use.
"""
from __future__ import annotations

import json
import socket
import time
from dataclasses import field
from typing import Any, Mapping

from orchestrator.errors import ErrorKind
from orchestrator.plan.model import StepSpec
from orchestrator.plan.step_args import HttpArgs, rendered
from orchestrator.records import record
from orchestrator.result.model import ErrorInfo
from orchestrator.evaluation.values import MAX_INT_DIGITS
from orchestrator.run.steps import CaseContext, StepAction, StepOutput, StepTimedOut, effective_timeout, seconds

DEFAULT_TIMEOUT_S = 30.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # kept of a response body; the rest is read and counted
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@record
class HttpResponse:
    status: int | None  # None: no response at all (refused, timed out, bad URL)
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""
    duration_ms: float = 0.0
    error: ErrorInfo | None = None  # transport problems only; a 4xx/5xx is a response

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text, parse_constant=str, parse_int=_int) if self.text.strip() else None
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
            return None


def _int(text: str) -> int | str:
    """JSON integers as ints, unless too long to print: those stay text (as NaN and Infinity
    do, through parse_constant), so nothing a server sends can break the results file."""
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else text


def send(method: str, url: str, *, json_body: Any = None, body: str | None = None,
         headers: Mapping[str, str] | None = None, timeout_s: float | None = None) -> HttpResponse:
    """One request; never raises for what the network or the server did."""
    started = time.monotonic()
    sent_headers = {str(k): str(v) for k, v in (headers or {}).items()}
    data: bytes | None = None
    if json_body is not None:
        data = json.dumps(json_body).encode("utf-8")
        if not any(k.lower() == "content-type" for k in sent_headers):
            sent_headers["Content-Type"] = "application/json"
    elif body is not None:
        data = str(body).encode("utf-8")

    def elapsed() -> float:
        return round((time.monotonic() - started) * 1000, 3)

    if not url.startswith(("http://", "https://")):
        return HttpResponse(None, error=ErrorInfo(ErrorKind.INVALID_URL, f"URL must start with http:// or https://, got {url!r}"))
    import urllib.error  # ~15 ms (http.client, ssl, email): only for the plans that make requests
    import urllib.request

    from orchestrator.run.http_deadline import open_with_deadline

    try:
        request = urllib.request.Request(url, data=data, headers=sent_headers, method=method.upper())
        with open_with_deadline(request, timeout_s or DEFAULT_TIMEOUT_S) as reply:
            text = _body_text(reply, reply.headers)
            return HttpResponse(reply.status, dict(reply.headers.items()), text, elapsed())
    except urllib.error.HTTPError as exc:  # a response with a 4xx/5xx status: still a response
        try:
            text = _body_text(exc, exc.headers) if exc.fp is not None else ""
        except (socket.timeout, TimeoutError):
            text = "(the body did not arrive within the deadline)"
        return HttpResponse(exc.code, dict(exc.headers.items()) if exc.headers else {}, text, elapsed())
    except (socket.timeout, TimeoutError):
        return HttpResponse(None, duration_ms=elapsed(), error=ErrorInfo(
            ErrorKind.TIMEOUT, f"{method.upper()} {url}: no complete response within "
                            f"{timeout_s or DEFAULT_TIMEOUT_S:g}s (the deadline covers headers and body)"))
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return HttpResponse(None, duration_ms=elapsed(), error=ErrorInfo(
                ErrorKind.TIMEOUT, f"{method.upper()} {url}: no response within {timeout_s or DEFAULT_TIMEOUT_S:g}s"))
        return HttpResponse(None, duration_ms=elapsed(),
                            error=ErrorInfo(ErrorKind.CONNECTION, f"{method.upper()} {url}: {reason}"))
    except (ValueError, OSError) as exc:  # malformed URL, connection reset mid-read...
        return HttpResponse(None, duration_ms=elapsed(),
                            error=ErrorInfo(ErrorKind.CONNECTION, f"{method.upper()} {url}: {exc}"))


def _body_text(reply: Any, headers: Any) -> str:
    from orchestrator.run.http_deadline import read_body

    raw, total = read_body(reply, MAX_BODY_BYTES)
    text = _decode(raw, headers)
    if total > len(raw):
        text += f"\n[body truncated: {total} bytes received, the first {len(raw)} kept]\n"
    return text


def _decode(raw: bytes, headers: Any) -> str:
    charset = headers.get_content_charset() if headers is not None and hasattr(headers, "get_content_charset") else None
    return raw.decode(charset or "utf-8", errors="replace")


def run_http(step: StepSpec, ctx: CaseContext) -> StepOutput:
    args = rendered(step.args_as(HttpArgs), ctx.variables)
    method = str(args.method or ("POST" if args.has_body else "GET")).upper()
    if method not in _METHODS:
        return StepOutput({}, ErrorInfo(ErrorKind.INVALID_STEP, f"unknown HTTP method {method!r}: use one of "
                                        + ", ".join(_METHODS)))
    own = seconds(args.timeout, ctx) if args.timeout is not None else DEFAULT_TIMEOUT_S
    timeout = effective_timeout(step, ctx, own)
    response = send(method, str(args.url), json_body=args.json, body=args.body,
                    headers=args.headers, timeout_s=timeout)
    error = response.error
    if error is not None and error.type == ErrorKind.TIMEOUT and ctx.deadline is not None and ctx.remaining() == 0.0:
        raise StepTimedOut(error.message)
    if error is None and response.status is not None and response.status >= 400 and not _reads_status(step):
        error = ErrorInfo(ErrorKind.HTTP, f"{method} {args.url} answered {response.status}: "
                          f"{_first_line(response.text)} (assert on 'status' to expect an error status)")
    fields = {"status": response.status, "headers": dict(response.headers), "json": response.json(),
              "text": response.text, "duration_ms": response.duration_ms,
              "error": None if error is None else {"type": error.type, "message": error.message}}
    return StepOutput(fields, error)


def _reads_status(step: StepSpec) -> bool:
    """A step whose assertions look at `status` expects to judge a 4xx/5xx itself."""
    return any(a.on == "status" or (a.kind == "expr" and "status" in str(a.value)) for a in step.expect)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(empty body)"
    return line if len(line) <= 200 else line[:197] + "..."


HTTP_ACTIONS: dict[str, StepAction] = {"http": run_http}
