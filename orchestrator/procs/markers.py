"""Ownership by marker: every process the run starts carries the run's variable in its environment.

The variable is `ORCHESTRATOR_RUN_<RUN>` (RUN = `<pid>_<start time>_<random>` of the orchestrator
process), so a run started inside a case (the orchestrator testing itself) ADDS its own variable
and keeps the outer run's. Its value says who started the process:

    PLAN:CASE                    exec / spawn of a case attempt (CASE is a token such as `c12`)
    PLAN:-/PROVIDER/WORKER       a provider worker itself
    PLAN:CASE/PROVIDER/WORKER    what a provider call of that case started (set around the call)

Descendants inherit it whatever they do to their session, process group or parent, so the leak
check of a case looks for its own value, `of: run` for the variable, and a watchdog that outlives
a killed orchestrator sweeps by it. For people and scripts, `ORCHESTRATOR_RUN_ID` and
`ORCHESTRATOR_CASE_ID` hold the innermost run's id and case id (not used for ownership).
"""
from __future__ import annotations

import itertools
import os
import re
import threading
from typing import Iterable, Mapping

from orchestrator.procs import proctable
from orchestrator.records import record

PREFIX = "ORCHESTRATOR_RUN_"
RUN_ID_VAR = "ORCHESTRATOR_RUN_ID"
CASE_ID_VAR = "ORCHESTRATOR_CASE_ID"
WATCHDOG_VAR = "ORCHESTRATOR_WATCHDOG"  # the watchdog is never anyone's leak
WATCHDOG_NAME = "orch-watchdog"  # its process name (watchdog_main.NAME)
UNOWNED = "-:-"  # started outside any case or provider (tests driving procs directly)
_RUN_ID = re.compile(r"^(\d+)_(\d+)_[0-9a-f]+$")

_lock = threading.Lock()
_run_id: str | None = None
_counter = itertools.count(1)
_case_names: dict[str, str] = {}  # case token -> case id, for reports


def run_id() -> str:
    """This orchestrator process's run id, made on first use."""
    global _run_id
    with _lock:
        if _run_id is None:
            created = int(round(_own_create_time() * 100))
            _run_id = f"{os.getpid()}_{created}_{os.urandom(3).hex()}"  # not secrets: it imports hmac, base64
        return _run_id


def _own_create_time() -> float:
    """`psutil.Process().create_time()`, as psutil computes it (`run_alive` compares the two, to
    1/100 s), without importing psutil (~10 ms): the run id is needed to start the first worker."""
    created = proctable.create_time(os.getpid())
    if created is None:  # /proc unreadable
        import psutil

        return float(psutil.Process().create_time())
    return created


def run_var() -> str:
    return PREFIX + run_id()


def new_case_token(case_id: str) -> str:
    """A token unique in this run for one attempt of a case."""
    token = f"c{next(_counter)}"
    with _lock:
        _case_names[token] = case_id
    return token


def case_name(token: str) -> str:
    with _lock:
        return _case_names.get(token, token)


def new_worker_token() -> str:
    return f"w{next(_counter)}"


def case_value(plan: str, token: str) -> str:
    return f"{plan}:{token}"


def worker_value(plan: str, case: str, provider: str, worker: str) -> str:
    return f"{plan}:{case}/{provider}/{worker}"


@record
class Mark:
    """A parsed marker value."""

    plan: str
    case: str  # "-" for a provider worker itself
    provider: str | None = None
    worker: str | None = None

    @staticmethod
    def parse(value: str) -> Mark:
        plan, _, rest = value.partition(":")
        case, _, via = rest.partition("/")
        provider, _, worker = via.partition("/")
        return Mark(plan, case, provider or None, worker or None)


def marked_env(env: Mapping[str, str], value: str, case_id: str | None = None) -> dict[str, str]:
    """`env` with this run's marker set to `value` (outer runs' markers are kept)."""
    out = dict(env)
    out[run_var()] = value
    out[RUN_ID_VAR] = run_id()
    if case_id is not None:
        out[CASE_ID_VAR] = case_id
    return out


def environ_of(pid: int) -> bytes | None:
    """The raw environment a process was started with (None if unreadable or gone)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return handle.read()
    except OSError:
        return None


def value_in(environ: bytes, var: str) -> str | None:
    key = var.encode() + b"="
    for entry in environ.split(b"\0"):
        if entry.startswith(key):
            return entry[len(key):].decode("utf-8", "replace")
    return None


def scan(var: str | None = None, pids: Iterable[int] | None = None) -> dict[int, str]:
    """pid -> marker value, for every process carrying `var` (default: this run's variable).
    The orchestrator itself and watchdogs are never listed."""
    var = var or run_var()
    key = var.encode() + b"="
    watchdog = WATCHDOG_VAR.encode() + b"="
    me = os.getpid()
    found: dict[int, str] = {}
    for pid in proctable.pids() if pids is None else pids:
        if pid == me:
            continue
        raw = environ_of(pid)
        if raw is None or key not in raw:  # the cheap test first: most processes are not ours
            continue
        entries = raw.split(b"\0")
        if any(e.startswith(watchdog) for e in entries):
            continue
        value = next((e[len(key):] for e in entries if e.startswith(key)), None)
        if value is not None:
            found[pid] = value.decode("utf-8", "replace")
    return found


def is_watchdog(pid: int) -> bool:
    """A run's watchdog (ours, or a nested run's that we inherited): never a leak. Its name
    says so even while it exits (when its environment can no longer be read)."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as handle:
            if handle.read().strip() == WATCHDOG_NAME.encode():
                return True
    except OSError:
        pass
    raw = environ_of(pid)
    return raw is not None and any(e.startswith(WATCHDOG_VAR.encode() + b"=") for e in raw.split(b"\0"))


def runs_in(environ: bytes) -> list[str]:
    """The run ids whose markers an environment carries."""
    out = []
    for entry in environ.split(b"\0"):
        if entry.startswith(PREFIX.encode()) and b"=" in entry:
            name = entry.split(b"=", 1)[0].decode("ascii", "replace")[len(PREFIX):]
            if _RUN_ID.match(name):
                out.append(name)
    return out


def run_alive(run: str) -> bool:
    """Is the orchestrator process of run id `run` still running?"""
    match = _RUN_ID.match(run)
    if match is None:
        return True  # not ours to judge
    pid, created = int(match.group(1)), int(match.group(2))
    now = proctable.create_time(pid)
    return now is not None and abs(int(round(now * 100)) - created) <= 1
