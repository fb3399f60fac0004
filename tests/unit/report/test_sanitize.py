from __future__ import annotations

import re

import pytest

from orchestrator.report.sanitize import clean, first_line, show_value, truncate, xml_safe

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x00", "\\x00"), ("\x1b", "\\x1b"), ("\x0b", "\\x0b"), ("\x0c", "\\x0c"), ("\x1f", "\\x1f"),
    ("\ud800", "\\ud800"), ("\udfff", "\\udfff"), ("\ufffe", "\\ufffe"), ("\uffff", "\\uffff"),
    ("\x7f", "\\x7f"), ("\x85", "\\x85"), ("\U0001fffe", "\\U0001fffe"),
])
def test_unsafe_characters_become_visible_escapes(raw: str, shown: str) -> None:
    assert xml_safe(f"a{raw}b") == f"a{shown}b"


def test_astral_and_bmp_escapes_in_one_non_ascii_text() -> None:
    # BMP-only text is scanned with a smaller class than text with astral characters: both must
    # escape every kind (an emoji is what sends a text down the astral path).
    assert xml_safe("é\x85\ufdd0 \ud800") == "é\\x85\\ufdd0 \\ud800"
    assert xml_safe("😀\x85\U0010ffff\ufdef\x1b") == "😀\\x85\\U0010ffff\\ufdef\\x1b"


def test_legal_text_is_untouched() -> None:
    text = "tab\there\nnew\r\nline 😀 é 中文 \u2028 <b>&amp;</b> ]]>"
    assert xml_safe(text) == text


def test_truncate_keeps_head_and_tail_with_a_counted_note() -> None:
    text = "H" * 3_000_000 + "T" * 2_000_000
    out = truncate(text, 200_000)
    assert out.startswith("H" * 1000) and out.endswith("T" * 1000)
    assert "[... 4,800,000 characters truncated; full output in results.json]" in out
    assert len(out) < 200_100
    assert truncate("short", 100) == "short"


def test_clean_truncates_then_escapes_so_no_illegal_char_survives() -> None:
    out = clean("\x00\ud800" * 100_000, 1000)
    assert not XML_ILLEGAL.search(out)
    assert "characters truncated" in out


def test_first_line_skips_blank_lines_and_splits_only_at_line_ends() -> None:
    assert first_line("\n\n  boom\x0bstill boom\nsecond") == "boom\\x0bstill boom"
    assert first_line("x" * 1000, 10) == "x" * 9 + "…"
    assert first_line("") == ""


def test_show_value_is_one_line_json() -> None:
    assert show_value("a\nb") == '"a\\nb"'
    assert show_value({"k": [1, None]}) == '{"k": [1, null]}'
    assert not XML_ILLEGAL.search(show_value("\x00\ud800"))
