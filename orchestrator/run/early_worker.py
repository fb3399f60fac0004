"""The worker `run` starts before its plan is loaded, held until the plan says it is wanted.

A worker's interpreter takes ~30 ms to boot, and the run could start it only once the plan was
loaded, selected and its pools made: the first case then waited for it. Started at the very
beginning of `run` instead (plan/peek guesses the plan's one Python provider from the head of
its file), it boots on the core the loading leaves idle, and stops before it imports the
provider (worker_main's `HOLD_VAR`). `run/pools.start_early` hands it to its pool only if
the loaded plan would have started the very same process: same plan name, provider, file,
function and directory, no interpreter or environment of its own, this process's environment
unchanged since; the pool then releases it and it imports the provider as any worker does.
Otherwise it is stopped, having run nothing of the provider. Only on a machine with a core to
spare: elsewhere its boot would only compete with the loading.
"""
from __future__ import annotations

import os
import threading
from typing import Sequence

from orchestrator.procs import cores, subreaper, watchdog
from orchestrator.procs.api import PoolConfig
from orchestrator.procs.worker import Worker

_lock = threading.Lock()
_held: tuple[Worker, dict[str, str]] | None = None  # the worker, and os.environ as it was started with


def start(plan_paths: Sequence[str]) -> None:
    """Start the held worker for the run's one plan, when a guess can be made (at most once).
    Only ever a head start: whatever goes wrong here, the run starts its workers as it would."""
    try:
        _start(plan_paths)
    except Exception:  # noqa: BLE001 - a guess that fails costs the head start, never the run
        discard()


def _start(plan_paths: Sequence[str]) -> None:
    global _held
    if len(plan_paths) != 1 or cores.usable() < 2:
        return
    from orchestrator.plan.peek import python_provider

    guess = python_provider(plan_paths[0])
    if guess is None:
        return
    # What start_early does before it starts a worker: orphans of what the worker starts stay
    # ours, and dead runs' markers leave our environment, which the worker inherits.
    subreaper.become_subreaper()
    watchdog.forget_dead_runs()
    worker = Worker(PoolConfig(provider_id=guess.provider, python_file=guess.python_file, function=guess.function,
                               cwd=guess.cwd, plan=guess.plan), 0)
    try:
        worker.spawn(hold=True)
    except BaseException:
        worker.dispose(0)
        raise
    with _lock:
        if _held is not None:
            worker.dispose(0)
            return
        _held = (worker, dict(os.environ))


def take(config: PoolConfig) -> Worker | None:
    """The held worker, if the pool of `config` would have started the very same process for
    its first slot (and it is still alive); else None (`discard` stops it)."""
    global _held
    with _lock:
        if _held is None:
            return None
        worker, environ = _held
        started = worker.config
        same = (config.provider_id, config.python_file, config.function, config.plan, config.cwd) == \
            (started.provider_id, started.python_file, started.function, started.plan, started.cwd)
        if not (same and config.interpreter is None and not config.env and os.environ == environ and worker.alive()):
            return None
        _held = None
    return worker


def discard() -> None:
    """Stop the held worker if nobody took it (idempotent)."""
    global _held
    with _lock:
        held, _held = _held, None
    if held is not None:
        held[0].dispose(0)
