"""Where a plan may read files from: its project, and nowhere else.

`include` and `discover` resolve relative to the plan that names them and must stay inside the
project root: the nearest ancestor of the plan's folder holding `.git` or `pyproject.toml`
(else the plan's own folder), or what `--root` says. So a plan from an untrusted branch cannot
read /etc/shadow into an error message, or make `discover` walk the whole filesystem.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT_MARKERS = (".git", "pyproject.toml")
PLAN_SUFFIXES = (".yaml", ".yml")
MAX_DISCOVERED = 10_000


class PathRefused(ValueError):
    """A path or glob that leaves the project root, or asks for too much."""


def project_root(plan: Path) -> Path:
    """The nearest ancestor of `plan`'s folder holding .git or pyproject.toml, else that folder."""
    folder = Path(os.path.realpath(plan)).parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return folder


def inside(path: str | Path, root: Path) -> bool:
    """Whether `path`, symlinks resolved, is `root` or below it."""
    real = os.path.realpath(path)
    return real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep)


def check_include(folder: Path, name: str, root: Path) -> Path:
    """The absolute path an `include` entry names; PathRefused when it may not be read."""
    target = Path(os.path.abspath(folder / name))
    if not inside(target, root):
        raise PathRefused(f"include '{name}' is outside the project root {root} (pass --root to widen it)")
    if target.suffix.lower() not in PLAN_SUFFIXES:
        raise PathRefused(f"include '{name}' is not a plan file (.yaml or .yml); its content is not read")
    return target


def discover(folder: Path, pattern: str, root: Path, limit: int = MAX_DISCOVERED) -> list[Path]:
    """The files `pattern` matches relative to `folder`, sorted; PathRefused for an absolute
    glob, one that reaches outside `root`, or one matching more than `limit` files."""
    import glob  # here: only `discover` needs it

    if os.path.isabs(pattern) or pattern.startswith("~"):
        raise PathRefused(f"discover glob '{pattern}' is absolute: write it relative to the plan's folder")
    parts = pattern.replace("\\", "/").split("/")
    magic = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    if ".." in parts[magic:]:
        raise PathRefused(f"discover glob '{pattern}' has '..' after a wildcard: put every '..' first")
    base = folder.joinpath(*parts[:magic]) if magic else folder
    if not inside(base, root):
        raise PathRefused(f"discover glob '{pattern}' reaches outside the project root {root} "
                          "(pass --root to widen it)")
    found: list[Path] = []
    for match in glob.iglob(os.path.join(glob.escape(str(folder)), pattern), recursive=True):
        if os.path.isfile(match) and inside(match, root):
            found.append(Path(os.path.abspath(match)))
            if len(found) > limit:
                raise PathRefused(f"discover glob '{pattern}' matched more than {limit:,} files: narrow it")
    return sorted(found)


__all__ = ["MAX_DISCOVERED", "PathRefused", "check_include", "discover", "inside", "project_root"]
