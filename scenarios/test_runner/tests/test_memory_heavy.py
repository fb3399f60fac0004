"""Holds ~64 MiB for a moment: its peak RSS shows in the results (Attempt.peak_rss_bytes)."""
import sys
import time

block = bytearray(64 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1  # touch every page so it is resident
time.sleep(0.5)  # long enough for the sampler to see it
print(f"1 passed, 0 failed (held {len(block) // 2**20} MiB)")
sys.exit(0)
