"""results.json's cases from the journal's bytes: a finished case is encoded once, as it finishes.

The journal writes each finished case as one line, `store.encode(case)`; results.json holds the
very same text for each case, joined by ", ". Rather than encode every case a second time at the
end (~13 ms at 1,000 trivial cases), the final write reads the texts back from the journal file
(still in the page cache; one `pread` for a slice of cases that sit together in it).

Nothing is taken on trust: a case's text is used only for the very case object the journal wrote
(RunResult.cases holds the objects the engine journaled: masked before, never replaced after),
and only when the bytes read back are the bytes written: same length, same CRC-32, opening as
a case does. A journal truncated, rewritten or appended to by someone else, a closed or failed
journal: those cases are encoded as before, same bytes. The texts are not kept in memory (~10 MB
at 10,000 cases), only where they are: ~20 bytes a case (more where a write asks out of order).
"""
from __future__ import annotations

import os
import zlib
from array import array
from contextlib import contextmanager
from operator import is_
from typing import Callable, Iterator, Protocol, Sequence

from orchestrator.result.model import CaseResult

TextsOf = Callable[[Sequence[CaseResult], int], "bytes | list[bytes | None]"]  # see LineIndex.texts (a string: 3.9)


class Lender(Protocol):
    """What lends its cases' texts: the journal (result/journal.Journal.texts_of)."""

    def texts_of(self, cases: Sequence[CaseResult], at: int = 0) -> bytes | list[bytes | None]: ...

_OPENING = b'{"id": '  # how `encode` writes a case: its first field is `id`
# A slice of cases is read at once when what lies between them is at most this much more than
# their own lines (e.g. at -j 2, or cases finished out of plan order), else each on its own.
_GAP_ALLOWED = 64 * 1024


class LineIndex:
    """Where each case the journal appended is in the file, in the order appended (its slot):
    the lines are one after the other, so a line's offset and the next one's (or the end) are
    all it takes; and the CRC-32 of all the lines up to each one (a chain: the lines of
    consecutive appends are checked by one CRC call over them, wherever they begin). ~20 bytes
    a case while the run goes on, ~1 us a line (in a run, cold caches: ~1.7 us with a length
    array and framing checks, each a call: the framing is encode's, and the CRC checks it).

    A case's slot is found by its identity: first where the last one found ends (a write asks
    in plan order: at -j 1 that is the order appended), else in a map by `id` made only then
    (~100 bytes a case more: at -j N, cases in priority order). A case asked for once every
    noted slot was met in order since the write began (the cases a run never finished, after
    the others) is known not to be there without that map."""

    def __init__(self) -> None:
        self._cases: list[CaseResult] = []  # held, so that no other object ever gets a noted id
        self._offsets = array("q")
        self._end = 0  # where the last line noted ends
        self._chain = array("L")  # CRC-32 of the lines of slots 0..n, one after the other
        self._crc = 0
        self._next = 0  # where the slot of the next case asked for is looked for first
        self._in_order = 0  # slots 0.. met one after the other since the write began
        self._by_id: dict[int, int] = {}  # id(case) -> its slot, for the first _indexed slots
        self._indexed = 0

    def _slot(self, case: CaseResult) -> int | None:
        noted, slot = len(self._cases), self._next
        if slot < noted and self._cases[slot] is case:
            pass
        elif self._in_order == noted:
            return None
        else:
            if self._indexed < noted:
                self._by_id.update((id(c), n) for n, c in enumerate(self._cases[self._indexed:], self._indexed))
                self._indexed = noted
            found = self._by_id.get(id(case))
            if found is None or self._cases[found] is not case:
                return None
            slot = found
        if slot == self._in_order:
            self._in_order += 1
        self._next = slot + 1
        return slot

    def note(self, case: CaseResult, offset: int, line: bytes) -> None:
        """`line` (a case's text, `encode`'s: no newline but its last) is in the file at `offset`.
        Lines are noted only one right after the other (the journal writes nothing between)."""
        if offset != self._end and self._cases:
            return
        self._cases.append(case)
        self._offsets.append(offset)
        self._end = offset + len(line)
        self._crc = crc = zlib.crc32(line, self._crc)
        self._chain.append(crc)

    def _span(self, slot: int) -> tuple[int, int]:
        """Offset and length of a slot's line."""
        offset = self._offsets[slot]
        return offset, (self._offsets[slot + 1] if slot + 1 < len(self._offsets) else self._end) - offset

    def texts(self, fd: int, cases: Sequence[CaseResult], at: int) -> bytes | list[bytes | None]:
        """The cases' texts joined by ", " as results.json joins them, when all are there; else
        each case's text (without its newline), None where it is not the case's or not there.
        `at`: where `cases` begin in the run's (0: a write begins)."""
        if at == 0:
            self._next = self._in_order = 0
        joined = self._joined(fd, cases)
        if joined is not None:
            return joined
        wanted: list[tuple[int, int, int, int]] = []  # (position in `cases`, slot, offset, length)
        for n, case in enumerate(cases):
            slot = self._slot(case)
            if slot is not None:
                wanted.append((n, slot, *self._span(slot)))
        out: list[bytes | None] = [None] * len(cases)
        if not wanted:
            return out
        low = min(offset for _, _, offset, _ in wanted)
        high = max(offset + length for _, _, offset, length in wanted)
        size = sum(length for _, _, _, length in wanted)
        if high - low <= size + _GAP_ALLOWED:
            block = memoryview(os.pread(fd, high - low, low))
            lines = [block[offset - low:offset - low + length] for _, _, offset, length in wanted]
        else:
            lines = [memoryview(os.pread(fd, length, offset)) for _, _, offset, length in wanted]
        for (n, slot, _, length), line in zip(wanted, lines):
            if (len(line) == length and line[:len(_OPENING)] == _OPENING
                    and zlib.crc32(line, self._chain[slot - 1] if slot else 0) == self._chain[slot]):
                out[n] = bytes(line[:-1])
        return out

    def _joined(self, fd: int, cases: Sequence[CaseResult]) -> bytes | None:
        """The usual case (-j 1, plan order): `cases` are the lines of consecutive appends, one
        after the other in the file. Then one read, one CRC over them all, and their newlines
        made ", " (a line of `encode`'s text, ensure_ascii, has no other newline)."""
        before = self._next, self._in_order
        first = self._slot(cases[0]) if cases else None
        if first is None:
            return None
        end = first + len(cases)
        block = b""
        if end <= len(self._cases) and all(map(is_, cases, self._cases[first:end])):
            low = self._offsets[first]
            size = (self._offsets[end] if end < len(self._offsets) else self._end) - low
            block = os.pread(fd, size, low)
            if (len(block) != size or not block.startswith(_OPENING)
                    or zlib.crc32(block, self._chain[first - 1] if first else 0) != self._chain[end - 1]):
                block = b""
        if not block:  # the slow path looks for them again
            self._next, self._in_order = before
            return None
        if self._in_order == first + 1:
            self._in_order = end
        self._next = end
        return block[:-1].replace(b"\n", b", ")


_active: TextsOf | None = None


@contextmanager
def reused_from(journal: Lender | None) -> Iterator[None]:
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
