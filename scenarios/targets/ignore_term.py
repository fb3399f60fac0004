"""Misbehaving target: ignores SIGTERM and has a grandchild that ignores it too.

Prints `child <pid>` and `ready` once both exist, then hangs until SIGKILL.
"""
import os
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = os.fork()
if child == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(60)
print(f"child {child}", flush=True)
print("ready", flush=True)
sys.stdout.flush()
while True:
    time.sleep(60)
