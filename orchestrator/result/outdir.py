"""A run's report folders: claimed with a kernel lock, and cleared of the previous run's reports.

The lock is `flock` on `.orchestrator.lock` in each folder: the kernel drops it when the holder
dies, even by `kill -9`, so a dead run never blocks the next. The file records the holder (pid,
command line, start time) so that a second run on the same folder can say who has it.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from orchestrator.errors import UserError

LOCK_NAME = ".orchestrator.lock"
# What a run writes into `--out` when no other path is given: the previous run's copies of
# these go at the start, even when this run writes a report elsewhere.
DEFAULT_NAMES = ("junit.xml", "report.html", "results.json", "results.journal.jsonl")


class FolderClaim:
    """The locks a run holds on its report folders; `release` gives them back."""

    def __init__(self, held: Sequence[tuple[Path, int]]) -> None:
        self._held = list(held)

    @property
    def folders(self) -> list[Path]:
        return [path.parent for path, _ in self._held]

    def release(self) -> None:
        while self._held:
            path, fd = self._held.pop()
            try:
                if _same_file(fd, path):  # never remove a lock file a later run has created
                    path.unlink()
            except OSError:
                pass
            os.close(fd)


def claim_folders(folders: Iterable[Path], command: str) -> FolderClaim:
    """Lock every folder (created if missing) for this run, or raise UserError naming the holder."""
    held: list[tuple[Path, int]] = []
    try:
        for folder in sorted({Path(os.path.realpath(f)) for f in folders}):  # a folder once, however named
            held.append(_lock(folder, command))
    except BaseException:
        FolderClaim(held).release()
        raise
    return FolderClaim(held)


def _lock(folder: Path, command: str) -> tuple[Path, int]:
    path = folder / LOCK_NAME
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise UserError(f"{folder} is in use by another run ({holder}); "
                            "wait for it to end or give this run another --out") from None
        except BaseException:
            os.close(fd)
            raise
        # The holder removes the file as it releases: if that happened between our open and our
        # flock, we hold a lock nobody else will ever look at. Start again on the new file.
        if _same_file(fd, path):
            break
        os.close(fd)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    record = json.dumps({"pid": os.getpid(), "command": command, "started": started}) + "\n"
    try:
        os.ftruncate(fd, 0)
        os.write(fd, record.encode("utf-8"))
    except OSError:
        pass  # a full disk: the lock holds all the same, only the holder's description is missing
    return path, fd


def _same_file(fd: int, path: Path) -> bool:
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def _holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 64 * 1024, 0).decode("utf-8"))
        return f"pid {int(data['pid'])}, started {data['started']}: {str(data['command'])[:500]}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that is just starting"


@contextmanager
def claimed(folders: Iterable[Path], command: str) -> Iterator[FolderClaim]:
    """`claim_folders` for the length of a block."""
    claim = claim_folders(folders, command)
    try:
        yield claim
    finally:
        claim.release()


def remove_previous_reports(targets: Sequence[Path], out: Path | None) -> None:
    """Delete the reports a previous run left at this run's `targets`, and those it left in
    `out` under the default names, with any temporary file a killed writer left beside them:
    no old report.html may sit beside a new junit.xml, or be taken for this run's."""
    names = [Path(t) for t in targets]
    if out is not None:
        names += [out / name for name in DEFAULT_NAMES]
    for target in dict.fromkeys(names):
        stale = [target]
        try:
            stale += list(target.parent.glob(f".{_glob_escape(target.name)}.*.tmp"))
        except OSError:
            pass
        for path in stale:
            try:
                if not path.is_dir():
                    path.unlink(missing_ok=True)
            except OSError as exc:
                raise UserError(f"cannot remove the previous run's report {path}: {exc.strerror or exc}") from None


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
