"""The journal, `results.journal.jsonl`: the run's crash insurance, one JSON line per event.

Its first line is `{"journal": 2, "run": ..., "not_run": ...}`: the run as it starts (plans,
gate, and every selected case as not yet run: result/journal_start). Then one line per finished
case, flushed as it arrives. A run killed at any moment leaves every finished case on disk, and
`orchestrator report` rebuilds the run's reports from it (`read_run`): the cases that never
finished stay interrupted. The final results.json takes the finished cases' texts back from it
(result/journal_texts).
"""
from __future__ import annotations

import errno
import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Sequence

from orchestrator.errors import UserError
from orchestrator.result.journal_start import not_run, start_line
from orchestrator.result.journal_texts import LineIndex
from orchestrator.result.model import CaseResult, GateResult, PlanInfo, RunResult
from orchestrator.result.store import PathLike, encode

SUFFIX = ".journal.jsonl"


def journal_path(results: PathLike) -> Path:
    """Where the journal of a run writing `results` lives: `results.journal.jsonl` beside it."""
    p = Path(results)
    return p.with_name(p.stem + SUFFIX)


def is_journal(path: PathLike) -> bool:
    return str(path).endswith(SUFFIX)


class Journal:
    """Append-only log of finished cases, one JSON object per line, flushed as each arrives.

    If the run dies, every case that finished is still on disk; `read` / `read_run` get them
    back. Safe to call `append` from several threads.
    """

    def __init__(self, path: PathLike, start: RunResult | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Unbuffered bytes: a line is one write(2), on disk (in the kernel) when append returns,
        # without a text layer and a buffer to flush for each case. Readable too: the final
        # write reads the cases' texts back (result/journal_texts), whatever became of the path.
        try:
            self._fh: BinaryIO | None = open(self.path, "ab+", buffering=0)
        except PermissionError:  # a file we may write but not read: no texts lent, that is all
            self._fh = open(self.path, "ab", buffering=0)
        self._lines = LineIndex()
        # Where the next line goes, counted (a tell() per line is a system call): the file's
        # size when a write failed halfway is not known, and the lines after it are not noted.
        # Someone else writing to the file throws the count off: their texts fail the check.
        self._size: int | None = None
        try:
            self._size = os.fstat(self._fh.fileno()).st_size
        except OSError:
            pass
        if start is not None:
            try:
                self._write_start(start)
            except OSError:
                self.close()
                raise

    def append(self, case: CaseResult) -> None:
        line = (encode(case) + "\n").encode("utf-8")
        with self._lock:
            if self._fh is None:
                raise ValueError(f"journal {self.path} is closed")
            self._out(line)
            if self._size is not None:
                self._lines.note(case, self._size - len(line), line)

    def texts_of(self, cases: Sequence[CaseResult], at: int = 0) -> bytes | list[bytes | None]:
        """The JSON texts `append` wrote for `cases`, read back from the file: all of them
        joined by ", " (as results.json joins them), or each case's text, None where it was not
        appended, is not there as written, or the journal is closed (LineIndex.texts; `at`: where
        `cases` begin in the run's, asked in order by a write)."""
        with self._lock:
            if self._fh is None:
                return [None] * len(cases)
            try:
                return self._lines.texts(self._fh.fileno(), cases, at)
            except (OSError, ValueError):  # a closed descriptor, a read that failed: encoded instead
                return [None] * len(cases)

    def end(self, run: RunResult) -> None:
        """The run ended (its results file could not be written): the journal is then the
        complete record, and `read_run` gives a complete run."""
        self._write(json.dumps({"end": {"interrupted": run.interrupted, "duration_s": run.duration_s}}))

    def _write_start(self, start: RunResult) -> None:
        """The start line (result/journal_start), written a piece at a time: at 10,000 cases it
        is ~1 MB of text."""
        with self._lock:
            if self._fh is None:
                raise ValueError(f"journal {self.path} is closed")
            for piece in start_line(start):
                self._out(piece.encode("utf-8"))

    def _write(self, line: str) -> None:
        with self._lock:
            if self._fh is None:
                raise ValueError(f"journal {self.path} is closed")
            self._out((line + "\n").encode("utf-8"))

    def _out(self, data: bytes) -> None:
        assert self._fh is not None
        try:
            _put_bytes(self._fh, data)
        except BaseException:
            self._size = None
            raise
        if self._size is not None:
            self._size += len(data)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                fh, self._fh = self._fh, None
                try:
                    fh.close()
                except OSError:
                    pass  # a full disk: what could not be flushed is lost either way

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @staticmethod
    def read(path: PathLike) -> list[CaseResult]:
        """The cases recorded in a journal. A torn last line (the run died mid-write) is ignored."""
        return _read(Path(path))[1]

    @staticmethod
    def read_run(path: PathLike) -> RunResult:
        """The run a journal records: its start line with every finished case put in place.

        The result has the completion mark only when the journal has its end line (see
        result/completion.py for what readers make of a run without it). A journal without a
        start line (older versions) gives a run of its cases alone.
        """
        p = Path(path)
        start, cases, end = _read(p)
        if start is None:
            plans = tuple(PlanInfo(name=n, title=n, file=next(c.file for c in cases if c.plan == n))
                          for n in dict.fromkeys(c.plan for c in cases))
            start = RunResult(plans=plans, cases=(), gate=GateResult(False), started_at=0.0, duration_s=0.0)
        finished = {(c.plan, c.id): c for c in cases}
        merged = [finished.pop((c.plan, c.id), c) for c in start.cases]
        merged += finished.values()  # not in the start line: keep them rather than lose them
        ends = [a.started_at + a.duration_s for c in merged for a in c.attempts if a.started_at]
        duration = max(ends, default=start.started_at) - start.started_at if start.started_at else 0.0
        if end is not None:
            return replace(start, cases=tuple(merged), duration_s=float(end.get("duration_s") or 0.0),
                           interrupted=bool(end.get("interrupted")), complete=True)
        return replace(start, cases=tuple(merged), duration_s=max(duration, 0.0), complete=False)


def _put_bytes(fh: BinaryIO, data: bytes) -> None:
    """All of `data` to the unbuffered file, however many writes that takes (one, but for a disk
    about to be full or a signal)."""
    written = fh.write(data)
    if written == len(data):
        return
    rest = memoryview(data)
    while True:
        if not written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no progress: nothing more fits
        rest = rest[written:]
        if not rest:
            return
        written = fh.write(rest)


def _read(p: Path) -> tuple[RunResult | None, list[CaseResult], dict[str, Any] | None]:
    try:
        lines = p.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise UserError(f"{p}: no such journal") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: cannot read journal ({e})") from None
    start: Any = None
    end: dict[str, Any] | None = None
    items: list[Any] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            if number == len(lines):  # no trailing newline: the writer was killed mid-line
                break
            raise UserError(f"{p}:{number}: corrupt journal line ({e.msg})") from None
        if number == 1 and isinstance(item, dict) and "journal" in item:
            start = item
        elif isinstance(item, dict) and isinstance(item.get("end"), dict):
            end = item["end"]
        else:
            items.append(item)
    from orchestrator.result.decode import case_from_json, run_from_json  # here: a run only writes it

    try:
        cases = [case_from_json(item) for item in items]
        if start is None:
            return None, cases, end
        run = start.get("run")
        if run is None:
            return None, cases, end
        if "not_run" in start:  # format 2: the cases not yet run, listed compactly
            run["cases"] = not_run(start["not_run"])
        return run_from_json(run), cases, end
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UserError(f"{p}: corrupt journal ({type(e).__name__}: {e})") from None
