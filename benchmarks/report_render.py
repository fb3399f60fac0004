"""Rendering a 10,000-case results file to JSON, JUnit and HTML, and the HTML's time to interactive.

    python benchmarks/report_render.py [--cases 10000] [--rounds 3]

Not a test: prints a table of medians beside their targets (render: <= 2 s for all three formats;
HTML interactive in headless Chromium: <= 1 s) with the ratio to the target. The Chromium part
needs /usr/bin/chromium and the playwright package; without them it says so and is left out.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from orchestrator.report.writers import write_reports  # noqa: E402
from orchestrator.result.model import (  # noqa: E402
    AssertionResult, Attempt, CaseResult, GateResult, GateRule, PlanInfo, RunResult, Status, StepResult,
)
from orchestrator.report.json_report import write_results as write_json  # noqa: E402
from orchestrator.result.store import read_json  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def make_run(n: int) -> RunResult:
    """A realistic big run: 3 steps a case, a few assertions, a little output, 5% failures, some retries."""
    t0 = 1_700_000_000.0
    cases = []
    for i in range(n):
        failed = i % 20 == 0
        steps = tuple(
            StepResult(index=k, title=f"call {k}", action="call", status=Status.FAILED if failed and k == 2 else Status.PASSED,
                       duration_s=0.01, line=10 + k, fields={"output": f"answer {i}.{k}", "worker": {"pid": 1000 + i % 8}},
                       assertions=(AssertionResult("contains", not (failed and k == 2), "answer", f"answer {i}.{k}",
                                                   "output", "" if not failed else "output lacks 'answer'", 12 + k),))
            for k in range(3))
        status = Status.FAILED if failed else Status.PASSED
        attempts = tuple(Attempt(status=status, duration_s=0.03, steps=steps, stdout=f"log line {i}\n" * 5,
                                 started_at=t0 + i * 0.01 + r, job=i % 8, peak_rss_bytes=40_000_000)
                         for r in range(2 if failed else 1))
        cases.append(CaseResult(id=f"C-{i:05d}", name=f"case number {i}", plan=f"plan{i % 3}", file="plans/big.yaml",
                                line=10 + i, status=status, message="output lacks 'answer'" if failed else "",
                                duration_s=0.03 * len(attempts), attempts=attempts, priority=f"P{i % 3}",
                                level=("unit", "integration", "e2e")[i % 3], tags=(f"t{i % 7}",), covers=(f"AC-{i % 50}",)))
    plans = tuple(PlanInfo(f"plan{k}", f"Plan {k}", "plans/big.yaml", {f"AC-{j}": f"req {j}" for j in range(50)})
                  for k in range(3))
    return RunResult(plans=plans, cases=tuple(cases), gate=GateResult(False, (GateRule("pass_rate[P0] >= 100%", False, "x"),)),
                     started_at=t0, duration_s=120.0)


def timed(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def report_command(out: Path, rounds: int) -> tuple[float, float]:
    """`orchestrator report results.json` as a user runs it (its own process, bytecode compiled):
    median wall seconds and median CPU seconds (user + system, its forked child included) after
    one warm-up."""
    import resource

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import timed_run, user_env

    argv = [sys.executable, "-m", "orchestrator", "report", str(out / "results.json"), "--out", str(out / "again")]
    walls, cpus = [], []
    for _ in range(rounds + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(timed_run(argv, out, user_env())[0])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls[1:]), statistics.median(cpus[1:])


def time_to_interactive(html: Path, rounds: int) -> tuple[float, float] | str:
    """(wall seconds from navigation to a usable table, the page's own performance.now() at ready)."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} not found"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright not installed"
    profile = tempfile.mkdtemp(prefix="orchestrator-bench-")
    walls, own = [], []
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                for _ in range(rounds):
                    page = context.new_page()
                    began = time.perf_counter()
                    page.goto(html.resolve().as_uri())
                    page.wait_for_selector("body[data-ready='1'] #cases tbody tr.case")
                    walls.append(time.perf_counter() - began)
                    own.append(page.evaluate("performance.now()") / 1000)
                    page.close()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return statistics.median(walls), statistics.median(own)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run = make_run(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_json(run, out / "results.json")
        loaded = read_json(out / "results.json")
        rows = [
            ("read results.json", timed(lambda: read_json(out / "results.json"), args.rounds)),
            # Through write_reports, as `orchestrator run` and `orchestrator report` write them.
            ("write JSON", timed(lambda: write_reports(loaded, None, None, out / "results.json"), args.rounds)),
            ("write JUnit", timed(lambda: write_reports(loaded, out / "junit.xml", None, None), args.rounds)),
            ("write HTML", timed(lambda: write_reports(loaded, None, out / "report.html", None), args.rounds)),
        ]
        took = dict(rows)
        writes = took["write JSON"] + took["write JUnit"] + took["write HTML"]
        rerender = took["read results.json"] + took["write JUnit"] + took["write HTML"]
        sizes = {name: (out / name).stat().st_size / 2**20 for name in ("results.json", "junit.xml", "report.html")}
        command, command_cpu = report_command(out, args.rounds)
        tti = time_to_interactive(out / "report.html", args.rounds)
    print(f"{args.cases:,} cases · median of {args.rounds} · JSON {sizes['results.json']:.1f} MiB, "
          f"JUnit {sizes['junit.xml']:.1f} MiB, HTML {sizes['report.html']:.1f} MiB")
    print(f"{'measure':<38}{'seconds':>9}{'target':>9}{'ratio':>8}")
    for name, seconds in rows:
        print(f"{name:<38}{seconds:>9.3f}{'':>9}{'':>8}")
    print(f"{'write all three (end of a run)':<38}{writes:>9.3f}{2.0:>9.1f}{writes / 2.0:>7.2f}x")
    print(f"{'read + JUnit + HTML (`report`)':<38}{rerender:>9.3f}{2.0:>9.1f}{rerender / 2.0:>7.2f}x")
    print(f"{'`orchestrator report`, start to exit':<38}{command:>9.3f}{1.0:>9.1f}{command / 1.0:>7.2f}x")
    print(f"{'  its CPU (user + sys, both processes)':<38}{command_cpu:>9.3f}{'':>9}{'':>8}")
    if isinstance(tti, str):
        print(f"{'HTML time to interactive (Chromium)':<38}{'n/a':>9}{1.0:>9.1f}{'':>8}  ({tti})")
    else:
        wall, own = tti
        print(f"{'HTML interactive, wall from goto':<38}{wall:>9.3f}{1.0:>9.1f}{wall / 1.0:>7.2f}x")
        print(f"{'HTML interactive, page performance.now':<38}{own:>9.3f}{1.0:>9.1f}{own / 1.0:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
