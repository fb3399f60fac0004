"""Standard output that outlives its reader: `orchestrator run plan.yaml | head` must still run
every case, write every report and exit with the gate's code, not die of a broken pipe.

Once a write finds the pipe closed, output is dropped (fd 1 goes to /dev/null, so Python's
own flush at exit cannot fail either). Output that cannot be written for another reason (a
full disk, `> /dev/full`, an I/O error) is dropped the same way, and said once on stderr: the
run's verdict and its reports do not depend on the console. Where the output is the command's
result (`list`, `schema`, `--version`), losing it so is the command's failure (exit 3).
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, TextIO


class ReaderGoneSafe:
    """Wraps a text stream; BrokenPipeError on write or flush turns it into a sink."""

    def __init__(self, stream: TextIO, output_is_result: bool = False) -> None:
        self._stream = stream
        self.reader_gone = False
        self.output_is_result = output_is_result
        self.lost: OSError | None = None  # why output was dropped (not a reader that left)

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
            self.lost = exc
            say_output_lost(exc, self.output_is_result)
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


def say_output_lost(exc: OSError, output_is_result: bool = False) -> None:
    """One line on stderr: standard output could not be written, and what follows is dropped."""
    why = exc.strerror or exc
    try:
        print(f"orchestrator: cannot write standard output: {why}" if output_is_result else
              f"orchestrator: cannot write standard output: {why}; "
              "the rest of it is dropped (the reports and the exit code are not)", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr cannot take it either: nothing left to tell
        pass


@contextmanager
def stdout_safe_from_closed_pipe(output_is_result: bool = False) -> Iterator[ReaderGoneSafe | None]:
    """Standard output wrapped for the block (None: it already is, or there is none). With
    `output_is_result`, the block ends by flushing it, so that a loss is known before the exit
    code is (the wrapper's `lost`)."""
    original = sys.stdout
    if original is None or isinstance(original, ReaderGoneSafe):
        yield None
        return
    guarded = sys.stdout = ReaderGoneSafe(original, output_is_result)
    try:
        yield guarded
        if output_is_result:
            guarded.flush()
    finally:
        sys.stdout = original
