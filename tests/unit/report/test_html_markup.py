"""The HTML page escapes every value it places (report/html_markup.py), as Jinja2's autoescape
did when the page was a template, and cannot be handed a value unescaped by accident."""
from __future__ import annotations

import ast
from pathlib import Path

import markupsafe  # Jinja2's escaping, installed with it: the reference the page must equal
import pytest

from orchestrator.report.html import render_html
from orchestrator.report.html_markup import Markup, attribute_json, escape, html, joined
from orchestrator.result.model import Status
from tests.unit.report.factory import HOSTILE, run_result

REPORT = Path(__file__).resolve().parents[3] / "orchestrator" / "report"
VALUES = [HOSTILE, "<", "&", '"', "'", "&amp;", "</script>", "\x00\x1b", "\ufffe", "lo\ud800", "{}", "{0}", "%s",
          "", 0, 17, -1.5, float("nan"), None, True, Status.PASSED]


@pytest.mark.parametrize("value", VALUES)
def test_escape_is_markupsafes(value: object) -> None:
    assert escape(value) == str(markupsafe.escape(value))


def test_values_are_escaped_and_not_read_as_formats() -> None:
    assert html('<b title="{}">{}</b>', "a\"b'c", "{0}<i>&") == "<b title=\"a&#34;b&#39;c\">{0}&lt;i&gt;&amp;</b>"
    assert html("<p>{}</p>", html("<i>{}</i>", "<")) == "<p><i>&lt;</i></p>"  # markup is placed as it is
    assert joined([html("<i>{}</i>", "&"), Markup("<br>")], "<") == "<i>&amp;</i>&lt;<br>"


def test_json_in_an_attribute_cannot_end_it_or_open_a_tag() -> None:
    text = attribute_json([{"id": "'><script>&", "i": 1}])
    assert text == '[{"i": 1, "id": "\\u0027\\u003e\\u003cscript\\u003e\\u0026"}]'
    assert not set("'<>&") & set(text)


def test_the_page_places_values_only_through_html() -> None:
    # The format of every html() call is a literal (the page's own markup): a value built into it
    # (an f-string, a concatenation) would reach the page unescaped. Markup() is made only where
    # the trusted pieces come from (the stylesheet, the script, the parts made elsewhere).
    tree = ast.parse((REPORT / "html_page.py").read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    formats = [call.args[0] for call in calls if call.func.id == "html"]  # type: ignore[attr-defined]
    assert len(formats) > 50
    assert [ast.dump(f) for f in formats if not (isinstance(f, ast.Constant) and isinstance(f.value, str))] == []
    assert [call.lineno for call in calls if call.func.id == "Markup"] == []  # type: ignore[attr-defined]
    made = {path.name for path in REPORT.glob("*.py") if "Markup(" in path.read_text(encoding="utf-8")}
    assert made == {"html_markup.py", "html_view.py"}


def test_hostile_text_never_becomes_markup_in_the_page() -> None:
    page = render_html(run_result(hostile=True))
    skeleton = page[:page.index('<script type="application/json"')]
    assert "<b>bold</b>" not in skeleton and "&lt;b&gt;bold&lt;/b&gt;" in skeleton
    assert "</script><script>alert(1)" not in page
