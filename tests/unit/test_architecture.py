"""The pipeline's arrows point one way, and processes have exactly one home."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def calls_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}


@pytest.mark.parametrize("path", [p for p in SOURCES if "procs" not in p.parts], ids=lambda p: p.name)
def test_only_procs_starts_or_signals_processes(path: Path) -> None:
    assert "subprocess" not in imports_of(path) and "multiprocessing" not in imports_of(path)
    sending = {"os.kill", "os.killpg", "os.fork", "os.system", "os.popen", "os.execv", "os.spawnv"}
    assert not (calls_in(path) & sending)


@pytest.mark.parametrize("path", [p for p in SOURCES if "report" in p.parts or "result" in p.parts],
                         ids=lambda p: p.name)
def test_reports_read_only_the_result_model(path: Path) -> None:
    forbidden = {m for m in imports_of(path) if m.startswith(("orchestrator.run", "orchestrator.plan",
                                                               "orchestrator.procs"))}
    assert not forbidden


@pytest.mark.parametrize("path", [p for p in SOURCES if p.name not in ("cli.py", "__main__.py")], ids=lambda p: p.name)
def test_nothing_imports_the_cli(path: Path) -> None:
    assert "orchestrator.cli" not in imports_of(path)
