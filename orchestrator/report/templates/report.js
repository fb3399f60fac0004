"use strict";
/* The case table is drawn a page at a time from the embedded rows. The per-case details (the
   bulk of a big report) are embedded deflated and base64-encoded after this script, and are
   unpacked in the background once the page has loaded. Every string from the run goes into
   the page through textContent (or an SVG <title>'s textContent): nothing is parsed as HTML. */
(function () {
  var PAGE = 100;
  var ROWS = JSON.parse(document.getElementById("case-rows").textContent);
  var DETAILS = null, UNPACK_ERROR = "";  // see unpackDetails
  var S = 0, ID = 1, NAME = 2, WHY = 3, PRIO = 4, LEVEL = 5, TAGS = 6, SECS = 7, PLAN = 8, COVERS = 9;
  var tbody = document.querySelector("#cases tbody");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.status-filter"));
  var selects = Array.prototype.slice.call(document.querySelectorAll("select.field-filter"));
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var pageLabel = document.getElementById("page");
  var prev = document.getElementById("prev"), next = document.getElementById("next");
  var visible = [], page = 0, open = {}, haystack = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function badge(status) { return el("span", "badge s-" + status, status); }
  function seconds(v) {
    if (!(v >= 0)) return "–";
    if (v < 60) return v.toFixed(2) + "s";
    var m = Math.floor(v / 60), s = v - 60 * m;
    if (m < 60) return m + "m " + (s < 10 ? "0" : "") + s.toFixed(1) + "s";
    var h = Math.floor(m / 60); m = m - 60 * h;
    return h + "h " + (m < 10 ? "0" : "") + m + "m";
  }
  function pre(title, text, isOpen) {
    if (!text) return null;
    var d = el("details"); d.open = !!isOpen;
    return add(d, el("summary", null, title), el("pre", null, text));
  }
  function pretty(text) {  // a truncated value is not JSON any more: show it as it is
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  }
  function table(head, body) {
    var t = el("table", "inner"), tr = el("tr");
    head.forEach(function (h) { add(tr, el("th", null, h)); });
    add(t, add(el("thead"), tr), body);
    return t;
  }
  function unpackDetails() {
    if (typeof DecompressionStream === "undefined") {
      UNPACK_ERROR = "This browser cannot unpack the case details (no DecompressionStream): " +
        "open the report in a current Chrome, Edge, Firefox or Safari.";
      draw();
      return;
    }
    var binary = atob(document.getElementById("case-data").textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var k = 0; k < binary.length; k++) bytes[k] = binary.charCodeAt(k);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    new Response(stream).text().then(function (text) {
      DETAILS = JSON.parse(text);
      document.body.dataset.details = "1";
      draw();
    }, function (err) {
      UNPACK_ERROR = "The case details could not be unpacked: " + err;
      draw();
    });
  }
  function details(i) {
    return DETAILS ? DETAILS[i] : null;
  }

  function renderStep(s) {
    var box = el("div", "step"), h = el("h3");
    add(h, badge(s.status), document.createTextNode(" step " + (s.index + 1) + ": " + s.title + " (" + s.action +
      (s.line ? ", line " + s.line : "") + ") · " + s.duration + (s.worker ? " · worker " + s.worker : "")));
    add(box, h);
    if (s.assertions.length) {
      var body = el("tbody");
      s.assertions.forEach(function (a) {
        add(body, add(el("tr"),
          add(el("td"), el("span", a.passed ? "ok" : "ko", a.passed ? "✔ pass" : "✘ fail")),
          el("td", "mono", a.kind + (a.line ? " (line " + a.line + ")" : "")), el("td", "mono", a.on),
          el("td", "mono", a.expected), el("td", "mono", a.actual), el("td", null, a.message)));
      });
      add(box, table(["Result", "Assertion", "On", "Expected", "Actual", "Message"], body));
    }
    if (s.error) add(box, el("div", "ko", s.error.type + ": " + s.error.message), pre("traceback", s.error.traceback, true));
    if (s.tests && s.tests.length) {  // an exec's `junit:` file: one row per test it reported
      var tests = el("tbody");
      s.tests.forEach(function (t) {
        add(tests, add(el("tr"), add(el("td"), badge(t.status)), el("td", "mono", t.name),
          el("td", "mono", t.where), el("td", null, t.duration), el("td", null, t.message)));
      });
      add(box, table(["Status", "Test (" + s.tests.length + ")", "Where", "Time", "Message"], tests));
      s.tests.forEach(function (t) { if (t.details) add(box, pre(t.name + ": " + t.status, t.details, true)); });
    }
    add(box, pre("result fields", pretty(s.fields), false));
    return box;
  }

  function renderAttempt(a, n, total) {
    var box = el("div", "attempt");
    var h = el(total > 1 ? "h3" : "div", total > 1 ? null : "meta");
    if (total > 1) add(h, badge(a.status), document.createTextNode(" attempt " + n + " of " + total + " "));
    add(h, document.createTextNode("took " + a.duration + " · job " + a.job + (a.rss ? " · peak RSS " + a.rss : "") +
      (a.workers && a.workers.length ? " · worker " + a.workers.join(", ") : "") + (a.started ? " · started " + a.started : "")));
    add(box, h);
    if (total > 1 && a.message) add(box, el("div", null, a.message));
    a.steps.forEach(function (s) { add(box, renderStep(s)); });
    add(box, pre("stdout (providers and processes)", a.stdout, true), pre("stderr", a.stderr, true));
    return box;
  }

  function renderCase(d) {
    var box = el("div");
    if (d.message) add(box, el("pre", null, d.message));
    if (d.description) add(box, el("p", null, d.description));
    add(box, el("div", "meta mono", d.where + (d.covers.length ? " · covers " + d.covers.join(", ") : "")));
    if (!d.attempts.length) add(box, el("p", "meta", "Not run."));
    d.attempts.forEach(function (a, i) { add(box, renderAttempt(a, i + 1, d.attempts.length)); });
    return box;
  }

  function caseRow(i) {
    var r = ROWS[i], tr = el("tr", "case" + (open[i] ? " open" : ""));
    tr.tabIndex = 0; tr.dataset.i = i; tr.dataset.status = r[S];
    var name = add(el("td"), document.createTextNode(r[NAME]));
    if (r[WHY]) add(name, el("div", "why", r[WHY]));
    var tags = el("td");
    r[TAGS].forEach(function (t) { add(tags, el("span", "tag", t)); });
    return add(tr, add(el("td"), badge(r[S])), el("td", "mono id", r[ID]), name, el("td", null, r[PRIO]),
      el("td", null, r[LEVEL]), tags, el("td", "num", seconds(r[SECS])));
  }
  function detailRow(i) {
    var row = el("tr", "detail-row"), td = el("td", "detail");
    td.colSpan = 7;
    var d = details(i);
    if (!d) return add(row, add(td, el("div", "meta", UNPACK_ERROR || "loading…")));
    return add(row, add(td, renderCase(d)));
  }

  function draw() {
    var pages = Math.max(1, Math.ceil(visible.length / PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    var frag = document.createDocumentFragment();
    visible.slice(page * PAGE, page * PAGE + PAGE).forEach(function (i) {
      add(frag, caseRow(i));
      if (open[i]) add(frag, detailRow(i));
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    pageLabel.textContent = visible.length ? "page " + (page + 1) + " of " + pages : "no matching cases";
    prev.disabled = page === 0; next.disabled = page >= pages - 1;
    shown.textContent = visible.length === ROWS.length ? ROWS.length + " cases" : visible.length + " of " + ROWS.length + " shown";
  }

  function filter() {
    var on = {}, want = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    selects.forEach(function (s) { if (s.value) want[s.dataset.field] = s.value; });
    var q = search.value.trim().toLowerCase();
    if (q && !haystack) haystack = ROWS.map(function (r) {
      return [r[ID], r[NAME], r[WHY], r[TAGS].join(" "), r[PLAN], r[PRIO], r[LEVEL], r[COVERS].join(" ")]
        .join("\n").toLowerCase();
    });
    visible = [];
    for (var i = 0; i < ROWS.length; i++) {
      var r = ROWS[i];
      if (on[r[S]] === false) continue;
      if (want.priority && r[PRIO] !== want.priority) continue;
      if (want.level && r[LEVEL] !== want.level) continue;
      if (want.plan && r[PLAN] !== want.plan) continue;
      if (want.tag && r[TAGS].indexOf(want.tag) === -1) continue;
      if (q && haystack[i].indexOf(q) === -1) continue;
      visible.push(i);
    }
    page = 0;
    draw();
  }

  function toggle(i) {
    if (open[i]) delete open[i]; else open[i] = true;
    draw();
  }
  // Open case i from elsewhere in the report: clear filters that hide it, go to its page.
  function reveal(i) {
    if (visible.indexOf(i) === -1) {
      boxes.forEach(function (b) { b.checked = true; });
      selects.forEach(function (s) { s.value = ""; });
      search.value = ""; filter();
    }
    page = Math.floor(visible.indexOf(i) / PAGE);
    open[i] = true; draw();
    var tr = tbody.querySelector('tr.case[data-i="' + i + '"]');
    if (tr) { tr.scrollIntoView({block: "center"}); tr.focus(); }
  }

  tbody.addEventListener("click", function (e) {
    var tr = e.target.closest("tr.case");
    if (tr && !(window.getSelection && String(window.getSelection()))) toggle(Number(tr.dataset.i));
  });
  tbody.addEventListener("keydown", function (e) {
    var tr = e.target.closest && e.target.closest("tr.case");
    if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(Number(tr.dataset.i)); }
  });
  boxes.forEach(function (b) { b.addEventListener("change", filter); });
  selects.forEach(function (s) { s.addEventListener("change", filter); });
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(filter, 120); });
  prev.addEventListener("click", function () { page--; draw(); });
  next.addEventListener("click", function () { page++; draw(); });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button.open-case");
    if (b) { reveal(Number(b.dataset.i)); return; }
    // A requirement covered by many cases lists 20 of them; the rest are drawn when asked for
    // (10,000 chips in the page would cost more to parse than the whole case table).
    var more = e.target.closest && e.target.closest("button.more-cases");
    if (more) {
      JSON.parse(more.dataset.more).forEach(function (c) {
        var chip = el("button", "chip s-" + c.status + " open-case", c.id);
        chip.type = "button"; chip.dataset.i = c.i; chip.title = c.status;
        more.parentNode.insertBefore(chip, more);
      });
      more.remove();
      return;
    }
    var m = e.target.closest && e.target.closest("button.show");
    if (m) {
      boxes.forEach(function (x) { x.checked = true; });
      selects.forEach(function (s) {
        if (s.dataset.field === "level") s.value = m.dataset.level;
        else if (s.dataset.field === "priority") s.value = m.dataset.priority;
        else s.value = "";
      });
      search.value = ""; filter();
      document.getElementById("cases-section").scrollIntoView();
    }
  });

  // Timeline: one lane per job, one bar per attempt; drawn when first opened.
  var COLORS = {passed: "#1a7f37", failed: "#cf222e", error: "#cf222e", interrupted: "#cf222e",
                skipped: "#9a6700", xfailed: "#9a6700", xpassed: "#9a6700", flaky: "#8250df"};
  var timeline = document.getElementById("timeline");
  function drawTimeline() {
    if (timeline.dataset.drawn) return;
    timeline.dataset.drawn = "1";
    var T = JSON.parse(document.getElementById("timeline-data").textContent);
    var legend = document.getElementById("timeline-legend");
    if (!T.bars.length) { legend.textContent = "No attempt recorded a start time."; return; }
    legend.textContent = T.jobs.length + " job(s) · " + T.bars.length + " attempts over " + seconds(T.span);
    var NS = "http://www.w3.org/2000/svg", W = 1000, LANE = 16, LEFT = 60;
    var lane = {}; T.jobs.forEach(function (j, n) { lane[j] = n; });
    var svg = document.createElementNS(NS, "svg");
    var height = T.jobs.length * LANE + 20;
    svg.setAttribute("viewBox", "0 0 " + W + " " + height);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.style.height = Math.min(600, height * 1.2) + "px";
    var scale = (W - LEFT - 5) / (T.span || 1);
    T.jobs.forEach(function (j, n) {
      var label = document.createElementNS(NS, "text");
      label.setAttribute("x", 2); label.setAttribute("y", n * LANE + 12); label.setAttribute("font-size", 10);
      label.textContent = "job " + j;
      svg.appendChild(label);
    });
    T.bars.forEach(function (b) {
      var rect = document.createElementNS(NS, "rect");
      rect.setAttribute("x", LEFT + b[2] * scale); rect.setAttribute("y", lane[b[1]] * LANE + 2);
      rect.setAttribute("width", Math.max(0.5, b[3] * scale)); rect.setAttribute("height", LANE - 4);
      rect.setAttribute("fill", COLORS[b[4]] || "#57606a");
      rect.dataset.i = b[0];
      var title = document.createElementNS(NS, "title");
      title.textContent = ROWS[b[0]][ID] + " " + b[4] + " · starts +" + seconds(b[2]) + " · " + seconds(b[3]);
      rect.appendChild(title);
      svg.appendChild(rect);
    });
    svg.addEventListener("click", function (e) {
      if (e.target.tagName === "rect") reveal(Number(e.target.dataset.i));
    });
    timeline.appendChild(svg);
  }
  timeline.addEventListener("toggle", function () { if (timeline.open) drawTimeline(); });

  filter();
  document.body.dataset.ready = "1";
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", unpackDetails);
  else unpackDetails();
})();
