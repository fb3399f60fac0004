"""Load throughput with 1, 2 and 4 workers: calls/s and latency percentiles, for a trivial
provider and one that works 5 ms per call (time.sleep: I/O-like, so workers overlap).

    python benchmarks/load_throughput.py [--seconds 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import REPO, table  # noqa: E402
from orchestrator.procs.api import CallRequest, PoolConfig  # noqa: E402
from orchestrator.procs.pool import WorkerPool  # noqa: E402
from orchestrator.run.load_step import percentile  # noqa: E402

PROVIDER = str(REPO / "scenarios" / "pool" / "correlated.py")


def run(workers: int, delay: float, seconds: float) -> tuple[float, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    with WorkerPool(PoolConfig(provider_id="p", python_file=PROVIDER, workers=workers,
                               config={"delay": delay})) as pool:
        for _ in range(20 * workers):  # warm-up, and every worker ready
            pool.call(CallRequest(prompt="w"))
        end = time.monotonic() + seconds

        def caller() -> None:
            mine = []
            while time.monotonic() < end:
                began = time.perf_counter()
                assert pool.call(CallRequest(prompt="x")).error is None
                mine.append((time.perf_counter() - began) * 1000)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=caller) for _ in range(workers)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return len(ordered) / wall, percentile(ordered, 50), percentile(ordered, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    for delay in (0.0, 0.005):
        rows = []
        base = None
        for workers in (1, 2, 4):
            rps, p50, p95 = run(workers, delay, args.seconds)
            base = base or rps
            rows.append((workers, round(rps, 1), rps / base, p50, p95))
        table(f"load, {'trivial call' if not delay else '5 ms per call'}, callers = workers",
              ("workers", "calls/s", "x 1 worker", "p50 ms", "p95 ms"), rows)
    print(f"({os.cpu_count()} CPUs; a trivial call is bound by the controller's own CPU)")


if __name__ == "__main__":
    main()
