"""The names a template or an expression reads (or why it does not compile), for the checks that
every name a plan reads exists (plan/semantic, plan/case_fused, plan/load)."""
from __future__ import annotations

import re
from functools import lru_cache

from orchestrator.evaluation.templating import TemplateError, check_expression, check_template, has_template
from orchestrator.plan import names

_SIMPLE = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*-?\}\}")


_CONSTANTS = frozenset({"true", "false", "none", "True", "False", "None"})


@lru_cache(maxsize=4096)
def template_names(text: str) -> frozenset[str] | str:
    """The names a template reads, or the message saying why it does not compile."""
    rest = _SIMPLE.sub("", text)
    simple = frozenset(m.group(1) for m in _SIMPLE.finditer(text))
    if not has_template(rest) and "}}" not in rest and not simple & _CONSTANTS:  # only {{ name.attr }}
        return simple
    try:
        return frozenset(check_template(text)) - names.guarded(text)
    except TemplateError as exc:
        return str(exc)


@lru_cache(maxsize=4096)
def expression_names(text: str) -> frozenset[str] | str:
    """The names an expression reads, or the message saying why it does not compile."""
    try:
        return frozenset(check_expression(text)) - names.guarded("{{ " + text + " }}")
    except TemplateError as exc:
        return str(exc)


@lru_cache(maxsize=4096)
def expression_error(text: str) -> str | None:
    try:
        check_expression(text)
    except TemplateError as exc:
        return str(exc)
    return None
