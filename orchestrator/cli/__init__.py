"""The command line: `orchestrator COMMAND ...` (the console script is `orchestrator.cli:main`).

One module per command family — `run`, `plans` (validate, list, schema), `results` (report,
merge), `scaffold` (init) — plus the parser (`parser`), typed options (`options`), the run's wiring (`session`,
`interrupts`), `entry` (dispatch; the one place exceptions become exit codes) and `verdict`
(the one place an outcome becomes one). Importing this package stays cheap:
`python -m orchestrator run` imports `early_signals` from here before anything heavy.
"""
from __future__ import annotations

from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from orchestrator.cli.entry import main as run_main

    return run_main(argv)
