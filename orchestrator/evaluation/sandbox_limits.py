"""Size checks for the sandbox: refuse, before it is built, a value one C call would make huge.

Every operator, filter and method that can multiply the size of its input is checked against
its arguments first (widths, counts, repetitions, the lengths it would join). What is left —
filters that grow their input by a small constant factor — refuses inputs past MAX_LENGTH, so
no chain of them can grow without bound either.
"""
from __future__ import annotations

import inspect
import itertools
import re
import time
from typing import Any, Callable, Iterable, Mapping

from jinja2 import pass_environment
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter

from orchestrator import eval_clock
from orchestrator.eval_clock import case_deadline as case_deadline  # they live in eval_clock now
from orchestrator.eval_clock import time_limit as time_limit

EVALUATION_BUDGET_S = 2.0
MAX_LENGTH = 16 * 1024 * 1024  # characters or items one operation may produce
MAX_COUNT = 1_000_000  # slices, batches, lorem ipsum paragraphs...
MAX_INT_BITS = 1_000_000  # about 300,000 decimal digits

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")


class LimitExceeded(SecurityError):
    """An evaluation that would take too long or build too large a value."""


_state = eval_clock.state


def start_budget() -> None:
    _state.deadline = time.monotonic() + time_limit(EVALUATION_BUDGET_S)
    _state.output = 0


def check_budget() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise LimitExceeded(f"evaluation took longer than {EVALUATION_BUDGET_S:g}s "
                            "(templates and expressions are limited; loop or recurse less)")


def too_long(n: int, what: str, limit: int = MAX_LENGTH) -> LimitExceeded:
    return LimitExceeded(f"{what} would hold {n:,} items or characters (limit {limit:,})")


def check_int(value: Any, what: str, limit: int = MAX_LENGTH) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit:
        raise too_long(abs(value), what, limit)


def check_size(total: int, what: str) -> None:
    if total > MAX_LENGTH:
        raise too_long(total, what)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else 0


def check_format(fmt: str, args: Iterable[Any], what: str) -> None:
    """Refuse widths past the cap in a `%` or `str.format` string, or arguments too long."""
    widths = [w for m in _PERCENT_SPEC.finditer(fmt) for w in m.groups() if w and w != "*"]
    widths += re.findall(r"\d+", " ".join(_BRACE_SPEC.findall(fmt)))
    for width in widths:
        if len(width) > 9 or int(width) > MAX_LENGTH:
            raise too_long(int(width) if len(width) < 30 else 10 ** len(width), what)
    values = list(args)
    for arg in values:  # `%*d` and `{:{}}` take their width from the arguments
        check_int(arg, what)
    check_size(len(fmt) + sum(_length(arg) for arg in values), what)


# Operators --------------------------------------------------------------------------------

def power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = abs(base).bit_length() * exponent
        if bits > MAX_INT_BITS:
            raise LimitExceeded(f"{base} ** {exponent} would have about {bits:,} bits (limit {MAX_INT_BITS:,})")
    return base ** exponent


def times(left: Any, right: Any) -> Any:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
            check_size(len(seq) * n, "repetition")
    if isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length() + abs(right).bit_length()
        if bits > MAX_INT_BITS:
            raise LimitExceeded(f"a product of about {bits:,} bits (limit {MAX_INT_BITS:,})")
    return left * right


def modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        check_format(left, right if isinstance(right, tuple) else (right,), "formatting")
    return left % right


def plus(left: Any, right: Any) -> Any:
    if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, type(left)):
        check_size(len(left) + len(right), "concatenation")
    return left + right


BINOPS: dict[str, Callable[[Any, Any], Any]] = {"**": power, "*": times, "%": modulo, "+": plus}


def sized_text(value: Any) -> Any:
    """An operand of `~`: at most MAX_LENGTH long, so joins of them cannot compound."""
    check_size(_length(value), "concatenation")
    return value


MAX_OUTPUT = 4 * MAX_LENGTH  # characters one template may render, macros and loops included


def counted_output(value: Any) -> str:
    """A value a template prints, counted against MAX_OUTPUT (a loop printing a big value
    would otherwise build gigabytes)."""
    text = value if isinstance(value, str) else str(value)
    _state.output = getattr(_state, "output", 0) + len(text)
    if _state.output > MAX_OUTPUT:
        raise LimitExceeded(f"the template would print more than {MAX_OUTPUT:,} characters")
    return text


def bounded_sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    """sum(), but lists are added within the size cap and in linear time (the builtin copies
    quadratically, in C, holding the GIL)."""
    if not isinstance(start, (list, tuple)):
        return sum(iterable, start)
    items = list(iterable)
    check_size(len(start) + sum(_length(item) for item in items), "sum")
    if all(type(item) is type(start) for item in items):
        return type(start)(itertools.chain(start, *items))
    return sum(items, start)  # mixed types: the builtin's own TypeError


# Filters and methods ----------------------------------------------------------------------

def _replace_size(text: Any, old: Any, new: Any, count: Any = None) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        found = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        check_size(len(text) + found * (len(new) - len(old)), "replace")


def _indent_size(s: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    check_int(pad, "indent")
    if isinstance(s, str):
        check_size(len(s) + pad * (s.count("\n") + 1), "indent")


def _join_size(value: Any, d: Any = "", attribute: Any = None) -> None:
    if attribute is None and isinstance(value, (list, tuple)):
        check_size(sum(len(str(item)) for item in value) + len(str(d)) * len(value), "join")


# Filters that grow their input by a bounded factor (escaping, JSON, wrapping...).
_GROWING = ("escape", "e", "forceescape", "urlize", "tojson", "pprint", "wordwrap", "xmlattr", "urlencode", "string")

FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": lambda value, width=80: check_int(width, "center"),
    "indent": _indent_size,
    "batch": lambda value, linecount, fill_with=None: check_int(linecount, "batch", MAX_COUNT),
    "slice": lambda value, slices, fill_with=None: check_int(slices, "slice", MAX_COUNT),
    "format": lambda value, *args, **kwargs: check_format(str(value), (*args, *kwargs.values()), "format"),
    "replace": _replace_size,
    "join": _join_size,
    **{name: lambda value, *_, **__: check_size(_length(value), "the input of a filter") for name in _GROWING},
}

METHOD_CHECKS: dict[str, Callable[..., None]] = {
    "center": lambda text, width, *_: check_int(width, "center"),
    "ljust": lambda text, width, *_: check_int(width, "ljust"),
    "rjust": lambda text, width, *_: check_int(width, "rjust"),
    "zfill": lambda text, width: check_int(width, "zfill"),
    "expandtabs": lambda text, tabsize=8: check_size(len(text) + text.count("\t") * max(0, int(tabsize)),
                                                     "expandtabs"),
    "replace": _replace_size,
    "join": lambda sep, items: _join_size(list(items) if isinstance(items, (list, tuple)) else items, sep),
}


def bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` (a Jinja filter) checked by FILTER_CHECKS[name] before it runs."""
    check = FILTER_CHECKS[name]
    skip = 1 if hasattr(function, "jinja_pass_arg") else 0  # the context / environment argument

    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_budget()
        try:
            check(*args[skip:], **kwargs)
        except TypeError:
            pass  # wrong arguments: the filter itself says so
        return function(*args, **kwargs)

    if skip:
        bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


def check_method(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a str method call that would build too large a value."""
    owner = getattr(obj, "__self__", None)
    check = METHOD_CHECKS.get(getattr(obj, "__name__", ""))
    if check is None or not isinstance(owner, str):
        return
    try:
        inspect.signature(check).bind(owner, *args, **kwargs)
    except TypeError:
        return  # the method itself will say what is wrong
    check(owner, *args, **kwargs)


@pass_environment
def sum_filter(environment: Any, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
    """Jinja's `sum` filter over bounded_sum."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    return bounded_sum(iterable, start)


def bounded_lipsum(function: Callable[..., Any]) -> Callable[..., Any]:
    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:  # noqa: A002
        for value, what in ((n, "lipsum paragraphs"), (min, "lipsum words"), (max, "lipsum words")):
            check_int(value, what, 10_000)
        return function(n, html, min, max)

    return lipsum
