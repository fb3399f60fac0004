"""spawn: readiness by stdout, port or delay; failures; output and cleanup at the end of the case."""
from __future__ import annotations

import socket
import time

from orchestrator.run.steps import CaseContext
from tests.integration.steps.helpers import PY, act, all_gone, alive, target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def finish(ctx: CaseContext) -> None:
    for finalize in reversed(ctx.finalizers):
        finalize()
    ctx.finalizers.clear()


def test_ready_on_stdout_then_killed_with_output_in_the_case_log(ctx: CaseContext) -> None:
    out = act("spawn", ctx, name="srv", command=[PY, target("tcp_server.py"), str(free_port()), "0.3"],
              ready={"stdout_contains": "listening"})
    assert out.error is None and out.fields["ready_ms"] >= 250
    pid = out.fields["pid"]
    assert alive(pid) and pid in ctx.started_pids
    finish(ctx)
    assert all_gone([pid], within=0.1)
    assert "[srv] listening on" in "".join(ctx.stdout)
    assert "[srv] stopping" in "".join(ctx.stderr)  # it got SIGTERM first


def test_ready_on_port(ctx: CaseContext) -> None:
    port = free_port()
    out = act("spawn", ctx, name="srv", command=[PY, target("tcp_server.py"), str(port), "0.3"], ready={"port": port})
    assert out.error is None
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        assert conn.recv(16) == b"hello\n"


def test_ready_after_a_delay(ctx: CaseContext) -> None:
    began = time.monotonic()
    out = act("spawn", ctx, name="napper", command=["sleep", "30"], ready={"delay": 0.4})
    assert out.error is None and time.monotonic() - began >= 0.4 and alive(out.fields["pid"])


def test_not_ready_in_time_names_what_was_awaited(ctx: CaseContext) -> None:
    out = act("spawn", ctx, name="srv", command=["sleep", "30"], ready={"stdout_contains": "listening"},
              timeout_s=0.5)  # the step's `timeout:`
    assert out.error is not None and out.error.type == "TimeoutError"
    assert out.error.message == "spawn 'srv' not ready after 0.5s: stdout never contained 'listening'"


def test_exiting_before_ready_shows_the_exit_and_stderr(ctx: CaseContext) -> None:
    code = "import sys; print('bad config: no port', file=sys.stderr); sys.exit(4)"
    out = act("spawn", ctx, name="srv", code=code, ready={"stdout_contains": "listening"})
    assert out.error is not None and out.error.type == "SpawnExited"
    assert out.error.message.startswith("spawn 'srv' exited with code 4 before it was ready")
    assert "bad config: no port" in out.error.message


def test_spawn_that_cannot_start_and_duplicate_names(ctx: CaseContext) -> None:
    missing = act("spawn", ctx, name="x", command=["no-such-program-xyz"])
    assert missing.error is not None and missing.error.type == "CommandNotFound"
    assert act("spawn", ctx, name="a", command=["sleep", "30"]).error is None
    again = act("spawn", ctx, name="a", command=["sleep", "30"])
    assert again.error is not None and "already exists" in again.error.message


def test_the_whole_tree_of_a_term_ignoring_spawn_is_killed(ctx: CaseContext) -> None:
    out = act("spawn", ctx, name="stubborn", command=[PY, target("ignore_term.py")], ready={"stdout_contains": "ready"})
    assert out.error is None
    snapshot = act("processes", ctx, of="stubborn")
    assert snapshot.fields["count"] == 2
    began = time.monotonic()
    finish(ctx)
    assert time.monotonic() - began < 2.0
    assert all_gone(snapshot.fields["pids"], within=0.1)


def test_a_port_check_never_waits_past_the_ready_deadline() -> None:
    """A listener whose backlog is full drops new SYNs: each connect would hang until its own
    timeout. The readiness check still ends by the deadline it was given."""
    import socket
    import time

    from orchestrator.procs.ports import accepts

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):  # fill the accept queue; later connects are left unanswered
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        try:
            started = time.monotonic()
            accepts(port, started + 0.05)
            assert time.monotonic() - started < 0.15
        finally:
            for filler in fillers:
                filler.close()
