"""What a provider function returned, judged as promptfoo does: a mapping with `output` (an
embedding or classification function's `embedding` / `classification`) or `error`.

Anything else (None, a bare string, `{}`, a list) is the call's error, naming what came back,
so a provider that forgot its `return` can never pass an assertion that reads nothing.
"""
from __future__ import annotations

from typing import Any, Mapping

from orchestrator.errors import ErrorKind
from orchestrator.procs import protocol
from orchestrator.procs.api import CallError, CallRequest, PoolConfig
from orchestrator.procs.worker import Outcome, Reply, Worker, describe_death

MAIN_KEYS = ("output", "embedding", "classification")


def judge(result: Any, function: str) -> tuple[Mapping[str, Any] | None, CallError | None]:
    """(the result, None) when it is a valid answer, else (None, an InvalidResult error)."""
    if isinstance(result, dict) and (any(k in result for k in MAIN_KEYS) or result.get("error")):
        return result, None
    return None, CallError(ErrorKind.INVALID_RESULT, f"returned {_what(result)}; {function} must return a dict "
                                           f"with {_wanted(function)} or 'error'")


def _wanted(function: str) -> str:
    for key in ("embedding", "classification"):
        if key in function:
            return f"'{key}'"
    return "'output'"


def _what(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, dict):
        if not value:
            return "an empty dict {}"
        if "error" in value and not value["error"]:
            return f"a dict whose 'error' is {value['error']!r} and that has no {_wanted('')}"
        keys = ", ".join(repr(k) for k in list(value)[:8]) + (", ..." if len(value) > 8 else "")
        return f"a dict with the keys {keys}"
    text = repr(value)
    text = text if len(text) <= 80 else text[:80] + "…"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name} {text}"


def unpack(reply: Reply, function: str) -> tuple[Mapping[str, Any] | None, CallError | None, tuple[str, ...]]:
    """A RESULT or ERROR reply as (result, error, notes); a result that is not a valid answer
    (returned.judge) is an error. `notes`: what the worker converted for JSON."""
    payload = reply.payload if isinstance(reply.payload, dict) else {}
    if reply.name == protocol.RESULT:
        raw = payload.get("notes")
        notes = tuple(str(n) for n in raw) if isinstance(raw, list) else ()
        result, error = judge(payload.get("result"), function)
        if error is not None and notes:  # say what the function really returned
            error = CallError(error.type, f"{error.message} ({'; '.join(notes[:3])})")
        return result, error, notes
    return None, CallError(
        str(payload.get("type", "Exception")), str(payload.get("message", "")), str(payload.get("traceback", ""))
    ), ()


def call_failure(worker: Worker, reply: Reply, timeout_s: float, protocol_detail: str) -> CallError:
    """The error of a call the worker did not answer (its tree already killed): the call's
    timeout, the worker's death, or a breach of the protocol worded by `protocol_detail`."""
    if reply.outcome is Outcome.TIMEOUT:
        return CallError(ErrorKind.TIMEOUT, f"call timed out after {timeout_s:g}s; worker pid {worker.pid} "
                                            "and its process tree were killed")
    if reply.outcome is Outcome.DIED:
        return describe_death(worker, "during the call")
    return CallError(ErrorKind.PROTOCOL, f"worker pid {worker.pid}: {protocol_detail}")


def send_call(worker: Worker, config: PoolConfig, request: CallRequest) -> tuple[Reply, float]:
    """The call on `worker` (with the provider's config unless the step gave its own options'
    config): the reply, and the timeout it had."""
    timeout_s = request.timeout_s if request.timeout_s is not None else config.timeout_s
    options: Mapping[str, Any] = request.options
    if config.config and "config" not in options:
        options = {**options, "config": dict(config.config)}
    return worker.call(request.prompt, options, request.context, timeout_s, request.marker, request.case_id), timeout_s


def answered(reply: Reply) -> bool:
    """The worker answered the call (a result, or the provider's own error); else `call_failure`."""
    return reply.outcome is Outcome.OK and reply.name in (protocol.RESULT, protocol.ERROR)
