"""Per-call round trip of a persistent worker vs. a bare JSON-lines pipe loop.

    python benchmarks/roundtrip.py [--calls 5000] [--warmup 500]

Not a test: prints a table (median and p95, in ms) and the ratio, target <= 2x.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from orchestrator.procs import tree  # noqa: E402
from orchestrator.procs.api import CallRequest, PoolConfig  # noqa: E402
from orchestrator.procs.pool import WorkerPool  # noqa: E402

PROVIDER = "def call_api(prompt, options, context):\n    return {'output': prompt}\n"
ECHO_CHILD = (
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    name, payload = json.loads(line)\n"
    "    sys.stdout.write(json.dumps(['result', {'result': {'output': payload['prompt']}}]) + '\\n')\n"
    "    sys.stdout.flush()\n"
)


def measure(one_call: Callable[[], object], calls: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        one_call()
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        one_call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def bare_loop(calls: int, warmup: int) -> list[float]:
    child = tree.spawn([sys.executable, "-c", ECHO_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    stdin, stdout = child.stdin, child.stdout
    request = {"prompt": "hello", "options": {}, "context": {}}

    def one_call() -> object:
        stdin.write((json.dumps(["call", request]) + "\n").encode())
        stdin.flush()
        return json.loads(stdout.readline())

    try:
        return measure(one_call, calls, warmup)
    finally:
        stdin.close()
        tree.kill_tree(child.pid, 0.5)


def pool_loop(calls: int, warmup: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trivial.py")
        with open(path, "w") as f:
            f.write(PROVIDER)
        pool = WorkerPool(PoolConfig(provider_id="trivial", python_file=path))
        pool.start()
        request = CallRequest(prompt="hello")

        def one_call() -> object:
            outcome = pool.call(request)
            assert outcome.error is None, outcome.error
            return outcome

        try:
            return measure(one_call, calls, warmup)
        finally:
            pool.close()


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()
    bare = bare_loop(args.calls, args.warmup)
    pool = pool_loop(args.calls, args.warmup)
    rows = [("median", statistics.median(bare), statistics.median(pool)), ("p95", p95(bare), p95(pool))]
    print(f"{args.calls} calls after {args.warmup} warm-up, Python {sys.version.split()[0]}")
    print(f"{'':8}{'bare pipe (ms)':>16}{'worker pool (ms)':>18}{'ratio':>8}")
    for label, b, p in rows:
        print(f"{label:8}{b:16.4f}{p:18.4f}{p / b:7.2f}x")


if __name__ == "__main__":
    main()
