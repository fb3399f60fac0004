"""A selection that cannot be what the user meant is an error naming it and what the plans have."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import Location, UserError
from orchestrator.plan.model import CaseSpec, Plan
from orchestrator.plan.select import Selection
from orchestrator.plan.select_check import check_selected, describe, normalised

LOC = Location("p.yaml", 1, 1)


def case(cid: str, priority: str = "P2", level: str | None = None, tags: tuple[str, ...] = ()) -> CaseSpec:
    return CaseSpec(id=cid, name=cid, location=LOC, steps=(), priority=priority, level=level, tags=tags)


A = Plan(path=Path("/x/a.yaml"), name="a", cases=(case("A-1", "P0", "e2e", ("smoke",)), case("A-2", "P1")))
B = Plan(path=Path("/x/b.yaml"), name="b", cases=(case("B-1", "P3", "unit", ("api",)),))


def error(plans: list[Plan], written: Selection) -> str:
    with pytest.raises(UserError) as caught:
        check_selected(plans, normalised(written), written)
    return str(caught.value)


def test_priorities_and_levels_are_read_case_insensitively() -> None:
    assert normalised(Selection(priorities=("p0", "P1", "p0"), levels=("E2E",))) == \
        Selection(priorities=("P0", "P1"), levels=("e2e",))
    with pytest.raises(UserError, match=r"^--priority P4: no such value; use P0, P1, P2, P3$"):
        normalised(Selection(priorities=("P4",)))
    with pytest.raises(UserError, match=r"^--level integ: no such value \(did you mean 'integration'\?\)"):
        normalised(Selection(levels=("integ",)))


@pytest.mark.parametrize("written, message", [
    (Selection(priorities=("p2",)), "--priority p2 matched no case; priorities in the plans: P0, P1, P3"),
    (Selection(k="nothing"), "-k nothing matched no case; -k matches words in case ids, names and tags; "
                             "ids in the plans: A-1, A-2, B-1"),
    (Selection(ids=("A-1", "C-*")), "--id C-* matched no case; ids in the plans: A-1, A-2, B-1"),
    (Selection(tags=("smoke", "apo")), "--tag apo matched no case (did you mean 'api'?); tags in the plans: api, smoke"),
    (Selection(priorities=("P3",), levels=("e2e",)), "--priority P3 --level e2e matched no case (each option matches "
                                                     "cases on its own, but no case matches all of them); "
                                                     "ids in the plans: A-1, A-2, B-1"),
])
def test_what_matches_nothing_is_named(written: Selection, message: str) -> None:
    assert error([A, B], written) == message


def test_a_selection_that_matches_in_any_plan_is_fine() -> None:
    check_selected([A, B], Selection(priorities=("P3",)))  # only b has P3
    check_selected([A, B], Selection())
    assert describe(Selection(k="a or b", tags=("x",), priorities=("P0",), ids=("A-1",))) == \
        "-k 'a or b' --tag x --priority P0 --id A-1"
