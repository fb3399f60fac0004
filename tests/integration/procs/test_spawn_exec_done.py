"""A spawn's command line can be read as soon as the spawn has started: subprocess returns a
moment before the child's exec puts it in place, and a `processes` step right after a spawn
(`cmdline: ...`) then missed the spawn."""
from __future__ import annotations

import os
import sys

import pytest

from orchestrator.procs.spawned import Spawned

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_started_spawn_shows_its_command_line_at_once() -> None:
    for n in range(20):
        spawn = Spawned(f"s{n}", ["sleep", "31.25"], cwd=os.getcwd(), env=dict(os.environ))
        spawn.start()
        try:
            with open(f"/proc/{spawn.pid}/cmdline", "rb") as handle:
                assert handle.read().split(b"\0")[:2] == [b"sleep", b"31.25"], f"spawn {n}"
        finally:
            spawn.stop(0.5)
            spawn.take_output()  # closes its capture files
