"""A Python provider's file as the plan names it (`file.py:function`) and the names its module
binds, read without running it (plan/semantic checks the function exists)."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

def split_python(spec: str) -> tuple[str, str]:
    """'echo.py:call_async' -> ('echo.py', 'call_async'); default function call_api.

    promptfoo's provider ids are accepted as written: 'file://echo.py:call_async', 'python:echo.py'.
    """
    for prefix in ("file://", "python:"):
        if spec.startswith(prefix):
            spec = spec[len(prefix):]
            break
    head, sep, tail = spec.rpartition(":")
    if sep and tail.isidentifier():
        return head, tail
    return spec, "call_api"


@lru_cache(maxsize=256)
def module_names(path: str, _mtime: int) -> tuple[list[str], str | None]:
    """Names a module binds at top level (def, async def, class, assignment, import), without running it."""
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except SyntaxError as exc:
        return [], f"{exc.msg} (line {exc.lineno})"
    except (OSError, ValueError) as exc:
        return [], str(exc)
    names: list[str] = []
    _bound(tree.body, names)
    return names, None


def _bound(body: list[ast.stmt], names: list[str]) -> None:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            _bound(node.body + node.orelse + getattr(node, "finalbody", []), names)
            for handler in getattr(node, "handlers", []):
                _bound(handler.body, names)
