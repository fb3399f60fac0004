"""Workers run under the user's interpreter: any CPython >= 3.9 with only the standard library."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.procs.api import CallRequest, PoolConfig
from orchestrator.procs.pool import WorkerPool

WORKER_MAIN = Path(__file__).resolve().parents[2] / "orchestrator" / "procs" / "worker_main.py"
PROVIDERS = Path(__file__).resolve().parents[2] / "scenarios" / "providers"


def test_worker_source_is_python_3_9_syntax_and_stdlib_only() -> None:
    source = WORKER_MAIN.read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 9))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert "orchestrator" not in imported
    third_party = {name for name in imported if name not in __import__("sys").stdlib_module_names}
    assert not third_party


def _python39() -> str | None:
    found = sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob("3.9.*/bin/python3.9"))
    if found:  # the real binary: pyenv's shim on PATH only works where 3.9 is selected
        return str(found[-1])
    on_path = shutil.which("python3.9")
    if on_path and "/shims/" not in on_path:
        return on_path
    return None


def test_a_venv_of_python_3_9_without_our_package_runs_sync_and_async_providers(tmp_path: Path) -> None:
    python39 = _python39()
    if python39 is None:
        if os.environ.get("CI"):
            pytest.fail("no CPython 3.9 found (python3.9 on PATH or ~/.pyenv/versions/3.9.*)")
        pytest.skip("no CPython 3.9 on this machine (python3.9 or ~/.pyenv/versions/3.9.*)")
    venv = tmp_path / "venv39"
    subprocess.run([python39, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    interpreter = str(venv / "bin" / "python")
    for provider in ("echo.py", "async_echo.py"):
        pool = WorkerPool(PoolConfig(provider_id="p39", python_file=str(PROVIDERS / provider),
                                     interpreter=interpreter, cwd=str(tmp_path)))
        try:
            pool.start()
            outcome = pool.call(CallRequest(prompt="héllo 😀 \ud800"))
            assert outcome.error is None, outcome.error
            assert outcome.result is not None and outcome.result["output"].endswith("héllo 😀 \ud800")
        finally:
            pool.close()
