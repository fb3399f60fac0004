"""A small pytest suite the test-runner plan runs file by file, with per-test results."""
import pytest


def test_upper():
    assert "orchestrator".upper() == "ORCHESTRATOR"


def test_split_keeps_empty_fields():
    assert "a,b,,c".split(",") == ["a", "b", "", "c"]


@pytest.mark.parametrize("text", ["ünïcödé", "plain", "😀"])
def test_utf8_round_trip(text):
    assert text.encode("utf-8").decode("utf-8") == text


class TestStrip:
    def test_strip_both_ends(self):
        assert "  x  ".strip() == "x"

    def test_rstrip_newline(self):
        assert "line\n".rstrip("\n") == "line"
