"""The command line: `orchestrator COMMAND ...` (the console script is `orchestrator.cli:console`).

One module per command family — `run`, `plans` (validate, list, schema), `results` (report,
merge), `scaffold` (init) — plus the parser (`parser`), typed options (`options`), the run's wiring (`session`,
`interrupts`), `entry` (dispatch; the one place exceptions become exit codes) and `verdict`
(the one place an outcome becomes one). Importing this package stays cheap:
`python -m orchestrator run` imports `early_signals` from here before anything heavy.
"""
from __future__ import annotations

from typing import NoReturn, Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from orchestrator.cli.entry import main as run_main

    return run_main(argv)


def console() -> NoReturn:
    """The `orchestrator` script and `python -m orchestrator`: `main`, then the process ends
    without the interpreter's teardown (cli/process_end.py)."""
    code = main()
    from orchestrator.cli.process_end import exit_with

    exit_with(code)
