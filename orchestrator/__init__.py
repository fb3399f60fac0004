"""orchestrator: YAML-declared test plans run against persistent provider pools."""
from __future__ import annotations

__version__ = "0.1.0"
