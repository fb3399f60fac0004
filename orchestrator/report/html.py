"""The HTML report: one self-contained file (inline CSS and JS, no URL of any kind).

The page is written by plain Python (report/html_page.py: every value escaped by construction);
the case table's rows and the per-case details are embedded as JSON (report/html_parts.py) and
turned into DOM nodes only when shown, so 10,000 cases stay light. Every string goes through
the sanitiser first: control characters become visible escapes and lone surrogates (which
cannot be encoded as UTF-8) cannot crash the writer.
"""
from __future__ import annotations

import base64
import json
import zlib
from typing import Any, BinaryIO

from orchestrator.report.html_page import page
from orchestrator.report.html_view import Elsewhere, page_view
from orchestrator.result.model import RunResult
from orchestrator.result.store import PathLike, atomic_writer


def write_html(run: RunResult, path: PathLike, elsewhere: Elsewhere | None = None) -> None:
    """Write the run as one offline HTML file (atomically), streamed: at 10,000 cases the
    whole page as one string, then as bytes, was two more copies of ~16 MB at the run's peak.
    `elsewhere`: the page's parts made by someone else meanwhile (`orchestrator report` has
    the case details made by another process), asked for only where the page needs them."""
    with atomic_writer(path) as fh:
        write_html_to(fh, run, elsewhere)


def write_html_to(fh: BinaryIO, run: RunResult, elsewhere: Elsewhere | None = None) -> None:
    """The page, streamed into an open file (`write_html` without the temporary file and rename)."""
    for chunk in page(page_view(run, elsewhere)):
        # backslashreplace is a last line of defence: every string is already sanitised.
        fh.write(chunk.encode("utf-8", "backslashreplace"))


def render_html(run: RunResult) -> str:
    """The page as one string (for tests and tools)."""
    return "".join(page(page_view(run)))


def unpack_json(text: str) -> Any:
    """The inverse of `packed_json` (for tests and tools that read a report's details)."""
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))
