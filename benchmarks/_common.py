"""Shared by the benchmarks: temp plans, a trivial provider, timing a command, a table."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
TRIVIAL = "def call_api(prompt, options, context):\n    return {'output': 'Echo: ' + str(prompt)}\n"


def trivial_plan(directory: Path, cases: int, name: str = "bench") -> Path:
    (directory / "echo.py").write_text(TRIVIAL, encoding="utf-8")
    lines = ["version: 1", f"name: {name}", "providers:", "  echo: {python: echo.py}", "cases:"]
    for n in range(cases):
        lines += [f"  - id: C-{n}", f"    name: case {n}", "    steps:",
                  f"      - {{call: echo, prompt: 'hello {n}', expect: [{{contains: 'hello {n}'}}]}}"]
    plan = directory / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def user_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell has: bytecode written and read (as a `pip install` leaves it),
    this checkout first on the path, no colour."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return {**env, "NO_COLOR": "1", **extra}


def plain_pytest_env() -> dict[str, str]:
    """pytest as it comes, without the third-party plugins installed beside it (bench, xdist...)."""
    return user_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")


def timed_run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """(wall seconds, exit code, peak RSS in bytes of the process itself, polled every 10 ms)."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env if env is not None else {**os.environ, "NO_COLOR": "1"})
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        try:
            me = psutil.Process(proc.pid)
            while not done.is_set():
                peak = max(peak, me.memory_info().rss)
                time.sleep(0.01)
        except psutil.Error:
            pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - began
    done.set()
    watcher.join()
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace"))
    return wall, proc.returncode, peak


def interleaved(commands: dict[str, tuple[list[str], dict[str, str], Path]], rounds: int,
                ok: tuple[int, ...] = (0,)) -> dict[str, list[float]]:
    """Wall seconds of each command, run in turn `rounds` times (a busy spell of the shared machine
    then hits every one of them), after one untimed warm-up each that also writes the bytecode."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for timing in (False, *([True] * rounds)):
        for name, (argv, env, cwd) in commands.items():
            wall, code, _ = timed_run(argv, cwd, env)
            if code not in ok:
                raise SystemExit(f"{name} exited {code}")
            if timing:
                walls[name].append(wall)
    return walls


def spread(samples: list[float], base: list[float]) -> str:
    """'median ratio (lowest–highest round ratio)' of samples to base, round by round."""
    ratios = sorted(a / b for a, b in zip(samples, base))
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}x)"


def table(title: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    print(f"\n## {title}")
    widths = [max(len(str(h)), *(len(_cell(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(_cell(c).rjust(w) for c, w in zip(row, widths)))


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)
