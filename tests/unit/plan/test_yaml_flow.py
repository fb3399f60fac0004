"""The quick proof that a plan's [ / { nesting is shallow (plan/yaml_flow) must never be wrong:
where it says "within the limit", yaml_load's exact scan must find nothing to refuse."""
from __future__ import annotations

import random

import pytest

from orchestrator.plan import yaml_load
from orchestrator.plan.yaml_flow import flow_depth_within


def _exact_scan_passes(text: str, limit: int, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(yaml_load, "MAX_DEPTH", limit)
    try:
        yaml_load._check_flow_depth(text)
    except yaml_load._Fail:
        return False
    return True


def test_never_says_shallow_where_the_exact_scan_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(13)
    proved = 0
    for _ in range(20_000):  # brackets, both quotes, line ends and text, nested a few levels
        text = "".join(rng.choice("[]{}\"'\nab ") for _ in range(rng.randrange(1, 40)))
        for limit in (1, 2, 3):
            if flow_depth_within(text, limit):
                proved += 1
                assert _exact_scan_passes(text, limit, monkeypatch), (text, limit)
    assert proved > 5_000  # and it does prove the shallow ones


@pytest.mark.parametrize("text, shallow", [
    ("x: [1, {a: 'it''s [not', b: \"{{ x }}\"}]\n" * 200, True),  # quoted brackets do not count
    ("x: " + "[" * 101 + "]" * 101 + "\n", False),
    ("x: " + "[" * 100 + "]" * 100 + "\n", True),
    ("x: '" + "[" * 200 + "'\n", True),
    ("x: it's\n" + "[" * 150 + "\n", False),  # a quote that does not close on its line: the exact scan judges
    ("x: [1, '\n" + "[" * 150 + "\n', 2]\n", False),
])
def test_plans_with_many_brackets(text: str, shallow: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    assert flow_depth_within(text, 100) is shallow
    if shallow:
        assert _exact_scan_passes(text, 100, monkeypatch)
