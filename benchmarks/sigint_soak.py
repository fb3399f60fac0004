#!/usr/bin/env python3
"""Signal soak: stop `orchestrator run` with SIGINT, SIGTERM, SIGHUP or two SIGINTs at random
moments and check what it leaves behind.

Each round starts a run of a plan whose provider has 2 workers and whose cases call it (one call
leaves a child, one a setsid daemon), spawn a server and run commands, sends the signal after a
random delay (start-up, mid-call, mid-spawn, while writing reports; `double-SIGINT` sends a second
SIGINT 0-300 ms after the first), and checks:
  - the exit code: 128 + N (130 SIGINT, 143 SIGTERM, 129 SIGHUP), or 0/1 when the run had
    already finished;
  - results.json (valid against the shipped results schema), junit.xml (parses; passes
    ../shared/junit/validate_junit.py when it is there) and report.html (complete);
  - how many processes carrying the run's marker (ORCHESTRATOR_RUN_<its pid>_...) are alive
    1 s after it exited.
A round whose signal landed while the Python interpreter itself was still starting (before
`python -m orchestrator` runs a line of ours: it dies of the signal, or of a KeyboardInterrupt in
`site`) must have left no process and is counted apart as "early": no report is due then.
From the first line of orchestrator/__main__.py on, stop signals are held until the run's
handlers take them over.

usage: python benchmarks/sigint_soak.py [--rounds 20] [--signals SIGINT,SIGTERM,SIGHUP,double-SIGINT]
                                        [--max-delay 1.5] [--seed N]
Prints one line per round and a table per signal; exit status 1 if any round was bad.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO.parent / "shared" / "junit" / "validate_junit.py"
RESULTS_SCHEMA = REPO / "orchestrator" / "schema" / "results-v1.json"
KINDS = {"SIGINT": (signal.SIGINT, 1), "SIGTERM": (signal.SIGTERM, 1), "SIGHUP": (signal.SIGHUP, 1),
         "SIGQUIT": (signal.SIGQUIT, 1), "double-SIGINT": (signal.SIGINT, 2)}

PROVIDER = """\
import os, subprocess, sys, time

def call_api(prompt, options, context):
    if prompt == "child":  # a call that has a child process of its own when interrupted
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    if prompt == "daemon":  # a call that leaves a setsid daemon (a provider leak)
        subprocess.run([sys.executable, DAEMON, "61"], check=True)
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
    matrix: {{n: [1, 2, 3, 4]}}
    steps:
      - {{call: slow, prompt: "{{{{ n }}}}", expect: [{{contains: done}}]}}
  - id: CHILD
    name: a call whose worker has a child
    steps:
      - {{call: slow, prompt: child}}
  - id: DAEMON
    name: a call that leaves a daemon
    steps:
      - {{call: slow, prompt: daemon}}
  - id: SPAWN
    name: a server and a command
    steps:
      - spawn: {{name: server, command: [{python}, -c, "import time; print('up', flush=True); time.sleep(60)"],
                 ready: {{stdout_contains: up}}}}
      - exec: {{command: [{python}, -c, "import time; time.sleep(0.3)"]}}
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
    except ImportError:
        import xml.etree.ElementTree as ET

        try:
            ET.parse(path)
        except ET.ParseError as exc:
            return f"xml: {exc}"
    except Exception as exc:  # the point is to report any failure to parse
        return f"junitparser: {type(exc).__name__}"
    if VALIDATOR.exists():
        done = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            return "validator: " + next((l for l in done.stdout.splitlines() if l.startswith("FAIL")), "FAIL")
    return "valid"


def results_valid(path: Path) -> str:
    if not path.exists():
        return "missing"
    try:
        import jsonschema

        data = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(data, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    except Exception as exc:
        return f"invalid: {type(exc).__name__}"
    return "valid"


def html_valid(path: Path) -> str:
    if not path.exists():
        return "missing"
    text = path.read_text(encoding="utf-8", errors="replace")
    return "valid" if text.lstrip().lower().startswith("<!doctype html") and text.rstrip().endswith("</html>") \
        else "truncated"


def marked(pid: int) -> list[int]:
    """Live processes carrying the marker of the run whose orchestrator had pid `pid`."""
    needle = f"ORCHESTRATOR_RUN_{pid}_".encode()
    out = []
    for other in psutil.pids():
        try:
            with open(f"/proc/{other}/environ", "rb") as handle:
                if needle in handle.read() and psutil.Process(other).status() != psutil.STATUS_ZOMBIE:
                    out.append(other)
        except (OSError, psutil.Error):
            continue
    return out


def one_round(workdir: Path, plan: Path, sig: signal.Signals, count: int, delay: float,
              rng: random.Random) -> dict[str, object]:
    out = workdir / "out"
    stderr = open(workdir / "stderr.txt", "w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator", "run", str(plan), "--out", str(out), "-q"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    time.sleep(delay)
    sent = time.monotonic()
    for n in range(count):
        if proc.poll() is None:
            proc.send_signal(sig)
        if n + 1 < count:
            time.sleep(rng.uniform(0.0, 0.3))
    try:
        code: int | None = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        code = None
    took = time.monotonic() - sent
    time.sleep(1.0)
    left = marked(proc.pid)
    for pid in left:  # the soak must not leave them either
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if code is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stderr.seek(0)
    # Python itself was still starting (importing `site`) when the signal came: none of our code ran
    in_startup = "init_import_site" in stderr.read()
    stderr.close()
    return {"code": code, "took": took, "left": len(left), "startup": in_startup,
            "json": results_valid(out / "results.json"),
            "junit": junit_valid(out / "junit.xml"), "html": html_valid(out / "report.html")}


def judge(row: dict[str, object], sig: signal.Signals) -> str:
    """'ok', 'early' (the interpreter was still starting: none of our code ran, no report is
    due) or 'BAD'."""
    reports = (row["json"], row["junit"], row["html"])
    if row["left"]:
        return "BAD"
    if all(r == "missing" for r in reports) and (row["code"] == -sig or row["startup"]):
        return "early"
    if row["code"] in (128 + sig, 0, 1) and all(r == "valid" for r in reports):
        return "ok"
    return "BAD"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per signal")
    parser.add_argument("--signals", default="SIGINT,SIGTERM,SIGHUP,double-SIGINT")
    parser.add_argument("--max-delay", type=float, default=1.5)  # the plan takes ~1.5 s
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    kinds = [k.strip() for k in args.signals.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown signal kind(s) {unknown}; choose from {', '.join(KINDS)}")
    table: dict[str, list[tuple[dict[str, object], str]]] = {k: [] for k in kinds}
    print(f"{'signal':>13}  {'round':>5}  {'after':>6}  {'exit':>4}  {'took':>6}  {'left':>4}  "
          f"{'results.json':>12}  {'junit.xml':>9}  {'report.html':>11}  verdict")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        base = Path(tmp)
        daemon = REPO / "scenarios" / "targets" / "double_fork_daemon.py"
        (base / "slow.py").write_text(PROVIDER.replace("DAEMON", repr(str(daemon))), encoding="utf-8")
        plan = base / "soak.yaml"
        plan.write_text(PLAN.format(provider=base / "slow.py", python=sys.executable), encoding="utf-8")
        for n in range(1, args.rounds + 1):
            for kind in kinds:
                sig, count = KINDS[kind]
                workdir = base / f"{kind}-{n}"
                workdir.mkdir()
                delay = rng.uniform(0.0, args.max_delay)
                row = one_round(workdir, plan, sig, count, delay, rng)
                verdict = judge(row, sig)
                table[kind].append((row, verdict))
                print(f"{kind:>13}  {n:>5}  {delay:>5.2f}s  {row['code']!s:>4}  {row['took']:>5.2f}s  "
                      f"{row['left']:>4}  {row['json']!s:>12}  {row['junit']!s:>9}  {row['html']!s:>11}  {verdict}",
                      flush=True)
    print()
    print(f"{'signal':>13}  {'rounds':>6}  {'exit codes':<22}  {'valid reports':>13}  {'early':>5}  "
          f"{'marked left':>11}  {'max exit s':>10}  {'bad':>3}")
    bad = 0
    for kind, rows in table.items():
        codes = Counter(str(r["code"]) for r, _ in rows)
        valid = sum(1 for r, _ in rows if (r["json"], r["junit"], r["html"]) == ("valid",) * 3)
        early = sum(1 for _, v in rows if v == "early")
        worst = sum(1 for _, v in rows if v == "BAD")
        bad += worst
        shown = ", ".join(f"{c}x{n}" for c, n in sorted(codes.items()))
        print(f"{kind:>13}  {len(rows):>6}  {shown:<22}  {valid:>13}  {early:>5}  "
              f"{sum(int(str(r['left'])) for r, _ in rows):>11}  {max(float(str(r['took'])) for r, _ in rows):>10.2f}  "
              f"{worst:>3}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
