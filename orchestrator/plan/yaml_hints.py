"""PyYAML's syntax errors turned into what a person should do, at the place that is wrong.

PyYAML reports where its parser gave up (`mapping values are not allowed here`, `did not find
expected '-' indicator`), which is often a line after the mistake and never says the fix. Here
the common mistakes — a key indented too far or not far enough, a list item without its `-`, a
value with `[ ] { } , :` inside `{ }` that needs quotes, tabs, unclosed quotes and brackets —
are recognised from the error and the text around it, in libyaml's wording (CSafeLoader) and in
the pure-Python parser's, which differ. PyYAML's own words stay, as a second line.
"""
from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from orchestrator.plan.yaml_text import (CLOSE, closing_quote, depth, flow_end, open_above, parse_line, previous,
                                         quoted, unbalanced, value_text)

_TEMPLATE_FIX = ("a value that starts with a template must be in quotes, or YAML reads its {{{{ }}}} as a "
                 "mapping: write {fix}")
Hint = tuple[int, int, str]  # 1-based line and column, and what to do


def _at(line: int, col: int, message: str) -> Hint:
    return line + 1, col + 1, message


def _mapping_values(lines: list[str], row: int, col: int) -> Hint | None:
    """`mapping values are not allowed here`: a `: ` where YAML was reading a plain value."""
    line = parse_line(row, lines[row])
    if line.key is not None and line.colon < col and line.value_col >= 0:
        value = value_text(lines[row], line.value_col)
        return _at(row, line.value_col, f"the value of '{line.key}' contains ': ', which YAML reads as a new key: "
                                        f"quote the value: {line.key}: {quoted(value)}")
    above = previous(lines, row)
    if line.key is None or above is None:
        return None
    if above.key is not None and re.match(r"-[^\s-]", above.key):
        return _dash_space(above.number, above.key_col, above.key)
    if above.key is not None and above.value_col >= 0 and line.key_col > above.key_col:
        return _at(row, line.key_col, f"'{line.key}' is indented more than '{above.key}' on line {above.number + 1}, "
                                      f"which already has a value: line it up with '{above.key}' "
                                      f"(column {above.key_col + 1})")
    word = lines[above.number].strip()
    if above.key is None and not above.dashes and re.fullmatch(r"[\w.-]+", word) and line.key_col > above.indent:
        return _at(above.number, above.indent, f"'{word}' has no ':' after it, so the lines below it are not "
                                               f"its keys: write '{word}:'")
    if line.key_col > above.indent:
        return _at(row, line.key_col, f"'{line.key}' is indented more than line {above.number + 1}, so YAML reads "
                                      f"it as more of that line's value: line it up with the keys above it")
    return None


def _block(lines: list[str], row: int, col: int, context: str, context_row: int, context_col: int) -> Hint | None:
    """A block mapping or list that cannot go on: indentation, a missing `-`, text after quotes."""
    raw = lines[row]
    line = parse_line(row, raw)
    opener = lines[context_row][context_col:] if context_row < len(lines) else ""
    if "mapping" in context and re.match(r"-[^\s-]", opener):
        return _dash_space(context_row, context_col, opener.split(":")[0])
    if col > line.indent and not (line.dashes and col == line.key_col):
        return _after_closed_value(lines, row, col)
    keys, dashes = open_above(lines, row)
    if line.dashes and col == line.dashes[0]:
        owner = keys.get(col)
        if owner is not None:
            return _at(row, col, f"a '-' list item at the column of the keys of a mapping ('{owner.key}', line "
                                 f"{owner.number + 1}): indent it under the key whose list it belongs to, or "
                                 f"give it a key")
        return None
    if line.key is None:
        return None
    above = previous(lines, row)
    if above is not None and above.key is not None and above.value_col >= 0 and col > above.key_col \
            and above.indent <= line.indent:
        return _at(row, col, f"'{line.key}' is indented more than '{above.key}' on line {above.number + 1}, "
                             f"which already has a value: line it up with '{above.key}' (column {above.key_col + 1})")
    name = f"'{line.key}'"
    if col in dashes:
        items = dashes[col]
        inner = [c for c in keys if c > col]
        indent_instead = (f", or indent it to column {min(inner) + 1} to add it to the item above"
                          if inner else "")
        return _at(row, col, f"{name} lines up with the '-' of the list items above (line {items.number + 1}) "
                             f"but has no '-': write '- {line.key}: …' to start a new item{indent_instead}")
    if col in keys:
        return None
    lower = [c for c in keys if c < col and not any(c < d < col for d in dashes)]
    # the nearest deeper key, and the nearest shallower one unless a list lies between it and this line
    choices = sorted({*sorted(c for c in keys if c > col)[:1], *sorted(lower)[-1:]}, key=lambda c: (abs(c - col), -c))
    if not choices:
        return None
    options = " or ".join(f"to column {c + 1} like '{keys[c].key}' (line {keys[c].number + 1})" for c in choices)
    return _at(row, col, f"{name} (column {col + 1}) lines up with no key above it: indent it {options}")


def _dash_space(row: int, col: int, word: str) -> Hint:
    return _at(row, col, f"'{word}' needs a space after '-' to be a list item: write '- {word[1:]}'")


def _after_closed_value(lines: list[str], row: int, col: int) -> Hint | None:
    line = parse_line(row, lines[row])
    if line.key is None or line.value_col < 0 or col <= line.value_col:
        return None
    value = value_text(lines[row], line.value_col)
    first = value[:1]
    if value.startswith("{{"):
        return _at(row, line.value_col, _TEMPLATE_FIX.format(fix=f"{line.key}: {quoted(value)}"))
    if first in "'\"" and len(value) > 2 and value.endswith(first):
        inner = value[1:-1]
        if first == "'":
            fix = f'"{inner}"' if '"' not in inner and "\\" not in inner else "'" + inner.replace("'", "''") + "'"
            return _at(row, line.value_col, f"the ' inside the value of '{line.key}' ends the quoted text early: "
                                            f"write {line.key}: {fix}")
        fix = f"'{inner}'" if "'" not in inner else '"' + inner.replace('"', '\\"') + '"'
        return _at(row, line.value_col, f"the \" inside the value of '{line.key}' ends the quoted text early: "
                                        f"write {line.key}: {fix}")
    what = {"[": "a list '[...]'", "{": "a mapping '{...}'", '"': "a quoted text", "'": "a quoted text"}.get(first)
    if what is None:
        return None
    return _at(row, line.value_col, f"the value of '{line.key}' starts as {what} but goes on after it closes: "
                                    f"quote the whole value: {line.key}: {quoted(value)}")


def _flow(lines: list[str], row: int, col: int, context: str, context_row: int, context_col: int) -> Hint | None:
    """Inside `{ }` or `[ ]`: a bracket never closed, or a value with `[ ] { } , :` to quote."""
    opener = lines[context_row][context_col:context_col + 1] if context_row < len(lines) else ""
    if opener not in CLOSE:
        return None
    if row > context_row and unbalanced(lines[context_row][context_col:]):
        return _at(context_row, context_col, f"this '{opener}' is never closed: end the value with "
                                             f"'{CLOSE[opener]}'")
    raw = lines[row]
    if raw[col:col + 1] in ("]", "}") and raw[col] != CLOSE[opener]:
        return _at(context_row, context_col, f"this '{opener}' is closed by the '{raw[col]}' on line {row + 1} "
                                             f"column {col + 1}: close it with '{CLOSE[opener]}'")
    start = col
    while start > 0 and raw[start - 1] not in "{[," and not (raw[start - 1] == ":" and raw[start:start + 1] == " "):
        start -= 1
    while start < len(raw) and raw[start] == " ":
        start += 1
    value = raw[start:flow_end(raw, col)].strip()
    if not value:
        return None
    key_match = re.search(r"([\w.-]+)\s*:\s*$", raw[:start])
    key = key_match.group(1) if key_match else None
    inside = "{ }" if opener == "{" else "[ ]"
    written = f"{key}: {quoted(value)}" if key else quoted(value)
    what = "the path" if key == "path" else f"'{value}'"
    return _at(row, start, f"quote {what}: inside {inside} the characters [ ] {{ }} , : have a meaning, "
                           f"so write {written}")


def _unclosed_quote(lines: list[str], first: int, row: int) -> Hint | None:
    """A quote left open on a line before `row`: the text ran on to a later quote, and broke there."""
    for number in range(first, row):
        line = parse_line(number, lines[number])
        if line.value_col >= 0 and lines[number][line.value_col] in "'\"" \
                and closing_quote(lines[number], line.value_col) < 0:
            quote = lines[number][line.value_col]
            return _at(number, line.value_col, f"this {quote} is never closed on its line, so the text runs on to "
                                               f"the next {quote} (line {row + 1}): add the closing {quote}")
    return None


def _hint(text: str, exc: yaml.MarkedYAMLError) -> Hint | None:
    mark = exc.problem_mark
    if mark is None:
        return None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    row, col = mark.line, mark.column
    if row >= len(lines):
        row, col = len(lines) - 1, len(lines[-1])
    raw = lines[row]
    char = raw[col:col + 1]
    problem, context = exc.problem or "", exc.context or ""
    context_mark = exc.context_mark
    crow, ccol = (context_mark.line, context_mark.column) if context_mark is not None else (row, col)
    if char == "\t" or "tab character" in problem:
        tab = raw.find("\t")
        if tab > len(raw) - len(raw.lstrip(" \t")) - 1 or tab < 0:
            return _at(row, tab if tab >= 0 else col, "a tab separates this value: YAML separates with "
                                                      "spaces only, so replace the tab with a space")
        return _at(row, tab, "a tab indents this line: YAML indents with spaces only, "
                             "so replace the tab with spaces")
    if "scanning an alias" in context:
        line, raw = parse_line(crow, lines[crow]), lines[crow]
        if depth(raw[:ccol]) > 0:  # inside [ ] or { }: the value ends at , ] }
            value = raw[ccol:flow_end(raw, ccol)].strip()
            key_match = re.search(r"([\w.-]+)\s*:\s*$", raw[:ccol])
            fix = f"{key_match.group(1)}: {quoted(value)}" if key_match else quoted(value)
        else:
            value = value_text(raw, ccol)
            fix = f"{line.key}: {quoted(value)}" if line.key is not None and line.value_col == ccol else quoted(value)
        return _at(crow, ccol, f"a value starting with '*' names an alias in YAML: quote it: {fix}")
    if context_mark is not None and crow < row and "end of stream" not in problem:
        unclosed = _unclosed_quote(lines, crow, row)
        if unclosed is not None:
            return unclosed
    if problem.startswith("mapping values are not allowed"):
        return _mapping_values(lines, row, col)
    if "cannot start any token" in problem and char:
        line = parse_line(row, raw)
        value = value_text(raw, col)
        fix = f"{line.key}: {quoted(value)}" if line.key is not None and line.value_col == col else quoted(value)
        return _at(row, col, f"YAML reserves '{char}' at the start of a value: quote the value: {fix}")
    if "unknown escape" in problem:
        slash = col if char == "\\" else col - 1
        return _at(row, slash, "inside double quotes a backslash starts an escape such as \\n: use single "
                               "quotes, in which a backslash is just a backslash (e.g. for a regex), "
                               "or write it twice (\\\\)")
    if "quoted scalar" in context and "end of stream" in problem:
        quote = lines[crow][ccol:ccol + 1] if crow < len(lines) else '"'
        return _at(crow, ccol, f"this {quote} is never closed: add the closing {quote}")
    if context.startswith("while parsing a flow"):
        return _flow(lines, row, col, context, crow, ccol)
    if context.startswith("while parsing a block"):
        return _block(lines, row, col, context, crow, ccol)
    return None


def parser_words(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's own message in one line: `problem (context at line N)`."""
    message = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem and exc.context_mark is not None:
        message = f"{message} ({exc.context} at line {exc.context_mark.line + 1})"
    return message


def explain(text: str, exc: yaml.MarkedYAMLError) -> Hint:
    """(line, col, message) for a YAML syntax error: what to do, then PyYAML's words on a second line."""
    words = parser_words(exc)
    try:
        hint = _hint(text, exc)
    except Exception:  # a hint is a courtesy: it must never hide the error itself  # noqa: BLE001
        hint = None
    if hint is not None:
        line, col, message = hint
        return line, col, f"{message}\n    (PyYAML: {words})"
    mark = exc.problem_mark or exc.context_mark
    return (mark.line + 1 if mark else 1), (mark.column + 1 if mark else 1), words


def unquoted_template(node: Node) -> str | None:
    """`prompt: {{ who }}` parses as a mapping whose key is a mapping: say to quote the template."""
    if not (isinstance(node, MappingNode) and node.flow_style and len(node.value) == 1):
        return None
    inner, empty = node.value[0]
    if not (isinstance(inner, MappingNode) and inner.flow_style and len(inner.value) == 1
            and isinstance(empty, ScalarNode) and empty.value == ""):
        return None
    expression, nothing = inner.value[0]
    if not (isinstance(expression, ScalarNode) and isinstance(nothing, ScalarNode) and nothing.value == ""):
        return None
    return _TEMPLATE_FIX.format(fix='"{{ ' + expression.value + ' }}"')
