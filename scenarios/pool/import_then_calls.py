"""Seed 000's benchmark as a check: start a pool on a provider whose import takes 1 s, make 10
calls, and print the wall time from pool start to the 10th answer (import included) as JSON.

    python import_then_calls.py [--calls 10] [--max-ms 1300]

Exits 1 when the total is above --max-ms. Runs in its own process so that other providers
starting at the same time do not share its CPU (what it measures is this pool alone).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from orchestrator.procs.api import CallRequest, PoolConfig
from orchestrator.procs.pool import WorkerPool

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--max-ms", type=float, default=1300.0)
    args = parser.parse_args()
    began = time.perf_counter()
    with WorkerPool(PoolConfig(provider_id="import_1s", python_file=os.path.join(HERE, "import_1s.py"))) as pool:
        outcomes = [pool.call(CallRequest(prompt=str(n))) for n in range(args.calls)]
        total_ms = (time.perf_counter() - began) * 1000
        errors = [o.error.message for o in outcomes if o.error is not None]
        import_s = (outcomes[0].result or {}).get("import_seconds") if outcomes else None
        calls_ms = sum(o.duration_ms for o in outcomes)
    print(json.dumps({"calls": args.calls, "total_ms": round(total_ms, 1), "import_s": import_s,
                      "calls_ms": round(calls_ms, 2), "errors": errors, "max_ms": args.max_ms}))
    return 0 if not errors and total_ms <= args.max_ms else 1


if __name__ == "__main__":
    sys.exit(main())
