#!/usr/bin/env python3
"""SIGINT soak: interrupt `orchestrator run` at random moments and check what it leaves behind.

Each round starts a run of a plan whose provider has 2 workers and whose cases call it, spawn
processes and run commands, sends SIGINT after a random delay (startup, mid-call, mid-spawn,
while writing reports), and then checks:
  - the exit code (130, or 0/1 when the run had already finished),
  - how many processes of the run are still alive 2 s later (every descendant ever seen, and
    anything left in the run's session),
  - whether the partial JUnit is valid (parses with junitparser; passes
    ../shared/junit/validate_junit.py when it is there).

usage: python benchmarks/sigint_soak.py [--rounds 20] [--max-delay 1.5] [--seed N]
Exit status 1 if any round left a process or wrote an invalid report.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO.parent / "shared" / "junit" / "validate_junit.py"

PROVIDER = """\
import os, subprocess, sys, time

def call_api(prompt, options, context):
    if prompt == "child":  # a call that has a child process of its own when interrupted
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(float(options["config"]["delay"]))
    return {"output": f"done {prompt}", "pid": os.getpid()}
"""

PLAN = """\
version: 1
name: soak
providers:
  slow: {{python: {provider}, workers: 2, config: {{delay: 0.15}}}}
cases:
  - id: CALL
    name: calls
    matrix: {{n: [1, 2, 3, 4, 5, 6]}}
    steps:
      - {{call: slow, prompt: "{{{{ n }}}}", expect: [{{contains: done}}]}}
  - id: CHILD
    name: a call whose worker has a child
    steps:
      - {{call: slow, prompt: child}}
  - id: PAR
    name: concurrent calls
    steps:
      - parallel:
          - {{call: slow, prompt: a}}
          - {{call: slow, prompt: b}}
"""


def junit_valid(path: Path) -> str:
    if not path.exists():
        return "missing"
    try:
        from junitparser import JUnitXml

        JUnitXml.fromfile(str(path))
    except Exception as exc:  # the point is to report any failure to parse
        return f"junitparser: {type(exc).__name__}"
    if VALIDATOR.exists():
        done = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            return "validator: " + next((l for l in done.stdout.splitlines() if l.startswith("FAIL")), "FAIL")
    return "valid"


def alive(pids: set[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.Error:
            pass
    return out


def one_round(workdir: Path, plan: Path, delay: float) -> tuple[int | None, float, int, str]:
    out = workdir / "out"
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out), "-q"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    seen: set[int] = set()
    root = psutil.Process(proc.pid)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            seen.update(c.pid for c in root.children(recursive=True))
        except psutil.Error:
            break
        time.sleep(0.005)
    sent = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        code: int | None = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    took = time.monotonic() - sent
    settle = time.monotonic() + 2.0
    left = alive(seen)
    while left and time.monotonic() < settle:
        time.sleep(0.02)
        left = alive(seen)
    session_left = [p.pid for p in psutil.process_iter() if _sid(p.pid) == proc.pid and p.pid != proc.pid]
    stray = set(left) | set(alive(set(session_left)))
    for pid in stray:  # the soak must not leave them either
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if code is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return code, took, len(stray), junit_valid(out / "junit.xml")


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--max-delay", type=float, default=1.5)  # the plan takes ~1.5 s
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bad = 0
    print(f"{'round':>5}  {'SIGINT after':>12}  {'exit':>4}  {'exit took':>9}  {'left':>4}  junit")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        base = Path(tmp)
        (base / "slow.py").write_text(PROVIDER, encoding="utf-8")
        plan = base / "soak.yaml"
        plan.write_text(PLAN.format(provider=base / "slow.py"), encoding="utf-8")
        for n in range(1, args.rounds + 1):
            workdir = base / f"round{n}"
            workdir.mkdir()
            delay = rng.uniform(0.0, args.max_delay)
            code, took, left, junit = one_round(workdir, plan, delay)
            # Interrupted before the run began (interpreter start, plan loading): no report is due,
            # and during interpreter start Python itself dies by the signal (-2).
            early = junit == "missing" and code in (130, -signal.SIGINT)
            ok = left == 0 and (code in (0, 1, 130) or early) and (junit == "valid" or early)
            bad += not ok
            shown = "none (interrupted before the run started)" if early else junit
            print(f"{n:>5}  {delay:>11.2f}s  {code!s:>4}  {took:>8.2f}s  {left:>4}  {shown}"
                  + ("" if ok else "   <-- BAD"))
    print(f"{args.rounds} rounds: {bad} bad; processes left in total printed per round above")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
