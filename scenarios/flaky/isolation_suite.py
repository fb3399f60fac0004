"""The whole isolation suite as one script (seed 003, AC-4 / E2E-002): exit 0 when every check holds."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import isolation_provider as p  # noqa: E402

failures = []
checks = {
    "main-reuse": lambda r: r["distinct"] == 1,
    "worker-isolation": lambda r: r["distinct"] == r["tasks"] == 20 and not r["shares_main"] and r["leftover"] == 0,
    "branch-isolation": lambda r: r["clean"] == r["branches"],
    "locked-lookup": lambda r: r["stable"] == r["threads"],
    "many-threads": lambda r: r["distinct"] == r["tasks"] == 40 and not r["shares_main"],
    "memory": lambda r: r["leftover"] == 0,
    "independent": lambda r: r["independent"],
}
for name, ok in checks.items():
    result = p.call_api(name, {}, {})
    status = "PASS" if ok(result) else "FAIL"
    print(f"{status} {name} {result}")
    if status == "FAIL":
        failures.append(name)
print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
