"""Counts as people write them: `1 case`, `2 cases`, `1 provider`, `no errors`."""
from __future__ import annotations


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`1 case`, `2 cases`; `many` for irregular words (`1 results file`, `2 results files`)."""
    return f"{count} {singular if count == 1 else (many or singular + 's')}"
