"""The `orchestrator` process ends as the interpreter would, minus freeing its memory
(cli/process_end.py): the exit code, the other exit hooks, the joined threads and the flushed
output are kept; only the teardown (objects' finalizers at shutdown among it) is skipped."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

SCRIPT = '''
import atexit, sys, threading, time
{pre}
from orchestrator.cli.process_end import exit_with

class Noisy:
    def __del__(self):
        print("torn down", flush=True)

keep = Noisy()
def later():
    time.sleep(0.2)
    print("thread done", end=" ")
threading.Thread(target=later).start()
atexit.register(print, "hook ran", end=" ")
print("out", end=" ")  # left in the buffer: the pipe is not a terminal
exit_with({code})
'''


def _end(code: int, pre: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT.format(code=code, pre=pre)], cwd=REPO, capture_output=True,
                          text=True, timeout=30, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("code", [0, 1, 2, 130])
def test_the_process_ends_with_its_code_after_the_threads_and_hooks_without_the_teardown(code: int) -> None:
    ended = _end(code)
    assert ended.returncode == code, ended.stderr
    assert ended.stdout == "out thread done hook ran "  # joined, hooked, flushed: in the interpreter's order
    assert "torn down" not in ended.stdout and ended.stderr == ""


@pytest.mark.parametrize("pre", ["sys.modules.setdefault('coverage', type(sys)('coverage'))",
                                 "sys.settrace(lambda *a: None)", "sys.setprofile(lambda *a: None)"])
def test_under_coverage_a_tracer_or_a_profiler_the_interpreter_ends_as_usual(pre: str) -> None:
    ended = _end(1, pre=pre)
    assert ended.returncode == 1
    assert ended.stdout.startswith("out thread done hook ran ")
    assert "torn down" in ended.stdout or not pre.startswith("sys.modules")  # (a tracer stops __del__ printing)


def test_every_exit_hook_runs_once_in_the_interpreters_order() -> None:
    ended = _end(1, pre="atexit.register(print, 'earlier hook', end=' ')")
    assert ended.returncode == 1 and ended.stdout == "out thread done hook ran earlier hook "


def test_the_module_entry_point_ends_the_process_this_way() -> None:
    main = (REPO / "orchestrator" / "__main__.py").read_text(encoding="utf-8")
    assert main.rstrip().endswith("console()")
    assert 'orchestrator = "orchestrator.cli:console"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


def test_output_that_cannot_be_flushed_at_the_end_is_said_and_keeps_the_code() -> None:
    script = ("import errno, sys\n"
              "from orchestrator.cli.process_end import exit_with\n"
              "class Full:\n"
              "    def write(self, text): return len(text)\n"
              "    def flush(self): raise OSError(errno.ENOSPC, 'No space left on device')\n"
              "sys.stdout = Full()\n"
              "exit_with(1)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=30,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["orchestrator: cannot write standard output: No space left on device; "
                                        "the rest of it is dropped (the reports and the exit code are not)"]
