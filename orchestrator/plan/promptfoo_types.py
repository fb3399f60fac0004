"""promptfoo's assertion types (as documented for promptfoo 0.123): which are understood, which
are refused and why, and which take a `threshold`. One home for the vocabulary: the schema's
`type` enum, the loader, the plan checks and the run-time checks all read it from here.
"""
from __future__ import annotations

from typing import Any, Mapping

# promptfoo types with the same meaning as one of the spec's own assertions run as that one.
AS_BUILTIN = {"contains": "contains", "icontains": "icontains", "equals": "equals", "not-contains": "not_contains",
              "starts-with": "starts_with", "regex": "matches",
              # the spec's own names written in the `type:` form
              "not_contains": "not_contains", "starts_with": "starts_with", "matches": "matches",
              "is_json": "is_json"}
# Checked by orchestrator.run.promptfoo_assertions, with promptfoo's semantics.
OWN = ("not-equals", "not-icontains", "not-starts-with", "not-regex",
       "contains-any", "contains-all", "icontains-any", "icontains-all",
       "not-contains-any", "not-contains-all", "not-icontains-any", "not-icontains-all",
       "is-json", "not-is-json", "contains-json", "not-contains-json",
       "levenshtein", "not-levenshtein", "latency", "not-latency", "cost", "not-cost")
SUPPORTED = tuple(AS_BUILTIN) + OWN
# type -> default threshold (None: the threshold is required)
THRESHOLDS: Mapping[str, float | None] = {"levenshtein": 5.0, "not-levenshtein": 5.0, "latency": None,
                                          "not-latency": None, "cost": None, "not-cost": None}

_SCRIPT = "use expr: with a sandboxed expression, e.g. {{expr: \"'ok' in output\"}}"
_GRADED = ("it asks a model to grade the output, and the orchestrator makes no model calls of its own: call "
           "your grader as a provider step (as: grade) and assert on its result with expr:")
REFUSED: Mapping[str, str] = {
    "javascript": _SCRIPT.format(what="JavaScript"), "python": _SCRIPT.format(what="Python"),
    "ruby": _SCRIPT.format(what="Ruby"),
    "webhook": "it posts the output to a grading URL; use an http: step (as: verdict) and expr: on its json",
    **{kind: _GRADED for kind in (
        "llm-rubric", "model-graded-closedqa", "model-graded-factuality", "factuality", "answer-relevance",
        "context-faithfulness", "context-recall", "context-relevance", "similar", "classifier", "moderation",
        "select-best", "g-eval", "pi", "search-rubric", "agent-rubric", "conversation-relevance", "max-score")},
}


def kind_of(promptfoo_type: str) -> str:
    """The assertion kind a `{type: ...}` assertion runs as."""
    return AS_BUILTIN.get(promptfoo_type, promptfoo_type)


def refusal(promptfoo_type: str) -> str | None:
    """One line on why a type is refused and what to use, or None when it is not refused."""
    base = promptfoo_type[4:] if promptfoo_type.startswith("not-") else promptfoo_type
    why = REFUSED.get(base)
    return None if why is None else f"promptfoo assertion type '{promptfoo_type}' is not supported: {why}"


def problems(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, message) for a `{type, value, threshold}` assertion the schema cannot judge alone."""
    kind = str(spec.get("type"))
    out: list[tuple[str, str]] = []
    if "threshold" in spec and kind not in THRESHOLDS:
        out.append(("threshold", f"promptfoo's '{kind}' has no threshold (only {', '.join(sorted(THRESHOLDS))})"))
    if kind in THRESHOLDS and THRESHOLDS[kind] is None and "threshold" not in spec:
        unit = " (milliseconds)" if kind.endswith("latency") else ""
        out.append(("type", f"'{kind}' needs a threshold{unit}, e.g. {{type: {kind}, threshold: "
                            f"{'500' if unit else '0.01'}}}"))
    if kind in ("contains-any", "contains-all", "icontains-any", "icontains-all", "levenshtein") or \
            kind[4:] in ("contains-any", "contains-all", "icontains-any", "icontains-all", "levenshtein", "equals",
                         "icontains", "starts-with", "regex"):
        if spec.get("value") in (None, "", []):
            out.append(("type", f"'{kind}' needs a value"))
    return out
