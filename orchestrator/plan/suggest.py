"""'Did you mean' hints for misspelt keys and names."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word`, or None when nothing is close."""
    options = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    import difflib  # here: only a plan with a mistake needs it

    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' or ''."""
    match = closest(word, candidates)
    return f" (did you mean '{match}'?)" if match is not None and match != word else ""


def missing_file(directory: Path, name: str) -> str:
    """'file not found: NAME' with the likeliest sibling, or where relative paths start."""
    target = directory / name
    siblings = [p.name for p in target.parent.iterdir()] if target.parent.is_dir() else []
    match = closest(target.name, siblings)
    if match is not None and match != target.name:
        suggested = str(Path(name).parent / match) if Path(name).parent != Path(".") else match
        return f"file not found: {name} (did you mean '{suggested}'?)"
    return f"file not found: {name} (paths are relative to the folder of the file that names them)"
