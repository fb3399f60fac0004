"""Jinja's sandbox with every evaluation bounded in time and size, by construction.

A template or `expr` comes from a plan author and runs inside the orchestrator's own threads,
so it must end quickly whatever it says — a case timeout or a signal cannot interrupt a C loop
that holds the GIL. Three fences, none needing a process per evaluation:

- Operators that can build huge values in one C call (`**`, `*`, string `%`) are intercepted
  and refused when their result would be too large. Intercepted operators are also never
  constant-folded at compile time, so `validate` cannot blow up on `9**(9**9)`.
- Calls, filters and methods whose size argument can be huge (`center`, `indent`, `batch`,
  `ljust`, format widths...) are refused past the same length cap.
- Python-level work (loops, macro recursion, calls) checks a deadline: every evaluation gets
  EVALUATION_BUDGET_S from the moment its context is created.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from jinja2 import TemplateSyntaxError, nodes
from jinja2.environment import Template
from jinja2.runtime import Context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

EVALUATION_BUDGET_S = 2.0
MAX_LENGTH = 16 * 1024 * 1024  # characters or items one operation may produce
MAX_INT_BITS = 1_000_000  # about 300,000 decimal digits

_LOOP_FILTER = "_orchestrator_budgeted"
_SIZED_FILTERS = {"center": (0,), "indent": (0,), "batch": (0,), "slice": (0,), "format": ()}
_SIZED_METHODS = ("center", "ljust", "rjust", "zfill", "expandtabs")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")


class LimitExceeded(SecurityError):
    """An evaluation that would take too long or build too large a value."""


_state = threading.local()


def _start_budget() -> None:
    _state.deadline = time.monotonic() + EVALUATION_BUDGET_S


def _check_budget() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise LimitExceeded(f"evaluation took longer than {EVALUATION_BUDGET_S:g}s "
                            "(templates and expressions are limited; loop or recurse less)")


def _too_long(n: int, what: str) -> LimitExceeded:
    return LimitExceeded(f"{what} would hold {n:,} items or characters (limit {MAX_LENGTH:,})")


def _check_int(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_LENGTH:
        raise _too_long(abs(value), what)


def _check_format(fmt: str, args: Iterable[Any], what: str) -> None:
    """Refuse widths/precisions past the cap in a `%` or `str.format` format string."""
    widths = [w for m in _PERCENT_SPEC.finditer(fmt) for w in m.groups() if w and w != "*"]
    widths += re.findall(r"\d+", " ".join(_BRACE_SPEC.findall(fmt)))
    for width in widths:
        if len(width) > 9 or int(width) > MAX_LENGTH:
            raise _too_long(int(width) if len(width) < 30 else 10 ** len(width), what)
    for arg in args:  # `%*d` and `{:{}}` take their width from the arguments
        _check_int(arg, what)


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = abs(base).bit_length() * exponent
        if bits > MAX_INT_BITS:
            raise LimitExceeded(f"{base} ** {exponent} would have about {bits:,} bits "
                                f"(limit {MAX_INT_BITS:,})")
    return base ** exponent


def _times(left: Any, right: Any) -> Any:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
            if len(seq) * n > MAX_LENGTH:
                raise _too_long(len(seq) * n, "repetition")
    if isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length() + abs(right).bit_length()
        if bits > MAX_INT_BITS:
            raise LimitExceeded(f"a product of about {bits:,} bits (limit {MAX_INT_BITS:,})")
    return left * right


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _check_format(left, right if isinstance(right, tuple) else (right,), "formatting")
    return left % right


def _sized_filter(function: Callable[..., Any], positions: tuple[int, ...], name: str) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_budget()
        if name == "format" and args and isinstance(args[0], str):  # format has no pass_arg
            _check_format(args[0], args[1:], "format")
        skip = 2 if hasattr(function, "jinja_pass_arg") else 1  # the context, the value
        for position in positions:
            if len(args) > position + skip:
                _check_int(args[position + skip], name)
        for value in kwargs.values():
            _check_int(value, name)
        return function(*args, **kwargs)

    for attr in ("jinja_pass_arg",):  # keep @pass_environment / @pass_context markers
        if hasattr(function, attr):
            setattr(bounded, attr, getattr(function, attr))
    return bounded


def _budgeted(items: Iterable[Any]) -> Iterator[Any]:
    for n, item in enumerate(items):
        if n % 256 == 0:
            _check_budget()
        yield item


_BOUNDED_OPS: dict[str, Callable[[Any, Any], Any]] = {"**": _power, "*": _times, "%": _modulo}


def _constant(node: nodes.Node) -> Any:
    """The value of an operator over literals, computed within the limits (LimitExceeded past
    them); _NOT_CONSTANT when it reads anything else."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg):
        value = _constant(node.node)
        return value if value is _NOT_CONSTANT else _safely(lambda: -value)
    if isinstance(node, nodes.BinExpr):
        left, right = _constant(node.left), _constant(node.right)
        if left is _NOT_CONSTANT or right is _NOT_CONSTANT:
            return _NOT_CONSTANT
        function = _BOUNDED_OPS.get(node.operator)
        return _safely(lambda: function(left, right) if function else node.as_const())
    return _NOT_CONSTANT


def _safely(compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except LimitExceeded:
        raise
    except Exception:  # 1/0 and the like fail at run time, with the case
        return _NOT_CONSTANT


def _refuse_constant_bombs(tree: nodes.Template) -> None:
    """`validate` names `9**(9**9)` as an error instead of computing it (or hanging on it)."""
    for node in tree.find_all(nodes.BinExpr):
        if node.operator in _BOUNDED_OPS:
            try:
                _constant(node)
            except LimitExceeded as exc:
                raise TemplateSyntaxError(str(exc), node.lineno) from None


_NOT_CONSTANT = object()


class _BudgetedTemplate(Template):
    def new_context(self, vars: dict[str, Any] | None = None, shared: bool = False,  # noqa: A002
                    locals: Any = None) -> Context:  # noqa: A002
        _start_budget()  # one budget per render or expression evaluation
        return super().new_context(vars, shared, locals)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox every plan template and expression runs in."""

    intercepted_binops = frozenset({"**", "*", "%"})
    template_class = _BudgetedTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.binop_table = {**self.binop_table, "**": _power, "*": _times, "%": _modulo}
        for name, positions in _SIZED_FILTERS.items():
            self.filters[name] = _sized_filter(self.filters[name], positions, name)
        self.filters[_LOOP_FILTER] = _budgeted

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _refuse_constant_bombs(tree)
        for loop in tree.find_all(nodes.For):  # every loop checks the deadline as it goes
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
        return tree

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        _refuse_constant_bombs(source)  # compile_expression builds its tree without _parse
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        _check_budget()
        return self.binop_table[operator_](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_budget()
        if getattr(__obj, "__name__", None) in _SIZED_METHODS and isinstance(getattr(__obj, "__self__", None), str):
            for value in (*args, *kwargs.values()):
                _check_int(value, str(__obj.__name__))
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = str(value.__self__)

        def bounded(*args: Any, **kwargs: Any) -> str:
            _check_format(fmt, (*args, *kwargs.values()), "format")
            return wrapped(*args, **kwargs)

        return bounded


__all__ = ["BoundedSandbox", "EVALUATION_BUDGET_S", "LimitExceeded", "MAX_INT_BITS", "MAX_LENGTH"]
