"""A plain test script: exit 0 when every check holds (seed 004's run_tests.py ran files like this)."""
import sys

checks = {"add": 2 + 2 == 4, "divmod": divmod(17, 5) == (3, 2), "float": abs(0.1 + 0.2 - 0.3) < 1e-9}
failed = [name for name, ok in checks.items() if not ok]
print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
