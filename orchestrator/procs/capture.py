"""A process's stdout or stderr: an unlinked file, bounded on disk and in memory.

The process writes to the file directly (no pipe to drain, no reader thread, and a daemon
that inherits the fd cannot make us wait for EOF). What is read back is a *segment*: everything
written since the previous `since_mark()` (one provider call, or a whole exec/spawn).

Bounds, whatever the process prints:
- in memory: a segment is read back as its first `head` and last `tail` bytes, with a visible
  note saying how many bytes in between were left out;
- on disk: a janitor thread looks at every live capture every JANITOR_PERIOD_S (more often
  while one is flooding); a file using
  more than `disk` bytes has every byte that will never be read (earlier segments, the middle
  of the current one) turned into a hole (Linux `fallocate` PUNCH_HOLE: exact, and the writer
  goes on undisturbed). Where holes are not supported the segment's head and tail are copied
  to memory and the file is emptied (the writer's fd is O_APPEND: it writes on at the new end).
"""
from __future__ import annotations

import ctypes
import os
import tempfile
import threading
import weakref
from typing import Callable

KEEP_HEAD_BYTES = 4 * 1024 * 1024
KEEP_TAIL_BYTES = 4 * 1024 * 1024
DISK_BYTES = 32 * 1024 * 1024
JANITOR_PERIOD_S = 0.1
JANITOR_BUSY_PERIOD_S = 0.01  # while some process is flooding its capture


class Capture:
    def __init__(self, label: str, *, head: int = KEEP_HEAD_BYTES, tail: int = KEEP_TAIL_BYTES,
                 disk: int = DISK_BYTES) -> None:
        fd, path = tempfile.mkstemp(prefix=f"orchestrator-{label}-")
        try:
            self.write_fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        finally:
            os.unlink(path)  # gone from disk once the last fd on it is closed
        self.read_fd = fd
        self._head_cap, self._tail_cap, self._disk = head, tail, max(disk, head + tail)
        self._lock = threading.Lock()
        self._base = 0  # bytes emptied out of the file so far: file offset 0 is stream offset _base
        self._mark = 0  # stream offset where the current segment starts
        self._head: bytes | None = None  # set once the segment's start was emptied out of the file
        self._tail = b""  # the segment's last bytes as of the last emptying
        _janitor.watch(self)

    def start(self) -> None:
        """What was written so far belongs to no segment."""
        with self._lock:
            self._mark = self._base + self._size()
            self._head, self._tail = None, b""

    def since_mark(self) -> str:
        """The current segment as text (head, note, tail when it is too long); starts the next."""
        return self._read(advance=True)

    def peek(self) -> str:
        """The current segment as text, leaving it current."""
        return self._read(advance=False)

    def total(self) -> int:
        """Bytes written in the current segment."""
        with self._lock:
            return self._base + self._size() - self._mark

    def enforce(self) -> bool:
        """Free the disk blocks of what will never be read (earlier segments, the middle of the
        current one) once the file holds more than its disk bound; True if it did."""
        with self._lock:
            if self.read_fd < 0:
                return False
            status = os.fstat(self.read_fd)
            if status.st_blocks * 512 <= self._disk:
                return False
            size = status.st_size
            start = self._mark - self._base
            head_end = start + self._head_cap if self._head is None else start
            if not (_punch(self.read_fd, 0, start) and _punch(self.read_fd, head_end, size - self._tail_cap - head_end)):
                self._empty(size, start)  # no hole punching here: empty the file instead
            return True

    def _empty(self, size: int, start: int) -> None:
        """Keep the segment's head and tail in memory and empty the file. Bytes written between
        the size check and the truncation are lost (and not counted): a fallback only."""
        if self._head is None:
            self._head = os.pread(self.read_fd, min(self._head_cap, size - start), start)
            start += len(self._head)
        else:
            start = 0
        tail_from = max(start, size - self._tail_cap)
        kept = os.pread(self.read_fd, size - tail_from, tail_from)
        self._tail = (self._tail + kept)[-self._tail_cap:]
        os.ftruncate(self.read_fd, 0)
        self._base += size

    def close_write(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def close(self) -> None:
        self.close_write()
        with self._lock:
            if self.read_fd >= 0:
                os.close(self.read_fd)
                self.read_fd = -1

    def _size(self) -> int:
        return os.fstat(self.read_fd).st_size if self.read_fd >= 0 else 0

    def _read(self, *, advance: bool) -> str:
        with self._lock:
            if self.read_fd < 0:
                return ""
            size = self._size()
            end = self._base + size
            length = end - self._mark
            if length == 0 and self._head is None:  # nothing written (most calls): no read, no text
                return ""
            if self._head is None:
                start = self._mark - self._base
                if length <= self._head_cap + self._tail_cap:
                    head, tail = os.pread(self.read_fd, length, start), b""
                else:
                    head = os.pread(self.read_fd, self._head_cap, start)
                    tail = os.pread(self.read_fd, self._tail_cap, size - self._tail_cap)
            else:
                head = self._head
                recent = os.pread(self.read_fd, min(size, self._tail_cap), max(0, size - self._tail_cap))
                tail = (self._tail + recent)[-self._tail_cap:]
            if advance:
                self._mark, self._head, self._tail = end, None, b""
        text = head.decode("utf-8", errors="replace")
        left_out = length - len(head) - len(tail)
        if left_out > 0:
            text += (f"\n[… output truncated: {length:,} bytes written, {left_out:,} left out here; "
                     f"the first {len(head):,} and the last {len(tail):,} are kept …]\n")
        return text + tail.decode("utf-8", errors="replace")


_FALLOC_FL_KEEP_SIZE, _FALLOC_FL_PUNCH_HOLE = 0x01, 0x02


def _fallocate() -> Callable[..., int] | None:
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).fallocate
    except (OSError, AttributeError):  # not Linux
        return None
    return function


_FALLOCATE = _fallocate()


def _punch(fd: int, offset: int, length: int) -> bool:
    """Free the blocks of bytes [offset, offset + length) (reads give zeros); False if unsupported."""
    if length <= 0:
        return True
    if _FALLOCATE is None:
        return False
    flags = _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE
    return _FALLOCATE(ctypes.c_int(fd), ctypes.c_int(flags), ctypes.c_longlong(offset),
                      ctypes.c_longlong(length)) == 0


class _Janitor:
    """One daemon thread keeping every live capture within its disk bound."""

    def __init__(self) -> None:
        self._captures: weakref.WeakSet[Capture] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, capture: Capture) -> None:
        with self._lock:
            self._captures.add(capture)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="capture-janitor", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        stop = threading.Event()
        busy = False
        while not stop.wait(JANITOR_BUSY_PERIOD_S if busy else JANITOR_PERIOD_S):
            with self._lock:
                captures = list(self._captures)
            busy = False
            for capture in captures:
                try:
                    busy = capture.enforce() or busy
                except OSError:
                    pass  # closed meanwhile


_janitor = _Janitor()

__all__ = ["Capture", "DISK_BYTES", "KEEP_HEAD_BYTES", "KEEP_TAIL_BYTES"]
