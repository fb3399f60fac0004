"""Every benchmark, one after the other, each printing its table with its peer side by side.

    python benchmarks/run_all.py [--quick]

(`benchmarks/sigint_soak.py` is a soak test, not a figure: run it on its own.)
"""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv[1:]
RUNS = [
    ["roundtrip.py", "--calls", "1000" if QUICK else "5000"],
    ["e2e_cases.py", "--cases", "1000", "--rounds", "3" if QUICK else "5"],
    ["plan_load.py"],
    ["import_calls.py"],
    ["load_throughput.py", "--seconds", "1" if QUICK else "2"],
    ["peak_rss.py", "--cases", "2000" if QUICK else "10000"],
    ["parallel_jobs.py", "--rounds", "1" if QUICK else "3"],
    ["report_render.py", "--cases", "2000" if QUICK else "10000"],
]


def main() -> int:
    failed = 0
    for script, *args in RUNS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, os.path.join(HERE, script), *args]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
