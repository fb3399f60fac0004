"""Error types are an enum (`ErrorKind`), never string literals repeated across the code."""
from __future__ import annotations

import ast
import json
from pathlib import Path

from orchestrator.errors import ErrorKind
from orchestrator.result.model import ErrorInfo
from orchestrator.result.store import encode

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
KINDS = {k.value for k in ErrorKind}
PENDING: set[str] = set()  # files allowed to keep literals while a branch that rewrites them is in flight


def literal_kinds(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [f"{path.relative_to(PACKAGE)}:{n.lineno}: {n.value!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in KINDS and id(n) not in docstrings]


def test_no_error_kind_is_spelt_as_a_string_literal() -> None:
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) if str(p.relative_to(PACKAGE)) not in PENDING
             and p.name != "errors.py" for hit in literal_kinds(p)]
    assert found == []


def test_results_carry_the_same_text_as_before_the_enum() -> None:
    error = ErrorInfo(ErrorKind.TIMEOUT, "case timed out after 1s")
    assert json.loads(encode(error))["type"] == "TimeoutError"
    assert f"{error.type}: {error.message}" == "TimeoutError: case timed out after 1s"
    assert ErrorInfo("TimeoutError", error.message) == error  # read back from results.json
