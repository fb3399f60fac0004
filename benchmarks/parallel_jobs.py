"""`-j 2` against `-j 1`: 40 cases that each sleep 100 ms in a provider with 2 workers.

    pip install pytest-xdist   # the peer, measured side by side (skipped with a note if missing)
    python benchmarks/parallel_jobs.py [--cases 40] [--sleep-ms 100] [--rounds 3]

Not a test: prints a table and the ratios (medians of interleaved rounds, bytecode compiled).
Target: orchestrator -j 2 <= 0.55x of -j 1 (pytest-xdist -n 2 against plain pytest on the same
sleeping tests is the peer).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROVIDER = """import time

def call_api(prompt, options, context):
    time.sleep(float(prompt) / 1000)
    return {"output": "slept"}
"""


def write_plan(folder: Path, cases: int, sleep_ms: int) -> Path:
    (folder / "sleeper.py").write_text(PROVIDER, encoding="utf-8")
    lines = ["version: 1", "name: parallel-bench", "providers:", "  sleeper:",
             "    python: sleeper.py", "    workers: 2", "cases:"]
    for i in range(cases):
        lines += [f"  - id: C{i:03d}", f"    name: sleep {i}", "    steps:",
                  f"      - call: sleeper", f"        prompt: '{sleep_ms}'",
                  "        expect: [{equals: slept}]"]
    plan = folder / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def write_pytest(folder: Path, cases: int, sleep_ms: int) -> Path:
    body = ["import time", "import pytest", "",
            f"@pytest.mark.parametrize('i', range({cases}))",
            "def test_sleep(i):", f"    time.sleep({sleep_ms / 1000})", ""]
    path = folder / "test_sleep.py"
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as a user has it
    done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sleep-ms", type=int, default=100)
    args = parser.parse_args()
    env_python = sys.executable
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = write_plan(folder, args.cases, args.sleep_ms)
        run = [env_python, "-m", "orchestrator", "run", str(plan), "-q", "--out", str(folder / "out")]
        os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
        timed(run + ["-j", "1"], folder)  # warm-up: bytecode written
        ones, twos = [], []
        for _ in range(args.rounds):
            ones.append(timed(run + ["-j", "1"], folder))
            twos.append(timed(run + ["-j", "2"], folder))
        ratios = sorted(b / a for a, b in zip(ones, twos))
        one, two = statistics.median(ones), statistics.median(twos)
        rows.append(("orchestrator -j 1 / -j 2", one, two))
        try:
            import xdist  # noqa: F401
        except ImportError:
            print("pytest-xdist is not installed: `pip install pytest-xdist` to measure the peer")
        else:
            write_pytest(folder, args.cases, args.sleep_ms)
            pytest = [env_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_sleep.py"]
            serial = timed(pytest + ["-p", "no:xdist"], folder)
            parallel = timed(pytest + ["-n", "2"], folder)
            rows.append(("pytest / pytest-xdist -n 2", serial, parallel))
    ideal = args.cases * args.sleep_ms / 1000
    print(f"{args.cases} cases x {args.sleep_ms} ms (ideal: {ideal:.1f}s serial, {ideal / 2:.1f}s on 2 jobs)")
    print(f"{'runner':<30} {'1 job (s)':>10} {'2 jobs (s)':>11} {'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:<30} {a:>10.2f} {b:>11.2f} {b / a:>7.2f}")
    print(f"orchestrator ratio: median {statistics.median(ratios):.2f} over {args.rounds} rounds "
          f"({ratios[0]:.2f}-{ratios[-1]:.2f}); target <= 0.55")


if __name__ == "__main__":
    main()
