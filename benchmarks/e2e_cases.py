"""1,000 trivial cases end to end (call + contains; JUnit, HTML and JSON written; process start
to exit) beside pytest running the same 1,000 checks as parametrized tests with --junitxml.

    python benchmarks/e2e_cases.py [--cases 1000] [--rounds 3]

The two commands alternate, `--rounds` times each; the table shows medians.

Target: orchestrator <= 0.4x pytest's wall time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed_run, table, trivial_plan  # noqa: E402

PYTEST_FILE = '''import pytest
from echo import call_api

@pytest.mark.parametrize("n", range({cases}))
def test_case(n):
    assert "hello %d" % n in call_api("hello %d" % n, {{}}, {{}})["output"]
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        plan = trivial_plan(d, args.cases)
        (d / "test_bench.py").write_text(PYTEST_FILE.format(cases=args.cases), encoding="utf-8")
        ours_runs: list[float] = []
        theirs_runs: list[float] = []
        for _ in range(args.rounds):  # alternating, so a busy spell of the machine hits both
            wall, code, _ = timed_run([sys.executable, "-m", "orchestrator", "run", str(plan), "-q",
                                       "--out", str(d / "out")], d)
            assert code == 0, f"orchestrator exited {code}"
            ours_runs.append(wall)
            wall, code, _ = timed_run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                       "test_bench.py", f"--junitxml={d / 'pytest.xml'}"], d)
            assert code == 0, f"pytest exited {code}"
            theirs_runs.append(wall)
        ours, theirs = statistics.median(ours_runs), statistics.median(theirs_runs)
    table(f"{args.cases} trivial cases, process start to exit, median of {args.rounds}", ("runner", "wall s", "ratio"),
          [("pytest --junitxml", theirs, 1.0), ("orchestrator run (3 reports)", ours, ours / theirs)])
    print(f"target: orchestrator <= 0.4x pytest -> {'met' if ours / theirs <= 0.4 else 'MISSED'}")


if __name__ == "__main__":
    main()
