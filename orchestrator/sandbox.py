"""Jinja's sandbox with every evaluation bounded in time and size, by construction.

A template or `expr` comes from a plan author and runs inside the orchestrator's own threads,
so it must end quickly whatever it says — a case timeout or a signal cannot interrupt a C loop
that holds the GIL. Three fences, none needing a process per evaluation:

- Operators that can build huge values in one C call (`**`, `*`, `+`, string `%`) are
  intercepted and refused when their result would be too large (sandbox_limits). Intercepted
  operators are never constant-folded at compile time, and constant bombs are named at compile
  time, so `validate` reports `9**(9**9)` instead of computing it.
- Filters and str methods that can multiply their input (`center`, `indent`, `replace`, `join`,
  `batch`, `ljust`, format widths...) are checked against their arguments before they run;
  each operand of `~` is capped, and so is the input of filters that grow it.
- Python-level work (loops, macro recursion, calls) checks a deadline: every evaluation gets
  EVALUATION_BUDGET_S from the moment its context is created.
"""
from __future__ import annotations

import contextlib
from types import CodeType
from typing import Any, Callable, Iterable, Iterator

from jinja2 import TemplateSyntaxError, nodes
from jinja2.environment import Template, TemplateExpression
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from orchestrator import sandbox_limits as limits
from orchestrator.sandbox_limits import EVALUATION_BUDGET_S, MAX_INT_BITS, MAX_LENGTH, LimitExceeded

_LOOP_FILTER = "_orchestrator_budgeted"
_TEXT_FILTER = "_orchestrator_sized_text"
_OUTPUT_FILTER = "_orchestrator_counted_output"


def _budgeted(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:  # every iteration: one may copy megabytes (`ns.s ~ 'x'`)
        limits.check_budget()
        yield item


_BOUNDED_OPS = limits.BINOPS


def _constant(node: nodes.Node, memo: dict[int, Any]) -> Any:
    """The value of an operator over literals, computed within the limits (LimitExceeded past
    them); _NOT_CONSTANT when it reads anything else. `memo` holds what was computed already."""
    if id(node) in memo:
        return memo[id(node)]
    value: Any = _NOT_CONSTANT
    if isinstance(node, nodes.Const):
        value = node.value
    elif isinstance(node, nodes.Neg):
        operand = _constant(node.node, memo)
        value = operand if operand is _NOT_CONSTANT else _safely(lambda: -operand)
    elif isinstance(node, nodes.BinExpr):
        left, right = _constant(node.left, memo), _constant(node.right, memo)
        if left is not _NOT_CONSTANT and right is not _NOT_CONSTANT:
            function = _BOUNDED_OPS.get(node.operator)
            value = _safely(lambda: function(left, right) if function else node.as_const())
    memo[id(node)] = value
    return value


def _safely(compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except LimitExceeded:
        raise
    except Exception:  # 1/0 and the like fail at run time, with the case
        return _NOT_CONSTANT


def _refuse_constant_bombs(tree: nodes.Template) -> None:
    """`validate` names `9**(9**9)` as an error instead of computing it (or hanging on it)."""
    memo: dict[int, Any] = {}
    for node in tree.find_all(nodes.BinExpr):
        if node.operator in _BOUNDED_OPS:
            try:
                _constant(node, memo)
            except LimitExceeded as exc:
                raise TemplateSyntaxError(str(exc), node.lineno) from None


_NOT_CONSTANT = object()


@contextlib.contextmanager
def _shallow() -> Iterator[None]:
    """A template nested too deeply to parse or compile is a syntax error, not a crash."""
    try:
        yield
    except RecursionError:
        raise TemplateSyntaxError("nested too deeply (or a chain of operators too long)", 1) from None


class _BudgetedTemplate(Template):
    def new_context(self, vars: dict[str, Any] | None = None, shared: bool = False,  # noqa: A002
                    locals: Any = None) -> Context:  # noqa: A002
        limits.start_budget()  # one budget per render or expression evaluation
        return super().new_context(vars, shared, locals)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox every plan template and expression runs in."""

    intercepted_binops = frozenset(limits.BINOPS)
    template_class = _BudgetedTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.binop_table = {**self.binop_table, **limits.BINOPS}
        for name in limits.FILTER_CHECKS:
            self.filters[name] = limits.bounded_filter(name, self.filters[name])
        self.filters["sum"] = limits.sum_filter
        self.filters[_LOOP_FILTER] = _budgeted
        self.filters[_TEXT_FILTER] = limits.sized_text
        self.filters[_OUTPUT_FILTER] = limits.counted_output
        self.globals["lipsum"] = limits.bounded_lipsum(self.globals["lipsum"])  # type: ignore[arg-type]

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        with _shallow():
            tree = super()._parse(source, name, filename)
            _refuse_constant_bombs(tree)  # `validate` parses without compiling
        return tree

    def compile_expression(self, source: str, undefined_to_none: bool = True) -> TemplateExpression:
        with _shallow():
            return super().compile_expression(source, undefined_to_none)

    def _compile(self, source: str, filename: str) -> CodeType:
        try:
            return super()._compile(source, filename)
        except (SyntaxError, RecursionError, MemoryError):  # Python's own nesting limits
            raise TemplateSyntaxError("nested too deeply (or a chain of operators too long)", 1) from None

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        with _shallow():
            _refuse_constant_bombs(source)  # compile_expression builds its tree without _parse
        for loop in source.find_all(nodes.For):  # every loop checks the deadline as it goes
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
        for concat in source.find_all(nodes.Concat):  # `a ~ b`: each operand within the cap
            concat.nodes = [nodes.Filter(n, _TEXT_FILTER, [], [], None, None, lineno=n.lineno) for n in concat.nodes]
        for output in source.find_all(nodes.Output):  # what a template prints, counted
            output.nodes = [n if isinstance(n, nodes.TemplateData) else
                            nodes.Filter(n, _OUTPUT_FILTER, [], [], None, None, lineno=n.lineno) for n in output.nodes]
        with _shallow():
            return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        limits.check_budget()
        return self.binop_table[operator_](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        limits.check_budget()
        limits.check_method(__obj, args, kwargs)
        if __obj is sum:
            __obj = limits.bounded_sum
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = str(value.__self__)

        def bounded(*args: Any, **kwargs: Any) -> str:
            limits.check_format(fmt, (*args, *kwargs.values()), "format")
            return wrapped(*args, **kwargs)

        return bounded


__all__ = ["BoundedSandbox", "EVALUATION_BUDGET_S", "LimitExceeded", "MAX_INT_BITS", "MAX_LENGTH"]
