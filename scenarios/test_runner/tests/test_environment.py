"""CI-replica style check: the runner exports the variables the tests expect."""
import os
import sys

missing = [k for k in ("TESTING", "PYTHONIOENCODING") if k not in os.environ]
print("1 passed, 0 failed" if not missing else f"0 passed, 1 failed (missing {missing})")
sys.exit(1 if missing else 0)
