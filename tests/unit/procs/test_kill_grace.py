"""One kill escalation, one grace: every tree the product kills waits ORCHESTRATOR_KILL_GRACE
seconds (default 0.5) between SIGTERM and SIGKILL."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "orchestrator"
# Not a TERM -> KILL grace: how long a process seen exiting may take before it counts as a leak.
NOT_KILL_GRACES = {"EXITING_GRACE_S"}


@pytest.mark.parametrize(("given", "grace"), [(None, 0.5), ("2", 2.0), ("0", 0.0), ("-1", 0.0), ("999", 60.0),
                                              ("soon", 0.5), ("nan", 0.5)])
def test_the_grace_comes_from_the_environment_within_bounds(given: str | None, grace: float) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ORCHESTRATOR_KILL_GRACE"}
    if given is not None:
        env["ORCHESTRATOR_KILL_GRACE"] = given
    done = subprocess.run([sys.executable, "-c", "from orchestrator.procs import tree; print(tree.KILL_GRACE_S)"],
                          capture_output=True, text=True, env=env, timeout=60, check=True)
    assert float(done.stdout) == grace


def test_no_other_module_writes_its_own_grace() -> None:
    """A default `grace_s=0.5` (or a *_GRACE_S constant) beside tree.KILL_GRACE_S is a second
    escalation policy waiting to drift."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.arg) and node.arg == "grace_s":
                continue
            targets = node.targets if isinstance(node, ast.Assign) else []
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(n.endswith("GRACE_S") and n not in NOT_KILL_GRACES for n in names) and path.name != "tree.py":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if isinstance(node, ast.keyword) and node.arg == "grace_s" and isinstance(node.value, ast.Constant) \
                    and node.value.value not in (0, 0.0):
                found.append(f"{path.relative_to(PACKAGE)}:{node.value.lineno}")
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = fn.args.args[-len(fn.args.defaults):] if fn.args.defaults else []
                pairs = list(zip(args, fn.args.defaults)) + list(zip(fn.args.kwonlyargs, fn.args.kw_defaults))
                found += [f"{path.relative_to(PACKAGE)}:{fn.lineno}" for a, d in pairs
                          if a.arg == "grace_s" and isinstance(d, ast.Constant)]
    assert found == []
