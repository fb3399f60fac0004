"""exec: argv, shell, code, stdin, env, cwd, timeouts and start failures."""
from __future__ import annotations

import os
import tempfile
import threading
import time

from orchestrator.run.steps import CaseContext
from tests.integration.steps.helpers import PY, REPO, act, all_gone, alive, pids_after, target


def test_argv_list_runs_and_reports_everything(ctx: CaseContext) -> None:
    out = act("exec", ctx, command=[PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"])
    assert out.error is None
    assert out.fields["stdout"] == "out\n" and out.fields["stderr"] == "err\n"
    assert out.fields["exit_code"] == 3 and out.fields["signal"] is None and out.fields["timed_out"] is False
    assert out.fields["duration_ms"] > 0 and out.fields["pid"] in ctx.started_pids


def test_shell_string_with_plan_and_step_env(ctx: CaseContext) -> None:
    out = act("exec", ctx, command='echo "$PLAN_LEVEL $STEP_LEVEL" | tr a-z A-Z; test -n "$PATH"', shell=True,
              env={"STEP_LEVEL": "from-step"})
    assert out.fields["stdout"] == "FROM-PLAN FROM-STEP\n" and out.fields["exit_code"] == 0


def test_step_env_overrides_plan_env(ctx: CaseContext) -> None:
    out = act("exec", ctx, command=["sh", "-c", "echo $PLAN_LEVEL"], env={"PLAN_LEVEL": "step wins"})
    assert out.fields["stdout"] == "step wins\n"


def test_code_with_stdin_lines(ctx: CaseContext) -> None:
    out = act("exec", ctx, code="a = int(input()); b = int(input()); print(a + b)", language="python", stdin="5\n3")
    assert out.fields["stdout"] == "8\n" and out.fields["exit_code"] == 0


def test_templates_are_rendered(ctx: CaseContext) -> None:
    ctx.variables["who"] = "Alice"
    out = act("exec", ctx, code="print(f'Hello, {input()}')", stdin="{{ who }}")
    assert out.fields["stdout"] == "Hello, Alice\n"


def test_other_languages_are_a_clear_error(ctx: CaseContext) -> None:
    out = act("exec", ctx, code="console.log(1)", language="javascript")
    assert out.error is not None and "unsupported language 'javascript'" in out.error.message


def test_cwd_defaults_to_the_plan_directory_and_resolves_relative_paths(ctx: CaseContext) -> None:
    default = act("exec", ctx, command=[PY, "-c", "import os; print(os.getcwd())"])
    assert default.fields["stdout"].strip() == str(REPO / "plans")
    relative = act("exec", ctx, command=[PY, "-c", "import os; print(os.getcwd())"], cwd="../scenarios")
    assert relative.fields["stdout"].strip() == str(REPO / "scenarios")
    missing = act("exec", ctx, command=["true"], cwd="no/such/dir")
    assert missing.error is not None and missing.error.type == "OSError" and "no/such/dir" in missing.error.message


def test_missing_and_non_executable_programs_are_errors_not_tracebacks(ctx: CaseContext, tmp_path: object) -> None:
    missing = act("exec", ctx, command=["definitely-not-a-program-xyz", "--help"])
    assert missing.error is not None and missing.error.type == "CommandNotFound"
    assert missing.error.message == "command not found: definitely-not-a-program-xyz"
    script = os.path.join(str(tmp_path), "plain.sh")
    with open(script, "w") as handle:
        handle.write("echo hi\n")
    denied = act("exec", ctx, command=[script])
    assert denied.error is not None and denied.error.type == "OSError" and "Permission denied" in denied.error.message


def test_killed_by_a_signal_has_no_exit_code(ctx: CaseContext) -> None:
    out = act("exec", ctx, command="kill -KILL $$", shell=True)
    assert out.fields["exit_code"] is None and out.fields["signal"] == "SIGKILL" and out.error is None


def test_timeout_kills_a_term_ignoring_target_and_its_grandchild(ctx: CaseContext) -> None:
    began = time.monotonic()
    out = act("exec", ctx, command=[PY, target("ignore_term.py")], timeout=1.0)
    assert time.monotonic() - began < 1.0 + 1.0
    assert out.error is not None and out.error.type == "TimeoutError"
    assert out.error.message == "timeout after 1s"
    assert out.fields["timed_out"] is True and out.fields["signal"] == "SIGKILL" and out.fields["exit_code"] is None
    child = pids_after(out.fields["stdout"], "child")
    assert len(child) == 1
    assert all_gone([out.fields["pid"], *child], within=0.1)


def test_a_daemon_holding_stdout_does_not_make_exec_hang(ctx: CaseContext) -> None:
    began = time.monotonic()
    out = act("exec", ctx, command="sleep 30 & echo started", shell=True, timeout=20)
    assert time.monotonic() - began < 5 and out.fields["stdout"] == "started\n" and out.error is None
    # the background sleep is still alive: it is the leak check's business (see test_leaks)


def test_stop_interrupts_a_running_command(ctx: CaseContext) -> None:
    threading.Timer(0.3, ctx.stop.set).start()
    began = time.monotonic()
    out = act("exec", ctx, command=["sleep", "30"])
    assert time.monotonic() - began < 3
    assert out.error is not None and out.error.type == "Interrupted" and not alive(out.fields["pid"])


def test_chatty_output_is_capped_in_memory_and_on_disk_keeping_head_and_tail(ctx: CaseContext) -> None:
    code = ("import sys\nsys.stdout.write('FIRST LINE\\n')\nblock = 'x' * 1048575 + '\\n'\n"
            "for _ in range(60): sys.stdout.write(block)\nsys.stdout.write('LAST LINE\\n')")
    out = act("exec", ctx, command=[PY, "-c", code])
    text = out.fields["stdout"]
    assert text.startswith("FIRST LINE\n") and text.endswith("LAST LINE\n")
    assert "output truncated: 62,914,581 bytes written" in text
    assert len(text) < 9 * 1024 * 1024


def test_undecodable_output_is_replaced(ctx: CaseContext) -> None:
    out = act("exec", ctx, command=[PY, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\n')"])
    assert out.fields["stdout"] == "ok \ufffd\n"
