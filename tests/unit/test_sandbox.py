"""Templates and expressions end quickly whatever a plan author writes: huge values are refused
before they are built, long loops run out of budget, and constant bombs fail at compile time."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from orchestrator import sandbox_limits as sandbox
from orchestrator.templating import TemplateError, check_expression, check_template, evaluate, render_string

REFUSED_EXPRESSIONS = {
    "power tower": ("9**(9**8)", "bits"),
    "power of a variable": ("n**(n**8)", "bits"),
    "string repetition": ("'a' * n**10", "repetition would hold"),
    "list repetition": ("[0] * (n * 10**8)", "repetition would hold"),
    "repeated squaring": ("(n**400000) * (n**400000)", "bits"),
    "percent width": ("'%0999999999d' % n", "formatting would hold"),
    "percent star width": ("'%*d' % (999999999, n)", "formatting would hold"),
    "format width": ("'{:>999999999}'.format(n)", "format would hold"),
    "nested format width": ("'{:{}}'.format(n, 999999999)", "format would hold"),
    "ljust": ("'a'.ljust(999999999)", "ljust would hold"),
    "center filter": ("'a' | center(999999999)", "center would hold"),
    "indent filter": ("'a\\nb' | indent(999999999)", "indent would hold"),
    "batch filter": ("[1] | batch(999999999, 0) | list", "batch would hold"),
    "slice filter": ("[1] | slice(999999999) | list", "slice would hold"),
    "doubling by +": ("big + big", "concatenation would hold"),
    "doubling by ~": ("(big ~ big) ~ (big ~ big)", "concatenation would hold"),
    "join of copies": ("[big, big] | join", "join would hold"),
    "str.join of copies": ("''.join([big, big])", "join would hold"),
    "replace growing": ("big | replace('x', 'xx')", "replace would hold"),
    "str.replace growing": ("big.replace('x', 'xxx')", "replace would hold"),
    "indent of many lines": ("('x\\n' * 8000000) | indent(8)", "indent would hold"),
    "expandtabs": ("('\\t' * 1000000).expandtabs(100)", "expandtabs would hold"),
    "sum of lists (global)": ("sum([[0] * 4000] * 5000, [])", "sum would hold"),
    "sum of lists (filter)": ("([[0] * 4000] * 5000) | sum(start=[])", "sum would hold"),
    "escape of a huge text": ("(big ~ big) | escape", "the input of a filter would hold"),
    "format of huge arguments": ("'%s%s' % (big, big)", "formatting would hold"),
    "lorem ipsum": ("lipsum(10**6)", "lipsum paragraphs would hold"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_EXPRESSIONS))
def test_a_huge_value_is_refused_before_it_is_built(name: str) -> None:
    source, message = REFUSED_EXPRESSIONS[name]
    started = time.monotonic()
    with pytest.raises(TemplateError, match=message):
        evaluate(source, {"n": 9, "big": "x" * 10_000_000})
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("source, value", [
    ("2 ** 10", 1024), ("'ab' * 3", "ababab"), ("3 * [0]", [0, 0, 0]), ("'%05d' % n", "00009"),
    ("'%s-%s' % (1, 2)", "1-2"), ("'{:>4}'.format(n)", "   9"), ("(2 ** 64) * (2 ** 64)", 2 ** 128),
    ("-2 ** 3", -8), ("[1, 2, 3] | slice(2) | list", [[1, 2], [3]]), ("2.5 * 2", 5.0),
    ("'a' + 'b'", "ab"), ("[1] + [2]", [1, 2]), ("1 + 2", 3), ("'a' ~ 1 ~ 'b'", "a1b"),
    ("['a', 'b'] | join(',')", "a,b"), ("'-'.join(['a', 'b'])", "a-b"), ("'aa' | replace('a', 'bb')", "bbbb"),
    ("'a\\nb' | indent(2)", "a\n  b"), ("sum([1, 2, 3])", 6), ("[[1], [2]] | sum(start=[])", [1, 2]),
    ("sum([[1], [2]], [])", [1, 2]), ("[{'n': 2}, {'n': 3}] | sum(attribute='n')", 5),
    ("'x<y' | escape | string", "x&lt;y"), ("lipsum(1, false, 5, 10) | length > 0", True),
])
def test_ordinary_arithmetic_still_works(source: str, value: object) -> None:
    assert evaluate(source, {"n": 9}) == value


@pytest.mark.parametrize("source", ["9**(9**9) > 1", "'a' * 10**10", "'x' * (10**9) == ''", "-(9**(9**9))"])
def test_a_constant_bomb_fails_at_compile_time_without_being_computed(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError, match="limit"):
        check_expression(source)
    with pytest.raises(TemplateError, match="limit"):
        check_template("{{ " + source + " }}")
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("template", [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "{% for a in big %}{% for b in big %}{% for c in big %}{% endfor %}{% endfor %}{% endfor %}",
])
def test_a_long_computation_runs_out_of_budget(template: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "EVALUATION_BUDGET_S", 0.3)
    started = time.monotonic()
    with pytest.raises(TemplateError, match="took longer than 0.3s"):
        render_string(template, {"big": list(range(3000))})
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("template", [
    "{% for i in range(1000) %}{{ big }}{% endfor %}",
    "{% macro m() %}{% for i in range(1000) %}{{ big }}{% endfor %}{% endmacro %}{{ m() }}",
])
def test_a_template_cannot_print_gigabytes(template: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError, match="would print more than 67,108,864 characters"):
        render_string(template, {"big": "x" * 10_000_000})
    assert time.monotonic() - started < 1.0


def test_each_evaluation_gets_its_own_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "EVALUATION_BUDGET_S", 0.3)
    evaluate("1", {})
    time.sleep(0.4)
    assert render_string("{% for i in range(3) %}{{ loop.index }}{% endfor %}", {}) == "123"


def test_a_signal_is_handled_while_a_template_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget is checked in Python, so the main thread's signal handler runs meanwhile."""
    monkeypatch.setattr(sandbox, "EVALUATION_BUDGET_S", 30.0)

    class Stopped(BaseException):  # as KeyboardInterrupt is
        pass

    def stop(signum: int, frame: object) -> None:
        raise Stopped()

    previous = signal.signal(signal.SIGUSR1, stop)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    started = time.monotonic()
    try:
        timer.start()
        with pytest.raises(Stopped):
            render_string("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", {})
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("source", ["1" + " * 1" * 5000, "1" + " + 1" * 3000, "(" * 500 + "1" + ")" * 500,
                                    "(2 ** 500000)" + " * 1" * 300])
def test_an_expression_nested_too_deeply_is_a_syntax_error_not_a_crash(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError, match="nested too deeply"):
        check_expression(source)
    assert time.monotonic() - started < 2.0
