"""The step actions whose modules are imported on first use (run/actions.py) are the ones those
modules define: an action added to a module's table must be named in the lazy table too."""
from __future__ import annotations

import importlib

from orchestrator.run.actions import _ELSEWHERE, ACTIONS
from orchestrator.run.steps import ACTIONS as CORE_ACTIONS


def test_the_lazy_table_names_exactly_what_each_module_defines() -> None:
    tables: dict[tuple[str, str], set[str]] = {}
    for name, where in _ELSEWHERE.items():
        tables.setdefault(where, set()).add(name)
    for (module, table), names in tables.items():
        assert set(getattr(importlib.import_module(module), table)) == names, module
    assert set(ACTIONS) == set(CORE_ACTIONS) | set(_ELSEWHERE)
