"""The HTML report's page, section by section, as a stream of markup (written to the file as it
comes: the case rows, timeline and details parts are megabytes at 10,000 cases).

Every value is placed with `html("...{}...", value)`, which escapes it (report/html_markup.py);
only the stylesheet, the script and the parts made by report/html_parts.py are taken as they are
(`Markup`). The page's text is what its Jinja2 template rendered, to the byte (reports are
compared byte for byte from one version to the next), whitespace included: where the template
had a line of its own for an `if` or a `for`, the text it guarded has neither indent nor newline.
"""
from __future__ import annotations

from typing import Any, Iterator

from orchestrator.report.html_details import fmt_seconds
from orchestrator.report.html_markup import Markup, attribute_json, html, joined
from orchestrator.report.html_view import PageView

Stream = Iterator[Markup]

_FIELD_FILTERS = (("priority", "Priority"), ("level", "Level"), ("tag", "Tag"), ("plan", "Plan"))
_VERDICT_MARKS = {"pass": "✔", "fail": "✘", "pending": "…"}
_CHIPS = 20  # covering cases shown per requirement; the others behind "+N more"


def page(view: PageView) -> Stream:
    for section in (head, header, cases, matrix, traceability, load, timeline, ranking, usage, workers,
                    provider_leaks, footer):
        yield from section(view)


def head(view: PageView) -> Stream:
    yield html('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
               '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
               '<title>{} — {}</title>\n<style>\n', view.title, "passed" if view.gate["passed"] else "failed")
    yield view.css
    yield html("\n</style>\n</head>\n<body>\n")


def header(view: PageView) -> Stream:
    total = view.total
    yield html('<header>\n  <h1>{}</h1>\n  <div class="meta">\n    Started {} · took {} · {} case{}\n',
               view.title, view.started, fmt_seconds(view.duration), total, "" if total == 1 else "s")
    if view.interrupted:
        yield html('· <strong class="ko">run interrupted</strong>')
    if view.plans:
        yield html("· plans: {}", joined((html('<span class="mono">{} ({})</span>', p["name"], p["file"])
                                            for p in view.plans), ", "))
    yield html("  </div>\n")
    yield from gate(view)
    yield from counts(view)
    yield from contents(view)
    yield html("</header>\n")


def gate(view: PageView) -> Stream:
    passed, scope, rules = view.gate["passed"], view.gate["scope"], view.gate["rules"]
    yield html('  <h2>Gate <span id="verdict" class="verdict {}">{}</span>',
               "passed" if passed else "failed", "PASSED" if passed else "FAILED")
    if scope:
        yield html(' <small id="gate-scope" class="meta">({})</small>', scope)
    yield html("</h2>\n")
    if rules:
        yield html('  <ul class="rules" id="gate-rules">\n')
        for r in rules:
            outcome = ("passed" if r["judged"] else "notjudged") if r["passed"] else "failed"
            detail = html(" — {}", r["detail"]) if r["detail"] else ""
            yield html('    <li class="{}"><span class="mono">{}</span>{}</li>\n', outcome, r["rule"], detail)
        yield html("  </ul>\n")


def counts(view: PageView) -> Stream:
    yield html('  <div class="counts" id="counts">\n')
    yield joined(html('<span><span class="badge s-{}">{}</span> {}</span>', status, status, n) for status, n in view.counts)
    yield html("  </div>\n")


def contents(view: PageView) -> Stream:
    """The table of contents: a link to each section the page has."""
    yield html('  <nav class="toc">\n    <a href="#cases-section">Cases</a><a href="#matrix-section">Regression matrix</a>\n')
    if view.trace:
        yield html('<a href="#trace-section">Traceability</a>')
    if view.load:
        yield html('<a href="#load-section">Load latency</a>')
    yield html('    <a href="#timeline-section">Timeline</a><a href="#ranking-section">Slowest cases</a>\n')
    if view.usage:
        yield html('<a href="#usage-section">Usage</a>')
    if view.workers:
        yield html('<a href="#workers-section">Workers</a>')
    if view.provider_leaks:
        yield html('<a href="#provider-leaks-section">Provider leftovers</a>')
    yield html("  </nav>\n")


def cases(view: PageView) -> Stream:
    """The case table's frame and filters; its rows are drawn by the script from the rows part."""
    yield html('<main>\n  <section id="cases-section">\n  <h2>Cases</h2>\n  <div class="controls">\n')
    for status, n in view.counts:
        yield html('    <label><input type="checkbox" class="status-filter" value="{}" checked> {} ({})</label>\n',
                   status, status, n)
    yield html('  </div>\n  <div class="controls">\n')
    yield from filters(view)
    yield html('    <input id="search" type="search" placeholder="Search id, name, tag, requirement, message…"'
               ' aria-label="Search cases">\n'
               '    <span id="shown" class="meta"></span>\n'
               '  </div>\n'
               '  <table id="cases">\n'
               '    <thead><tr><th>Status</th><th>ID</th><th>Name</th><th>Priority</th><th>Level</th><th>Tags</th>'
               '<th class="num">Duration</th></tr></thead>\n'
               '    <tbody></tbody>\n'
               '  </table>\n'
               '  <div class="pager" id="pager"><button id="prev" type="button">‹ Prev</button><span id="page"></span>'
               '<button id="next" type="button">Next ›</button></div>\n')
    if not view.total:
        yield html('<p class="meta">No cases ran.</p>')
    yield html("  </section>\n\n")


def filters(view: PageView) -> Stream:
    for key, label in _FIELD_FILTERS:
        offered = view.options[key]
        if offered:
            yield html('    <label>{} <select id="filter-{}" class="field-filter" data-field="{}">\n'
                       '      <option value="">all</option>\n', label, key, key)
            yield joined(html('<option value="{}">{}</option>', v, v) for v in offered)
            yield html("    </select></label>\n")


def matrix(view: PageView) -> Stream:
    yield html('  <section id="matrix-section">\n  <h2>Regression matrix</h2>\n')
    statuses, rows = view.matrix["statuses"], view.matrix["rows"]
    if rows:
        yield html('  <table id="matrix">\n    <thead><tr><th>Level</th><th>Priority</th><th class="num">Cases</th>{}'
                   '<th>Result</th></tr></thead>\n    <tbody>\n',
                   joined(html('<th class="num"><span class="badge s-{}">{}</span></th>', s, s) for s in statuses))
        for r in rows:
            yield html('      <tr><td>{}</td><td>{}</td><td class="num"><button type="button" class="link show"'
                       ' data-level="{}" data-priority="{}">{}</button></td>{}<td class="v-{}">{} {}/{}{}</td></tr>\n',
                       r["level"] or "—", r["priority"], r["level"], r["priority"], r["total"],
                       joined(html('<td class="num">{}</td>', n or "") for n in r["counts"]),
                       r["verdict"], _VERDICT_MARKS[r["verdict"]], r["ok"], r["ran"],
                       " not run" if r["verdict"] == "pending" else "")
        yield html("    </tbody>\n  </table>\n")
    else:
        yield html('<p class="empty">No cases.</p>')
    yield html("  </section>\n\n")


def traceability(view: PageView) -> Stream:
    if view.trace:
        yield html('  <section id="trace-section">\n  <h2>Traceability</h2>\n  <table id="trace">\n'
                   '    <thead><tr><th>Plan</th><th>Kind</th><th>ID</th><th>Description</th><th>Covering cases</th>'
                   '<th>Verdict</th></tr></thead>\n    <tbody>\n')
        for t in view.trace:
            yield html('      <tr class="{}"><td class="mono">{}</td><td>{}</td><td class="mono id">{}</td><td>{}</td>'
                       '<td>{}</td><td class="v-{}">{}</td></tr>\n',
                       "uncovered" if t["verdict"] == "uncovered" else "", t["plan"], t["kind"], t["id"], t["text"],
                       covering(t["cases"]), t["verdict"].replace(" ", "-"), t["verdict"])
        yield html("    </tbody>\n  </table>\n  </section>\n")
    yield html("\n")


def covering(cases: list[dict[str, Any]]) -> Markup:
    """The first covering cases as buttons that open them; the rest as one "+N more" button."""
    chips = joined(html('<button type="button" class="chip s-{} open-case" data-i="{}" title="{}">{}</button>',
                        c["status"], c["i"], c["status"], c["id"]) for c in cases[:_CHIPS])
    if len(cases) <= _CHIPS:
        return chips
    return html("{}<button type=\"button\" class=\"link more-cases\" data-more='{}'>+{} more</button>",
                chips, attribute_json(cases[_CHIPS:]), len(cases) - _CHIPS)


def load(view: PageView) -> Stream:
    if view.load:
        yield html('  <section id="load-section">\n  <h2>Load latency</h2>\n')
        for step in view.load:
            yield from load_step(step)
        yield html("  </section>\n")
    yield html("\n")


def load_step(step: dict[str, Any]) -> Stream:
    yield html('  <h3><button type="button" class="link open-case" data-i="{}">{}</button> · {} '
               '<span class="badge s-{}">{}</span></h3>\n', step["i"], step["id"], step["step"], step["status"], step["status"])
    requests, errors, rps, success = step["requests"], step["errors"], step["rps"], step["success"]
    yield html('  <div class="meta">{}{}{}{}</div>\n',
               "" if requests is None else html("{} requests", int(requests)),
               "" if errors is None else html(" · {} errors", int(errors)),
               "" if rps is None else html(" · {} req/s", "%.1f" % rps),
               "" if success is None else html(" · success {}%", "%.1f" % (success * 100 if success <= 1 else success)))
    yield html('  <table class="inner lat">\n    <thead><tr><th>Latency</th><th class="num">ms</th><th></th></tr></thead>\n'
               '    <tbody>\n')
    yield joined(html('<tr><td>{}</td><td class="num">{}</td><td class="barcell"><div class="bar" style="width: {}%">'
                      '</div></td></tr>', p["name"], "–" if p["ms"] is None else "%.1f" % p["ms"], p["pct"])
                 for p in step["latency"])
    yield html("    </tbody>\n  </table>\n")
    if step["histogram"]:
        yield html('  <table class="inner lat hist" aria-label="latency histogram">\n'
                   '    <thead><tr><th>Latency (ms)</th><th class="num">requests</th><th></th></tr></thead>\n'
                   '    <tbody>\n')
        yield joined(html('<tr><td>{}</td><td class="num">{}</td><td class="barcell"><div class="bar hbar"'
                          ' style="width: {}%"></div></td></tr>', b["label"], b["count"], b["pct"])
                     for b in step["histogram"])
        yield html("    </tbody>\n  </table>\n")


def timeline(view: PageView) -> Stream:
    """The timeline's frame; the script draws it from the timeline part."""
    yield html('  <section id="timeline-section">\n  <h2>Timeline</h2>\n'
               '  <details id="timeline"><summary>Cases per job over time (click to draw; click a bar to open its case)'
               '</summary>\n    <div class="legend meta" id="timeline-legend"></div>\n  </details>\n  </section>\n\n')


def ranking(view: PageView) -> Stream:
    yield html('  <section id="ranking-section">\n  <h2>Slowest cases</h2>\n')
    if view.ranking:
        yield html('  <table id="ranking">\n    <thead><tr><th>#</th><th>ID</th><th>Name</th><th>Status</th>'
                   '<th class="num">Duration</th><th></th></tr></thead>\n    <tbody>\n')
        yield joined(html('<tr><td class="num">{}</td><td class="mono"><button type="button" class="link open-case"'
                          ' data-i="{}">{}</button></td><td>{}</td><td><span class="badge s-{}">{}</span></td>'
                          '<td class="num">{}</td><td class="barcell"><div class="bar" style="width: {}%"></div></td></tr>',
                          place, r["i"], r["id"], r["name"], r["status"], r["status"], fmt_seconds(r["duration"]), r["pct"])
                     for place, r in enumerate(view.ranking, 1))
        yield html("    </tbody>\n  </table>\n")
    else:
        yield html('<p class="empty">No cases.</p>')
    yield html("  </section>\n\n")


def usage(view: PageView) -> Stream:
    if view.usage:
        yield html('  <section id="usage-section">\n  <h2>Token usage and cost</h2>\n  <ul id="usage">{}</ul>\n'
                   '  </section>\n', joined(html('<li class="mono">{}</li>', line) for line in view.usage))
    yield html("\n")


def workers(view: PageView) -> Stream:
    if view.workers:
        yield html('  <section id="workers-section">\n  <h2>Workers</h2>\n  <table id="workers">\n'
                   '    <thead><tr><th>Provider</th><th class="num">#</th><th class="num">PID</th><th class="num">Calls</th>'
                   '<th class="num">Restarts</th><th>Restart reasons</th><th class="num">Peak RSS</th>'
                   '<th class="num">Cold start</th></tr></thead>\n    <tbody>\n')
        for w in view.workers:
            yield html('      <tr><td class="mono">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
                       '<td class="num">{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>\n',
                       w["provider"], w["index"], w["pid"], w["calls"], w["restarts"], "; ".join(w["reasons"]),
                       w["rss"], w["cold"])
        yield html("    </tbody>\n  </table>\n  </section>\n")
    yield html("\n")


def provider_leaks(view: PageView) -> Stream:
    if view.provider_leaks:
        yield html('  <section id="provider-leaks-section">\n  <h2>Provider leftovers</h2>\n'
                   '  <p>Processes provider calls (or workers) started and left running; the run killed them.</p>\n'
                   '  <table id="provider-leaks">\n'
                   '    <thead><tr><th>Provider</th><th>Plan</th><th class="num">PID</th><th>Command line</th>'
                   '<th>Calling case</th></tr></thead>\n    <tbody>\n')
        for p in view.provider_leaks:
            yield html('      <tr><td class="mono">{}</td><td>{}</td><td class="num">{}</td><td class="mono">{}</td>'
                       '<td class="mono">{}</td></tr>\n', p["provider"], p["plan"], p["pid"], p["cmdline"], p["case"])
        yield html("    </tbody>\n  </table>\n  </section>\n")


def footer(view: PageView) -> Stream:
    """The footer, then the data the script reads (each part made only now) and the script."""
    yield html("</main>\n<footer>\n{}{}</footer>\n",
               html("orchestrator {}", view.version) if view.version else "",
               html(' · <span class="mono">{}</span>', view.command) if view.command else "")
    yield html('<script type="application/json" id="case-rows">')
    yield view.parts["rows"]()
    yield html('</script>\n<script type="application/json" id="timeline-data">')
    yield view.parts["timeline"]()
    yield html("</script>\n<script>\n")
    yield view.js
    yield html('\n</script>\n<script type="application/octet-stream" id="case-data" data-encoding="deflate+base64">')
    yield view.parts["data"]()
    yield html("</script>\n</body>\n</html>")


__all__ = ["page"]
