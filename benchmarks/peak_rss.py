"""Peak RSS of the orchestrator process itself running a plan of 10,000 trivial cases (the
workers are separate processes and not counted), beside a bare `python -c pass`.

    python benchmarks/peak_rss.py [--cases 10000]

Target: <= 60 MB.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed_run, table, trivial_plan, user_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        # one plan file per 1,000 cases: the YAML loader caps the values of one file (MAX_VALUES)
        plans = []
        for part in range(0, args.cases, 1000):
            sub = d / f"part{part // 1000}"
            sub.mkdir()
            plans.append(str(trivial_plan(sub, min(1000, args.cases - part), name=f"bench{part // 1000}")))
        _, _, bare = timed_run([sys.executable, "-c", "import time; time.sleep(0.3)"], d, user_env())
        wall, code, peak = timed_run([sys.executable, "-m", "orchestrator", "run", *plans, "-q",
                                      "--out", str(d / "out")], d, user_env())
        assert code == 0, f"orchestrator exited {code}"
    mb = 1024 * 1024
    table(f"peak RSS, {args.cases} cases ({wall:.1f} s)", ("process", "peak MB", "ratio to bare python"),
          [("python (idle interpreter)", bare / mb, 1.0), ("orchestrator run", peak / mb, peak / bare)])
    print(f"target <= 60 MB -> {'met' if peak <= 60 * mb else 'MISSED'}")


if __name__ == "__main__":
    main()
