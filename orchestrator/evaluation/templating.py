"""Templates and expressions, both in Jinja2's sandbox with undefined variables as errors.

A string that is exactly one `{{ expression }}` renders to the expression's native value (so
`count: "{{ n * 2 }}"` is an int); any other string renders to a string. Containers are
rendered element by element.

Jinja2 is imported on the first template, not with this module: a plan without templates never
pays for it (tests/unit/test_startup_imports.py keeps it so).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    import jinja2

    from orchestrator.evaluation.sandbox import BoundedSandbox


class TemplateError(Exception):
    """A template or expression that does not compile or cannot be evaluated."""


_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}$", re.S)


_OUR_GLOBALS: dict[str, Any] = dict(len=len, min=min, max=max, abs=abs, round=round, sorted=sorted,
                                    sum=sum, any=any, all=all, int=int, float=float, str=str, bool=bool)
# Every name a template may call without defining it: Jinja2's own globals and ours
# (the same as `environment().globals`, which a unit test checks).
GLOBAL_NAMES = frozenset(_OUR_GLOBALS) | {"range", "dict", "lipsum", "cycler", "joiner", "namespace"}


@lru_cache(maxsize=1)
def environment() -> BoundedSandbox:
    """The one sandboxed environment every template and expression is compiled in."""
    import jinja2

    from orchestrator.evaluation.sandbox import BoundedSandbox

    env = BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.globals.update(_OUR_GLOBALS)
    return env


def has_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=4096)
def _compile_template(text: str) -> jinja2.Template:
    import jinja2

    try:
        return environment().from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from None
    except Exception as exc:  # e.g. a constant Jinja folds into an integer too long to print
        raise TemplateError(f"template {text!r} cannot be compiled: {type(exc).__name__}: {exc}") from None


@lru_cache(maxsize=4096)
def _compile_expression(source: str) -> Callable[..., Any]:
    import jinja2

    try:
        return environment().compile_expression(source, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"expression syntax error in {source!r}: {exc.message}") from None
    except Exception as exc:  # e.g. a constant Jinja folds into an integer too long to print
        raise TemplateError(f"expression {source!r} cannot be compiled: {type(exc).__name__}: {exc}") from None


def check_template(text: str) -> set[str]:
    """Compile `text`; return the variable names it reads. Raises TemplateError."""
    import jinja2
    from jinja2 import meta

    try:
        ast = environment().parse(text)
        return set(meta.find_undeclared_variables(ast))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from None
    except Exception as exc:
        raise TemplateError(f"template {text!r} cannot be compiled: {type(exc).__name__}: {exc}") from None


def check_expression(source: str) -> set[str]:
    """Compile an expression; return the variable names it reads. Raises TemplateError."""
    _compile_expression(source)
    return check_template("{{ " + source + " }}")


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render every template string inside `value` (str, list, dict) against `variables`."""
    if isinstance(value, str):
        return render_string(value, variables)
    if isinstance(value, dict):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, variables) for v in value]
    return value


def render_string(text: str, variables: Mapping[str, Any]) -> Any:
    if not has_template(text):
        return text
    import jinja2

    single = _SINGLE_EXPRESSION.match(text.strip()) if text == text.strip() else None
    try:
        if single:
            return _defined(_compile_expression(single.group("expr").strip())(**variables))
        return _compile_template(text).render(**variables)
    except TemplateError:
        raise
    except jinja2.UndefinedError as exc:
        raise TemplateError(_undefined_message(exc, variables)) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template error in {text!r}: {exc}") from None
    except Exception as exc:  # e.g. ZeroDivisionError inside {{ 1/0 }}
        raise TemplateError(f"template {text!r} failed: {type(exc).__name__}: {exc}") from None


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate an `expr:` / `if:` expression."""
    import jinja2

    try:
        return _defined(_compile_expression(source)(**variables))
    except TemplateError:
        raise
    except jinja2.UndefinedError as exc:
        raise TemplateError(_undefined_message(exc, variables)) from None
    except Exception as exc:
        raise TemplateError(f"expression {source!r} failed: {type(exc).__name__}: {exc}") from None


def _defined(value: Any) -> Any:
    import jinja2

    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


def _undefined_message(exc: jinja2.UndefinedError, variables: Mapping[str, Any]) -> str:
    message = str(exc.message or exc)
    match = re.match(r"'([^']+)' is undefined", message)
    if match:
        from difflib import get_close_matches

        close = get_close_matches(match.group(1), [str(k) for k in variables], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"undefined variable '{match.group(1)}'{hint}"
    return message
