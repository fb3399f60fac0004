"""Misbehaving target: double-forks a daemon (setsid) that outlives it, then exits 0.

The daemon becomes `sleep SECONDS` (default 600) in its own session, with stdio on /dev/null;
the target prints `daemon <pid>` before it exits.
Usage: double_fork_daemon.py [SECONDS]
"""
import os
import sys

seconds = sys.argv[1] if len(sys.argv) > 1 else "600"
read_end, write_end = os.pipe()
first = os.fork()
if first == 0:
    os.close(read_end)
    os.setsid()
    if os.fork() == 0:
        os.write(write_end, f"{os.getpid()}\n".encode())
        os.close(write_end)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execvp("sleep", ["sleep", seconds])
    os._exit(0)
os.close(write_end)
os.waitpid(first, 0)
with os.fdopen(read_end) as pipe:
    print(f"daemon {pipe.readline().strip()}", flush=True)
