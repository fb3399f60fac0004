"""Loading and validating a plan: 1,000 and 20,000 trivial cases in one file, in process
(load_plans: YAML with locations, schema, expansion, semantic checks), and `orchestrator
validate` of the 1,000-case file start to exit beside `python -c pass`.

    python benchmarks/plan_load.py [--rounds 3]

Targets: 1,000 cases <= 0.15 s; 20,000 cases <= 2 s.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import interleaved, table, trivial_plan, user_env  # noqa: E402
from orchestrator.plan.load import load_plans  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        plans = {}
        for cases in (1000, 20000):
            folder = Path(tmp) / str(cases)
            folder.mkdir()
            plans[cases] = trivial_plan(folder, cases)
        for cases, target in ((1000, 0.15), (20000, 2.0)):
            walls = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                load_plans([str(plans[cases])])
                walls.append(time.perf_counter() - began)
                gc.unfreeze()  # what load_plan froze: the next round starts as a fresh process would
                gc.collect()
            wall = statistics.median(walls)
            rows.append((f"load + validate {cases:,} cases (in process)", wall, f"{min(walls):.3f}-{max(walls):.3f}",
                         f"<= {target} s {'met' if wall <= target else 'MISSED'}"))
        walls = interleaved({"python": ([sys.executable, "-c", "pass"], user_env(), Path(tmp)),
                             "validate": ([sys.executable, "-m", "orchestrator", "validate", str(plans[1000])],
                                          user_env(), Path(tmp))}, args.rounds)
        bare, validate = statistics.median(walls["python"]), statistics.median(walls["validate"])
        rows.append(("python -c pass, start to exit", bare, "", ""))
        rows.append(("orchestrator validate 1,000 cases, start to exit", validate, "", f"{validate / bare:.1f}x python"))
    table(f"plan loading, median of {args.rounds}", ("measure", "seconds", "range", "target"), rows)


if __name__ == "__main__":
    main()
