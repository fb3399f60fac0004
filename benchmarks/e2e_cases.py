"""End to end, process start to exit, beside plain pytest (no third-party plugins,
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1), both with bytecode compiled as a `pip install` leaves it:

- 1,000 trivial cases (call + contains; JUnit, HTML and JSON written) beside pytest running the
  same 1,000 checks as parametrized tests with --junitxml;
- a 3-case plan with its three reports beside pytest running 3 trivial tests with --junitxml
  (the fixed cost a developer pays on every run).

    python benchmarks/e2e_cases.py [--cases 1000] [--rounds 5]

The commands run interleaved, `--rounds` times each after one warm-up each (which writes the
bytecode); the table shows the medians, and each ratio is the median of the round-by-round ratios
with their range in brackets.

Targets: 1,000 cases <= 0.5x pytest (the compass aims at 0.4x); 3 cases <= 1.0x pytest.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import interleaved, plain_pytest_env, spread, table, trivial_plan, user_env  # noqa: E402

PYTEST_FILE = '''import pytest
from echo import call_api

@pytest.mark.parametrize("n", range({cases}))
def test_case(n):
    assert "hello %d" % n in call_api("hello %d" % n, {{}}, {{}})["output"]
'''


def commands(d: Path, cases: int, tag: str) -> dict[str, tuple[list[str], dict[str, str], Path]]:
    plan = trivial_plan(d, cases)
    (d / "test_bench.py").write_text(PYTEST_FILE.format(cases=cases), encoding="utf-8")
    return {
        f"pytest --junitxml, {tag}": ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bench.py",
                                       f"--junitxml={d / 'pytest.xml'}"], plain_pytest_env(), d),
        f"orchestrator run, {tag}": ([sys.executable, "-m", "orchestrator", "run", str(plan), "-q",
                                      "--out", str(d / "out")], user_env(), d),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big", Path(tmp) / "small"
        big.mkdir()
        small.mkdir()
        cmds = {**commands(big, args.cases, f"{args.cases} cases"), **commands(small, 3, "3 cases")}
        walls = interleaved(cmds, args.rounds)
    rows = []
    verdicts = []
    for tag, target in ((f"{args.cases} cases", 0.5), ("3 cases", 1.0)):
        ours, theirs = walls[f"orchestrator run, {tag}"], walls[f"pytest --junitxml, {tag}"]
        ratio = statistics.median(a / b for a, b in zip(ours, theirs))
        rows.append((f"pytest --junitxml, {tag}", statistics.median(theirs), "1", ""))
        rows.append((f"orchestrator run (3 reports), {tag}", statistics.median(ours), spread(ours, theirs), f"<= {target}x"))
        verdicts.append(f"{tag}: {ratio:.2f}x <= {target}x -> {'met' if ratio <= target else 'MISSED'}")
    table(f"process start to exit, plain pytest beside, median of {args.rounds} interleaved rounds",
          ("runner", "wall s", "ratio (range)", "target"), rows)
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
