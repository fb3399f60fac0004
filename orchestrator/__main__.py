from __future__ import annotations

import sys

if sys.argv[1:2] == ["run"]:  # before the heavier imports: a stop signal from now on is not lost
    from orchestrator.cli import early_signals

    early_signals.hold()

from orchestrator.cli import console  # noqa: E402  (it holds, then ignores, stop signals itself too)

console()
