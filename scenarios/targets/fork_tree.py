"""Misbehaving target: forks N children (default 2) which each fork a grandchild; all sleep.

Prints one `pid <n>` line per descendant, then `ready`, then sleeps until killed.
Usage: fork_tree.py [N]
"""
import os
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
read_end, write_end = os.pipe()
for _ in range(n):
    if os.fork() == 0:
        os.close(read_end)
        if os.fork() == 0:
            os.write(write_end, f"pid {os.getpid()}\n".encode())
            while True:
                time.sleep(60)
        os.write(write_end, f"pid {os.getpid()}\n".encode())
        while True:
            time.sleep(60)
os.close(write_end)
lines = []
with os.fdopen(read_end) as pipe:
    while len(lines) < 2 * n:
        lines.append(pipe.readline().strip())
print("\n".join(lines), flush=True)
print("ready", flush=True)
while True:
    time.sleep(60)
