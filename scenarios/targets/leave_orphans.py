"""Misbehaving target: starts N (default 2) `sleep SECONDS` children and exits 0 at once,
leaving them orphaned (same session, no setsid). Prints `orphan <pid>` for each.
Usage: leave_orphans.py [N] [SECONDS]
"""
import subprocess
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
seconds = sys.argv[2] if len(sys.argv) > 2 else "600"
for _ in range(n):
    child = subprocess.Popen(["sleep", seconds], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"orphan {child.pid}", flush=True)
