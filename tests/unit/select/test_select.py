"""Selection (-k and filters), shards and scheduling rules, on plan models built in memory."""
from __future__ import annotations

import pytest

from pathlib import Path
from typing import Any

from orchestrator.errors import Location, UserError
from orchestrator.plan.model import CaseSpec, Plan
from orchestrator.plan.select import KExpressionError, Selection, parse_k, select
from orchestrator.plan.shard import Shard, assign, parse_shard, take_shard
from orchestrator.run.schedule import Exclusion, memory_allows, pick_next, run_order

LOC = Location("p.yaml", 1, 1)


def case(cid: str, name: str = "", tags: tuple[str, ...] = (), priority: str = "P2", level: str | None = None,
         **scheduling: Any) -> CaseSpec:
    return CaseSpec(id=cid, name=name or cid, location=LOC, steps=(), tags=tags, priority=priority,
                    level=level, **scheduling)


CASES = (case("LOGIN-1", "User logs in", ("smoke",), "P0", "e2e"),
         case("LOGIN-2", "Slow login", ("smoke", "slow"), "P1", "e2e"),
         case("API-7", "Api returns JSON", ("api",), "P1", "integration"),
         case("API-8", "Timeout is an error", ("api", "slow"), "P2", "unit"))
PLAN = Plan(path=Path("/x/p.yaml"), name="p", cases=CASES)


def ids(selection: Selection) -> list[str]:
    return [c.id for c in select([PLAN], selection).plans[0].cases]


@pytest.mark.parametrize("expr, expected", [
    ("smoke", ["LOGIN-1", "LOGIN-2"]),
    ("smoke and not slow", ["LOGIN-1"]),
    ("SLOW", ["LOGIN-2", "API-8"]),  # case-insensitive, tags too
    ("json or timeout", ["API-7", "API-8"]),  # names
    ("not (api or slow)", ["LOGIN-1"]),
    ("login-1 or (api and not slow)", ["LOGIN-1", "API-7"]),
    ("not not smoke", ["LOGIN-1", "LOGIN-2"]),
])
def test_k_expressions_as_pytest(expr: str, expected: list[str]) -> None:
    assert ids(Selection(k=expr)) == expected


@pytest.mark.parametrize("expr, message", [
    ("smoke and", "-k 'smoke and': expected a word at the end"),
    ("(smoke", "-k '(smoke': expected ')' at the end"),
    ("smoke slow", "-k 'smoke slow': unexpected 'slow' at word 2"),
    ("and smoke", "-k 'and smoke': expected a word at 'and' (word 1)"),
    ("", "-k '': empty expression"),
    ("smoke)", "-k 'smoke)': unexpected ')' at word 2"),
])
def test_bad_k_is_one_clear_line(expr: str, message: str) -> None:
    with pytest.raises(KExpressionError) as err:
        parse_k(expr)
    assert str(err.value) == message


def test_filters_combine_and_say_why() -> None:
    selected = select([PLAN], Selection(k="smoke or api", priorities=("P0", "P1"), ids=("LOGIN-*", "API-7")))
    assert [c.id for c in selected.plans[0].cases] == ["LOGIN-1", "LOGIN-2", "API-7"]
    assert selected.left_out == {"p": {"API-8": "deselected by --id LOGIN-*,API-7"}}
    why = select([PLAN], Selection(k="smoke and not slow", levels=("e2e",))).left_out["p"]
    assert why == {"LOGIN-2": "deselected by -k 'smoke and not slow'",
                   "API-7": "deselected by --level e2e (it is integration)",
                   "API-8": "deselected by --level e2e (it is unit)"}
    assert ids(Selection(tags=("api",))) == ["API-7", "API-8"]


def test_shards_partition_deterministically_and_balance_by_durations() -> None:
    keys = [f"p::C{i}" for i in range(40)]
    by_hash = assign(keys, 3)
    assert by_hash == assign(list(reversed(keys)), 3)  # order does not matter, only ids
    assert set(by_hash.values()) == {1, 2, 3}
    durations = {"p::C0": 10.0, "p::C1": 6.0, "p::C2": 5.0, "p::C3": 4.0}
    split = assign(["p::C0", "p::C1", "p::C2", "p::C3"], 2, durations)
    loads = {s: sum(durations[k] for k, v in split.items() if v == s) for s in (1, 2)}
    assert loads == {1: 14.0, 2: 11.0} or loads == {1: 11.0, 2: 14.0}  # greedy longest-first
    parts = [take_shard([PLAN], Shard(i, 2))[0].cases for i in (1, 2)]
    assert sorted(c.id for part in parts for c in part) == sorted(c.id for c in CASES)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "2"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UserError):
        parse_shard(text)


def test_priority_order_then_plan_order() -> None:
    cases = [case("late", priority="P2"), case("first", priority="P0"), case("mid-a", priority="P1"),
             case("mid-b", priority="P1"), case("odd", priority="P9")]
    items = [((0, i), None, c) for i, c in enumerate(cases)]
    assert [c.id for _, _, c in run_order(items)] == ["first", "mid-a", "mid-b", "late", "odd"]


def test_serial_and_lock_exclusion() -> None:
    a, b, s, c = case("A", lock="db"), case("B", lock="db"), case("S", serial=True), case("C")
    ex = Exclusion()
    ready = [((0, 0), None, a), ((0, 1), None, b), ((0, 2), None, c)]
    assert pick_next(ready, ex) == 0
    ex.started((0, 0), a)
    assert pick_next(ready[1:], ex) == 1  # B waits for the lock, C overtakes it
    assert pick_next([((0, 3), None, s), ((0, 2), None, c)], ex) is None  # a serial head is a barrier
    ex.finished((0, 0))
    assert pick_next([((0, 3), None, s)], ex) == 0
    ex.started((0, 3), s)
    assert not ex.allows(c)


def test_memory_limit_holds_new_cases_but_never_all() -> None:
    assert memory_allows(5, 10, running=3)
    assert not memory_allows(11, 10, running=3)
    assert memory_allows(11, 10, running=0)
    assert memory_allows(10**12, None, running=5)
