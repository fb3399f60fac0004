"""Standard output that outlives its reader: `orchestrator run plan.yaml | head` must still run
every case, write every report and exit with the gate's code, not die of a broken pipe.

Once a write finds the pipe closed, output is dropped (fd 1 goes to /dev/null, so Python's
own flush at exit cannot fail either). Output that cannot be written for another reason (a
full disk, `> /dev/full`, an I/O error) is dropped the same way, and said once on stderr: the
run's verdict and its reports do not depend on the console.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, TextIO


class ReaderGoneSafe:
    """Wraps a text stream; BrokenPipeError on write or flush turns it into a sink."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except OSError as exc:
                self._lost(exc)
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except OSError as exc:
                self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        if not isinstance(exc, BrokenPipeError):  # a reader that left wants nothing more; a full disk is news
            say_output_lost(exc)
        self._drop_output()

    def _drop_output(self) -> None:
        self.reader_gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):  # not a real file: nothing to redirect
            pass

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno ... as the stream has them
        return getattr(self._stream, name)


def say_output_lost(exc: OSError) -> None:
    """One line on stderr: standard output could not be written, and what follows is dropped."""
    try:
        print(f"orchestrator: cannot write standard output: {exc.strerror or exc}; "
              "the rest of it is dropped (the reports and the exit code are not)", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr cannot take it either: nothing left to tell
        pass


@contextmanager
def stdout_safe_from_closed_pipe() -> Iterator[None]:
    original = sys.stdout
    if original is None or isinstance(original, ReaderGoneSafe):
        yield
        return
    sys.stdout = ReaderGoneSafe(original)
    try:
        yield
    finally:
        sys.stdout = original
