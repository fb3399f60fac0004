"""Make arbitrary captured text safe to put in an XML 1.0 (or HTML) document.

Providers and processes print anything: terminal escapes, NUL bytes, lone surrogates from a
`surrogateescape` decode, megabytes of logs. XML 1.0 cannot carry some of these characters at
all, not even as `&#N;` references, so they are replaced by a *visible* escape (`\\x1b`,
`\\ud800`) rather than dropped: whoever reads the report should see that something was there.
"""
from __future__ import annotations

import json
import re
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Callable, Sequence

# Outside the XML 1.0 Char production: C0 controls except TAB/LF/CR, surrogates, U+FFFE/U+FFFF.
_ILLEGAL = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
# Legal but "discouraged" (XML 1.0 §2.2): DEL, C1 controls and the other noncharacters.
# junit-xml silently deletes these and CI validators warn on them, so escape them as well.
_DISCOURAGED = "\x7f-\x9f\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
_UNSAFE = re.compile(f"[{_ILLEGAL}{_DISCOURAGED}]")
# The same without the astral noncharacters, for text with no astral character at all (nearly
# all text): a class of ranges within the BMP is a table lookup per character, while the 32
# astral members made every character of a non-ASCII block cost ~14x more (40 ms a MB).
_UNSAFE_BMP = re.compile(f"[{_ILLEGAL}\x7f-\x9f\ufdd0-\ufdef]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_UNSAFE_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

DEFAULT_LIMIT = 64 * 1024
TRUNCATION_NOTE = "\n[... {count:,} characters truncated; full output in results.json]\n"


def _escape(match: re.Match[str]) -> str:
    cp = ord(match.group())
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def xml_safe(text: str) -> str:
    """Replace every character an XML 1.0 consumer would reject (or warn on) by a visible escape."""
    # A search that finds nothing costs half a `sub` that replaces nothing (which builds its
    # result anyway): the text with line breaks, nearly all output, is only searched.
    if text.isascii():  # the common case: the full class (astral ranges) scans ~8x slower
        if text.isprintable() or _UNSAFE_ASCII.search(text) is None:
            return text
        return _UNSAFE_ASCII.sub(_escape, text)
    unsafe = _UNSAFE if _ASTRAL.search(text) else _UNSAFE_BMP
    return text if unsafe.search(text) is None else unsafe.sub(_escape, text)


def truncate(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """Keep the head and the tail of `text` (at most `limit` characters in all) with a note between.

    The tail is kept because the end of a log is usually where the failure is.
    """
    if limit <= 0 or len(text) <= limit:
        return text
    cut = len(text) - limit
    note = TRUNCATION_NOTE.format(count=cut)
    head = (limit * 2) // 3
    tail = limit - head
    return text[:head] + note + text[len(text) - tail:]


def clean(text: object, limit: int = DEFAULT_LIMIT) -> str:
    """`str(text)`, truncated to `limit` characters (0 = no limit), then made XML-safe."""
    s = text if isinstance(text, str) else str(text)
    if (len(s) <= limit or limit <= 0) and s.isascii() and s.isprintable():  # the common case, inlined
        return s
    return xml_safe(truncate(s, limit))


def first_line(text: str, limit: int = 500) -> str:
    """The first non-empty line of `text`, XML-safe and at most `limit` characters."""
    # Only CR/LF end a line here: str.splitlines would also split at \x0b, \x1c or U+2028.
    one_line = type(text) is str and "\n" not in text and "\r" not in text  # the common case: no split
    lines = (text,) if one_line else re.split("\r\n|\r|\n", text)
    for line in lines:
        if line.strip():
            line = line.strip()
            if len(line) > limit:
                line = line[: limit - 1] + "…"
            return xml_safe(line)
    return ""


# Built once: json.dumps with keyword arguments builds a new encoder on every call.
_DISPLAY = json.JSONEncoder(ensure_ascii=False, default=repr)


class _Display:
    """`_DISPLAY.encode`, with the C encoder it makes on every call (~2 us: most of encoding a
    step's fields) made once. Its circular-reference markers are emptied by every call that
    succeeds; after one that failed, a fresh encoder is made."""

    def __init__(self) -> None:
        self._encode: Callable[[object, int], Sequence[str]] | None = None

    def __call__(self, value: object) -> str:
        if type(value) is str:
            return encode_basestring(value)
        encode = self._encode
        if encode is None:
            if c_make_encoder is None:  # no C accelerator: json's own path
                return _DISPLAY.encode(value)
            encode = self._encode = c_make_encoder({}, repr, encode_basestring, None, ": ", ", ", False, False, True)
        try:
            return "".join(encode(value, 0))
        except BaseException:
            self._encode = None
            raise


# `value` as compact one-line JSON for people to read; anything JSON lacks shows as its repr.
display_json = _Display()


def show_value(value: object, limit: int = 2000) -> str:
    """One-line display form of an expected/actual value: JSON, so strings show their quotes."""
    try:
        text = display_json(value)
    except (TypeError, ValueError, RecursionError):  # circular structures
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return xml_safe(text)
