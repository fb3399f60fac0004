"""How the worker calls a provider function: promptfoo's (prompt, options[, context])."""
from __future__ import annotations

from typing import Any

import pytest

from orchestrator.procs.worker_main import Runner, _takes_context


def call_api(prompt: Any, options: Any, context: Any) -> Any: ...
def two(prompt: Any, options: Any) -> Any: ...
def optional_context(prompt: Any, options: Any, context: Any = None) -> Any: ...
def star(*args: Any) -> Any: ...


@pytest.mark.parametrize("fn, name, expected", [
    (call_api, "call_api", True),
    (two, "call_api", False),  # promptfoo would raise TypeError; the function cannot take a context
    (two, "call_embedding_api", False),
    (optional_context, "call_embedding_api", False),  # promptfoo: embedding functions get no context
    (optional_context, "call_classification_api", False),
    (call_api, "call_embedding_api", True),  # it cannot do without one (some promptfoo fixtures)
    (star, "call_api", True),
    (star, "call_classification_api", False),
    (len, "call_api", False),  # a builtin taking one argument
])
def test_context_is_passed_as_promptfoo_does_unless_the_function_cannot_take_it(fn: Any, name: str,
                                                                                 expected: bool) -> None:
    assert _takes_context(fn, name) is expected


def test_an_embedding_function_is_called_with_two_arguments() -> None:
    seen: list[tuple[Any, ...]] = []

    def call_embedding_api(*args: Any) -> dict[str, Any]:
        seen.append(args)
        return {"embedding": [0.5]}

    kind, payload = Runner(call_embedding_api, "call_embedding_api").call(
        {"prompt": "p", "options": {"config": {}}, "context": {"vars": {}}})
    assert (kind, payload) == ("result", {"result": {"embedding": [0.5]}})
    assert seen == [("p", {"config": {}})]
