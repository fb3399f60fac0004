"""The command line: `orchestrator COMMAND ...` (the console script is `orchestrator.cli:main`).

One module per command family — `run`, `plans` (validate, list, schema), `results` (report,
merge), `scaffold` (init) — plus the parser, the run's wiring (`session`, `interrupts`) and
`main`, the one place exceptions become exit codes. Importing this package stays cheap:
`python -m orchestrator run` imports `early_signals` from here before anything heavy.
"""
from __future__ import annotations

from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from orchestrator.cli.main import main as run_main

    return run_main(argv)
