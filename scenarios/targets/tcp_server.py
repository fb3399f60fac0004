"""A small TCP server for `spawn` readiness: waits DELAY seconds, listens on PORT, prints
`listening on PORT`, answers each connection with `hello`; on SIGTERM it writes `stopping`
to stderr and exits 0.
Usage: tcp_server.py PORT [DELAY]
"""
import signal
import socket
import sys
import time

port = int(sys.argv[1])
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)


def stop(signum: int, frame: object) -> None:
    print("stopping", file=sys.stderr, flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
server = socket.create_server(("127.0.0.1", port))
print(f"listening on {port}", flush=True)
while True:
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"hello\n")
