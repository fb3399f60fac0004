#!/usr/bin/env python3
"""Leak attribution under `-j 4`: only the cases that leave daemons are ERRORs, each naming its own.

Each round runs a plan of 12 cases with `-j 4`: half of them leave a double-forked setsid daemon
and an orphan (each with a sleep length unique to the case, so a message names whose it is),
half start and finish processes cleanly and check `processes: {of: case}` is empty. A round is
good when every leaking case is an ERROR naming exactly its own two processes, every clean case
passed, and no process of the plan is alive afterwards.

usage: python benchmarks/leak_attribution.py [--rounds 20] [--jobs 4]
Exit status 1 if any round was not good.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
TARGETS = REPO / "scenarios" / "targets"
CASES = 12


def write_plan(folder: Path, base: int) -> Path:
    lines = ["version: 1", "name: leak-attribution", "cases:"]
    for i in range(CASES):
        if i % 2 == 0:
            lines += [f"  - id: LEAK-{i}", f"    name: leaves a daemon and an orphan {i}", "    steps:",
                      f"      - exec: {{command: [{sys.executable}, {TARGETS / 'double_fork_daemon.py'}, '{base + i}']}}",
                      f"      - exec: {{command: [{sys.executable}, {TARGETS / 'leave_orphans.py'}, '1', '{base + 100 + i}']}}",
                      f"      - sleep: {0.05 * (i % 4)}s"]
        else:
            lines += [f"  - id: CLEAN-{i}", f"    name: cleans up {i}", "    steps:",
                      f"      - exec: {{command: [{sys.executable}, -c, 'import time; time.sleep(0.{i % 5})']}}",
                      f"      - sleep: {0.05 * (i % 3)}s",
                      "      - processes: {of: case}", "        expect: [{count: 0}]"]
    plan = folder / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def sleeps_alive(base: int) -> list[int]:
    wanted = {str(base + i) for i in range(CASES)} | {str(base + 100 + i) for i in range(CASES)}
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if len(argv) == 2 and argv[0].endswith("sleep") and argv[1] in wanted:
            out.append(proc.pid)
    return out


def one_round(folder: Path, jobs: int, base: int) -> tuple[bool, str]:
    plan = write_plan(folder, base)
    out = folder / "out"
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", str(plan), "-j", str(jobs), "-q",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    cases = json.loads((out / "results.json").read_text(encoding="utf-8"))["cases"]
    problems = []
    for case in cases:
        i = int(case["id"].split("-")[1])
        if case["id"].startswith("LEAK"):
            named = sorted(int(n) for n in re.findall(r"\(sleep (\d+)\)", case["message"] + json.dumps(case["attempts"])))
            named = sorted(set(named))
            if case["status"] != "error" or named != [base + i, base + 100 + i]:
                problems.append(f"{case['id']} {case['status']} names {named}")
        elif case["status"] != "passed":
            problems.append(f"{case['id']} {case['status']}: {case['message'][:120]}")
    time.sleep(0.2)
    left = sleeps_alive(base)
    if left:
        problems.append(f"left alive: {left}")
        for pid in left:
            psutil.Process(pid).kill()
    return (done.returncode == 1 and not problems), "; ".join(problems) or f"exit {done.returncode}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    good = 0
    with tempfile.TemporaryDirectory(prefix="leak-attribution-") as tmp:
        for n in range(1, args.rounds + 1):
            folder = Path(tmp) / f"round{n}"
            folder.mkdir()
            ok, detail = one_round(folder, args.jobs, 7000 + 200 * n)
            good += ok
            print(f"round {n:>3}: {'ok ' if ok else 'BAD'}  {detail}", flush=True)
    print(f"{good} of {args.rounds} rounds: only the leaking cases were ERRORs, each naming its own processes")
    return 0 if good == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
