"""A provider whose import takes 1 s: pool start + 10 calls, beside pool start alone (import +
worker start + handshake), and beside the ephemeral baseline (10 fresh processes).

    python benchmarks/import_calls.py [--calls 10]

Target: start + 10 calls <= 1.1x start alone.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import REPO, table  # noqa: E402
from orchestrator.procs.api import CallRequest, PoolConfig  # noqa: E402
from orchestrator.procs.pool import WorkerPool, create_pool  # noqa: E402

PROVIDER = str(REPO / "scenarios" / "pool" / "import_1s.py")


def start_only() -> float:
    began = time.perf_counter()
    with WorkerPool(PoolConfig(provider_id="p", python_file=PROVIDER)) as pool:
        while not pool.stats()[0].cold_start_ms:
            time.sleep(0.001)
        return time.perf_counter() - began


def start_and_calls(calls: int, mode: str = "persistent") -> float:
    began = time.perf_counter()
    pool = create_pool(PoolConfig(provider_id="p", python_file=PROVIDER, mode=mode))
    pool.start()
    try:
        for n in range(calls):
            outcome = pool.call(CallRequest(prompt=str(n)))
            assert outcome.error is None, outcome.error
        return time.perf_counter() - began
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    base = start_only()
    persistent = start_and_calls(args.calls)
    ephemeral = start_and_calls(args.calls, "ephemeral")
    table(f"1 s import, {args.calls} calls", ("what", "wall s", "ratio to start alone"),
          [("worker start (import + handshake)", base, 1.0),
           (f"persistent: start + {args.calls} calls", persistent, persistent / base),
           (f"ephemeral: {args.calls} fresh processes", ephemeral, ephemeral / base)])
    print(f"persistent speed-up over ephemeral: {ephemeral / persistent:.1f}x; "
          f"target start + calls <= 1.1x start -> {'met' if persistent / base <= 1.1 else 'MISSED'}")


if __name__ == "__main__":
    main()
