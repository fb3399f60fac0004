"""How the `orchestrator` process ends: as the interpreter would, minus freeing its memory.

After its exit hooks, the interpreter frees every module and object one by one: ~15 ms after a
3-case run (~6 % of it, as much as the whole gap to pytest), more after a big one, for memory
the kernel takes back at once anyway. By the time a command returns, everything it owns is
closed (reports written and renamed, the journal closed, the pools and every process it started
ended, by the command or by procs/tree's exit hook). So `exit_with` does what the interpreter
does first, in its order — the threads' shutdown (the non-daemon threads joined, thread pools
told to stop), then every exit hook once, last registered first — flushes standard output and
error, and ends the process with its exit code (`os._exit`), as multiprocessing ends a forked
child.

Only the console script and `python -m orchestrator` end this way (`orchestrator.cli.console`),
not `orchestrator.cli.main` called in-process; and not under a tracer, a profiler or coverage,
which report from the teardown, nor where the interpreter lacks the two hooks used here.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Callable, NoReturn


def exit_with(code: int) -> NoReturn:
    shutdown_threads: Callable[[], None] | None = getattr(threading, "_shutdown", None)
    run_exit_hooks: Callable[[], None] | None = getattr(atexit, "_run_exitfuncs", None)
    watched = sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules
    if watched or shutdown_threads is None or run_exit_hooks is None:
        sys.exit(code)  # the interpreter ends as usual
    shutdown_threads()
    run_exit_hooks()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # `orchestrator run ... | head`: the reader wanted no more
            pass
        except OSError as exc:  # a full disk, `> /dev/full`: said, as a write during the command would be
            if stream is sys.stdout:
                from orchestrator.cli.pipes import say_output_lost

                say_output_lost(exc)
        except ValueError:  # a closed stream
            pass
    os._exit(code)
