"""Which cases a run takes: `-k`, `--tag`, `--priority`, `--level`, `--id`. Pure functions.

`-k` is pytest's: words joined by `and`, `or`, `not` and parentheses; a word matches a case
when it is a substring (case-insensitive) of its id, its name or one of its tags. Every left-out
case keeps the reason it was left out, for `orchestrator list`.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import field, replace
from typing import Callable, Sequence

from orchestrator.errors import UserError
from orchestrator.plan.model import CaseSpec, Plan
from orchestrator.records import record

Matcher = Callable[[CaseSpec], bool]
_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<word>[^\s()]+))")
_KEYWORDS = ("and", "or", "not")


@record
class Selection:
    k: str | None = None
    tags: tuple[str, ...] = ()  # any of them
    priorities: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # exact ids or globs

    @property
    def empty(self) -> bool:
        return not (self.k or self.tags or self.priorities or self.levels or self.ids)


@record
class Selected:
    plans: tuple[Plan, ...]  # the same plans, each with only its selected cases (in plan order)
    left_out: dict[str, dict[str, str]] = field(default_factory=dict)  # plan name -> case id -> why

    @property
    def count(self) -> int:
        return sum(len(p.cases) for p in self.plans)


class KExpressionError(UserError):
    pass


def parse_k(expression: str) -> Matcher:
    """A matcher for a `-k` expression; raises KExpressionError (one line) when it does not parse."""
    tokens = _tokens(expression)
    if not tokens:
        raise KExpressionError(f"-k {expression!r}: empty expression")
    parser = _Parser(tokens, expression)
    matcher = parser.expr()
    if parser.pos != len(tokens):
        raise KExpressionError(f"-k {expression!r}: unexpected {tokens[parser.pos]!r} "
                               f"at word {parser.pos + 1}")
    return matcher


def _tokens(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing spaces can fail to match, and rstrip removed them
            break
        tokens.append(match.group("paren") or match.group("word"))
        pos = match.end()
    return tokens


class _Parser:
    """expr := and ('or' and)*; and := not ('and' not)*; not := 'not' not | '(' expr ')' | WORD"""

    def __init__(self, tokens: list[str], source: str) -> None:
        self.tokens, self.source, self.pos = tokens, source, 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _fail(self, what: str) -> KExpressionError:
        found = self._peek()
        where = "at the end" if found is None else f"at {found!r} (word {self.pos + 1})"
        return KExpressionError(f"-k {self.source!r}: expected {what} {where}")

    def expr(self) -> Matcher:
        return self._joined("or", self.conj, lambda a, b: lambda c: a(c) or b(c))

    def conj(self) -> Matcher:
        return self._joined("and", self.neg, lambda a, b: lambda c: a(c) and b(c))

    def _joined(self, word: str, operand: Callable[[], Matcher],
                join: Callable[[Matcher, Matcher], Matcher]) -> Matcher:
        """`operand (word operand)*`, joined left to right."""
        left = operand()
        while self._peek() == word:
            self.pos += 1
            left = join(left, operand())
        return left

    def neg(self) -> Matcher:
        token = self._peek()
        if token == "not":
            self.pos += 1
            inner = self.neg()
            return lambda c: not inner(c)
        if token == "(":
            self.pos += 1
            inner = self.expr()
            if self._peek() != ")":
                raise self._fail("')'")
            self.pos += 1
            return inner
        if token is None or token == ")" or token in _KEYWORDS:
            raise self._fail("a word")
        self.pos += 1
        word = token.lower()
        return lambda c: word in c.id.lower() or word in c.name.lower() or any(word in t.lower() for t in c.tags)


def _id_matches(case: CaseSpec, patterns: Sequence[str]) -> bool:
    return any(case.id == p or fnmatch.fnmatchcase(case.id, p) for p in patterns)


def select(plans: Sequence[Plan], selection: Selection) -> Selected:
    """Keep the cases every given filter accepts; the first filter that refuses one is its reason."""
    if selection.empty:
        return Selected(tuple(plans))
    k = parse_k(selection.k) if selection.k else None
    out: list[Plan] = []
    left_out: dict[str, dict[str, str]] = {}
    for plan in plans:
        kept: list[CaseSpec] = []
        for case in plan.cases:
            why = _why_not(case, selection, k)
            if why is None:
                kept.append(case)
            else:
                left_out.setdefault(plan.name, {})[case.id] = why
        out.append(replace(plan, cases=tuple(kept)))
    return Selected(tuple(out), left_out)


def _why_not(case: CaseSpec, selection: Selection, k: Matcher | None) -> str | None:
    if selection.ids and not _id_matches(case, selection.ids):
        return "deselected by --id " + ",".join(selection.ids)
    if selection.priorities and case.priority not in selection.priorities:
        return f"deselected by --priority {','.join(selection.priorities)} (it is {case.priority})"
    if selection.levels and case.level not in selection.levels:
        return f"deselected by --level {','.join(selection.levels)} (it is {case.level or 'without a level'})"
    if selection.tags and not set(selection.tags) & set(case.tags):
        return f"deselected by --tag {','.join(selection.tags)}"
    if k is not None and not k(case):
        return f"deselected by -k {selection.k!r}"
    return None


def split_list(values: Sequence[str]) -> tuple[str, ...]:
    """`--priority P0,P1 --priority P2` → ("P0", "P1", "P2")."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())
