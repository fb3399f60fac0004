"""What each command imports at start-up (`python -X importtime`): a heavy library on a path
that does not need it costs every run its import time (issue 13). Each command runs in its own
interpreter, with stdout a pipe (not a terminal) as in CI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = "def call_api(prompt, options, context):\n    return {'output': 'Echo: ' + str(prompt)}\n"
# Each of these costs 5-45 ms to import.
HEAVY = {"rich", "jsonschema", "jinja2", "psutil", "junit_xml", "lxml", "yaml", "http.client", "urllib.request"}
# Standard modules that a plain run does not need, each imported for one helper once (2-10 ms
# each, with what they import): concurrent.futures (with logging) only for -j > 1 or `parallel`
# steps, statistics (fractions, decimal) only for `providers` in templates, uuid (platform),
# secrets (hmac, base64), difflib only for a plan with a mistake, traceback only for a bug of
# ours, the results decoder only to read results, socket only for `free_port`.
NOT_FOR_A_PLAIN_RUN = {"concurrent.futures", "logging", "queue", "statistics", "fractions", "decimal", "uuid",
                       "platform", "secrets", "hmac", "difflib", "traceback", "textwrap", "orchestrator.result.decode",
                       "socket"}


def imported(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "PYTHONPROFILEIMPORTTIME")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "orchestrator", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1, 2), done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def plan(tmp_path: Path, step: str = "{call: echo, prompt: hello, expect: [{contains: hello}]}") -> Path:
    (tmp_path / "echo.py").write_text(PROVIDER, encoding="utf-8")
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\nname: tiny\nproviders:\n  echo: {python: echo.py}\ncases:\n"
                    + "".join(f"  - id: C-{n}\n    name: case {n}\n    steps:\n      - {step}\n" for n in range(3)), encoding="utf-8")
    return path


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    assert imported(["--version"], tmp_path) & (HEAVY | {"orchestrator.plan.model"}) == set()


def test_validate_of_a_valid_plan_without_templates(tmp_path: Path) -> None:
    found = imported(["validate", str(plan(tmp_path))], tmp_path)
    assert "orchestrator.plan.load" in found  # it did validate
    assert found & HEAVY == {"yaml"}
    # hashlib (OpenSSL: ~5 ms) only for --shard, ElementTree only to write JUnit
    assert found & (NOT_FOR_A_PLAIN_RUN | {"hashlib", "xml.etree.ElementTree", "glob"}) == set()


def test_validate_reads_the_plan_schema_without_importlib_resources(tmp_path: Path) -> None:
    # Without site's .pth files (this machine's import importlib.resources for everyone), with
    # the site-packages on the path: what the command itself imports.
    import site

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()])}
    done = subprocess.run([sys.executable, "-S", "-X", "importtime", "-m", "orchestrator", "validate",
                           str(plan(tmp_path))], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    found = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "orchestrator.vocabulary" in found  # it read the schema
    assert "importlib.resources" not in found


def test_validate_of_an_invalid_plan_words_its_errors_with_jsonschema(tmp_path: Path) -> None:
    # The same probe sees jsonschema when it is needed: the tests above can fail.
    found = imported(["validate", str(plan(tmp_path, step="{call: echo, prompt: hello, expect: [{contains: hello, bogus: 1}]}"))],
                     tmp_path)
    assert "jsonschema" in found


def test_run_off_a_terminal_without_templates_or_http(tmp_path: Path) -> None:
    found = imported(["run", str(plan(tmp_path)), "-q", "--out", str(tmp_path / "out")], tmp_path)
    assert (tmp_path / "out" / "report.html").is_file()
    # rich only for a terminal, jsonschema only for a plan with errors, urllib only for http steps,
    # Jinja2 only for a plan with templates (the HTML page is plain Python).
    assert found & {"rich", "jsonschema", "jinja2", "lxml", "http.client", "urllib.request"} == set()
    # the process, http and load steps' modules only for a plan with such steps
    assert found & {"orchestrator.run.process_steps", "orchestrator.run.http_step", "orchestrator.run.load_step"} == set()
    assert found & NOT_FOR_A_PLAIN_RUN == set()


def test_the_parsers_junit_flavours_are_the_writers() -> None:
    # The parser writes them out so that `--junit-flavor`'s choices cost no ElementTree import.
    from orchestrator.cli.parser import JUNIT_FLAVORS
    from orchestrator.report.junit import FLAVORS

    assert JUNIT_FLAVORS == FLAVORS


@pytest.mark.parametrize("command", [["report"], ["list"]])
def test_report_and_list(tmp_path: Path, command: list[str]) -> None:
    path = plan(tmp_path)
    if command == ["report"]:
        subprocess.run([sys.executable, "-m", "orchestrator", "run", str(path), "-q", "--out", str(tmp_path / "o")],
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, check=True)
        command = ["report", str(tmp_path / "o" / "results.json")]
    else:
        command = ["list", str(path)]
    assert imported(command, tmp_path) & {"rich", "jsonschema", "jinja2", "psutil", "http.client", "urllib.request"} == set()


def test_the_names_every_template_may_call_are_jinjas_globals() -> None:
    from orchestrator.evaluation.templating import GLOBAL_NAMES, environment

    assert frozenset(environment().globals) == GLOBAL_NAMES


def test_run_of_a_plan_with_errors_ends_before_the_run_path_is_imported(tmp_path: Path) -> None:
    # The run path (session, engine, reports, process handling) is imported only after the plans
    # are selected, while the providers' workers start (run/pools.start_early).
    found = imported(["run", str(plan(tmp_path, step="{call: nowhere, prompt: hello}")), "-q", "--out",
                      str(tmp_path / "out")], tmp_path)
    assert "orchestrator.plan.load" in found  # it did load the plan
    assert found & {"orchestrator.cli.session", "orchestrator.run.engine", "psutil", "jinja2", "junit_xml"} == set()


def test_the_provider_worker_starts_without_inspect_or_traceback(tmp_path: Path) -> None:
    # What worker_main imports itself (after site): `inspect` and `traceback` were a fifth of
    # a worker's start, and are needed only for odd callables, async results and exceptions.
    (tmp_path / "echo.py").write_text(PROVIDER, encoding="utf-8")
    worker_main = ROOT / "orchestrator" / "procs" / "worker_main.py"
    to_worker, child_in = os.pipe()[::-1]
    child_out, from_worker = os.pipe()[::-1]
    proc = subprocess.Popen([sys.executable, "-X", "importtime", str(worker_main), str(child_in), str(child_out),
                             str(tmp_path / "echo.py"), "call_api"], pass_fds=(child_in, child_out), cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)
    os.close(child_in)
    os.close(child_out)
    try:
        with os.fdopen(from_worker, "rb") as replies, os.fdopen(to_worker, "wb") as requests:
            assert replies.readline().startswith(b'["ready"')
            requests.write(b'["call",{"prompt":"hi","options":{},"context":{},"id":1}]\n["stop",{}]\n')
            requests.flush()
            assert b'"Echo: hi"' in replies.readline()
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = stderr.splitlines()
    after_site = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| site")) + 1
    own = {line.rsplit("|", 1)[1].strip() for line in lines[after_site:] if line.startswith("import time:")}
    assert own & {"inspect", "traceback"} == set(), own
