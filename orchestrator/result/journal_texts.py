"""results.json's cases from the journal's bytes: a finished case is encoded once, as it finishes.

The journal writes each finished case as one line, `store.encode(case)`; results.json holds the
very same text for each case, joined by ", ". Rather than encode every case a second time at the
end (~13 ms at 1,000 trivial cases), the final write reads the texts back from the journal file
(still in the page cache; one `pread` for a slice of cases that sit together in it).

Nothing is taken on trust: a case's text is used only for the very case object the journal wrote
(RunResult.cases holds the objects the engine journaled: masked before, never replaced after),
and only when the bytes read back are the bytes written: same length, a line that opens as a
case does and ends with its newline, same CRC-32. A journal truncated, rewritten or appended to
by someone else, a closed or failed journal: those cases are encoded as before, same bytes. The
texts are not kept in memory (~10 MB at 10,000 cases), only where they are: 24 bytes a case.
"""
from __future__ import annotations

import os
import zlib
from array import array
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from orchestrator.result.model import CaseResult

if TYPE_CHECKING:
    from orchestrator.result.journal import Journal

TextsOf = Callable[[Sequence[CaseResult]], list[bytes | None]]  # each case's JSON text, or None

_OPENING = b'{"id": '  # how `encode` writes a case: its first field is `id`
_NEWLINE = 0x0A
# A slice of cases is read at once when what lies between them is at most this much more than
# their own lines (e.g. at -j 2, or cases finished out of plan order), else each on its own.
_GAP_ALLOWED = 64 * 1024


class LineIndex:
    """Where each case the journal appended is in the file: offset, length (its newline
    included) and CRC-32 of its line, by the case's identity."""

    def __init__(self) -> None:
        self._slot: dict[int, int] = {}  # id(case) -> its slot
        self._cases: list[CaseResult] = []  # held, so that no other object ever gets a noted id
        self._spans = array("q")  # offset, length of each slot's line
        self._crcs = array("L")

    def note(self, case: CaseResult, offset: int, line: bytes) -> None:
        self._slot[id(case)] = len(self._cases)
        self._cases.append(case)
        self._spans.extend((offset, len(line)))
        self._crcs.append(zlib.crc32(line))

    def texts(self, fd: int, cases: Sequence[CaseResult]) -> list[bytes | None]:
        """Each case's text as read back from `fd` (without its newline); None where it is not
        the case's, or not there."""
        wanted: list[tuple[int, int, int]] = []  # (position in `cases`, offset, length)
        for n, case in enumerate(cases):
            slot = self._slot.get(id(case))
            if slot is not None and self._cases[slot] is case:
                wanted.append((n, self._spans[2 * slot], self._spans[2 * slot + 1]))
        out: list[bytes | None] = [None] * len(cases)
        if not wanted:
            return out
        low = min(offset for _, offset, _ in wanted)
        high = max(offset + length for _, offset, length in wanted)
        size = sum(length for _, _, length in wanted)
        if high - low <= size + _GAP_ALLOWED:
            block = memoryview(os.pread(fd, high - low, low))
            lines = [block[offset - low:offset - low + length] for _, offset, length in wanted]
        else:
            lines = [memoryview(os.pread(fd, length, offset)) for _, offset, length in wanted]
        for (n, _, length), line in zip(wanted, lines):
            if (len(line) == length and line[:len(_OPENING)] == _OPENING and line[-1] == _NEWLINE
                    and zlib.crc32(line) == self._crcs[self._slot[id(cases[n])]]):
                out[n] = bytes(line[:-1])
        return out


_active: TextsOf | None = None


@contextmanager
def reused_from(journal: Journal | None) -> Iterator[None]:
    """Within the block, results.json takes its cases' texts from `journal` where it can."""
    global _active
    if journal is None:
        yield
        return
    previous, _active = _active, journal.texts_of
    try:
        yield
    finally:
        _active = previous


def active() -> TextsOf | None:
    """Where the results.json being written takes its cases' texts from, if anywhere."""
    return _active
