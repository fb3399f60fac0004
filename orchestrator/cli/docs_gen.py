"""docs/reference.md, generated from the plan JSON Schema so the reference cannot drift from the code.

    python -m orchestrator.cli.docs_gen            # rewrite docs/reference.md
    python -m orchestrator.cli.docs_gen --check    # exit 1 when it is stale
    orchestrator schema --markdown [-o FILE]   # the same text

Descriptions, defaults, examples and enums live in `orchestrator/schema/plan-v1.json`; edit them
there and regenerate. The output depends only on the schema (no dates, no paths), so it is
byte-for-byte reproducible and a test compares it with the checked-in file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

from orchestrator.plan.model import MAIN_FIELD
from orchestrator.plan.schema import describe, plan_schema

DEFAULT_OUTPUT = Path("docs") / "reference.md"
REGENERATE = "python -m orchestrator.cli.docs_gen"

# The named parts of the format, in the order a plan reads; each gets its own section.
_SECTIONS = (
    ("Plan (top level)", "plan", None),
    ("Providers", "provider", "providers.ID"),
    ("Cases", "case", "cases[]"),
    ("Steps", "step", "steps[]"),
    ("Assertions", "assertion", "expect[]"),
    ("Process selector", "selector", "processes / wait.processes"),
)
_VALUES = ("duration", "tduration", "size", "template", "command", "env")
# Where a $ref to one of the sections is written instead of expanded again.
_LINKS = {"provider": "providers", "case": "cases", "step": "steps", "assertion": "assertions",
          "selector": "process-selector"}
_NOT_EXPANDED = {"defaults"}  # mirrors the case keys: linked, not repeated
_PLURAL = {"case": "cases", "step": "steps", "assertion": "assertions", "provider": "providers",
           "selector": "selectors"}


def generate(schema: dict[str, Any] | None = None) -> str:
    schema = schema or plan_schema()
    defs = schema["$defs"]
    lines = [
        "# Plan reference (format version 1)",
        "",
        "<!-- Generated from orchestrator/schema/plan-v1.json by `python -m orchestrator.cli.docs_gen`."
        " Do not edit: change the schema's descriptions and regenerate. -->",
        "",
        "Every key a plan file may use, with what it accepts, its default and an example. The same",
        "text is what your editor shows when the plan starts with",
        "`# yaml-language-server: $schema=<path to plan-v1.json>` (print the schema with",
        "`orchestrator schema -o plan-v1.json`). New here? Start with the [tutorial](tutorial.md).",
        "",
        "Contents: " + " · ".join(f"[{title}](#{_anchor(title)})" for title, _, _ in _SECTIONS)
        + " · [Result fields](#result-fields) · [Values](#values)",
        "",
    ]
    for title, name, where in _SECTIONS:
        node = schema if name == "plan" else defs[name]
        lines += [f"## {title}", ""]
        if where:
            lines += [f"Written under `{where}`. {_text(node.get('description', ''))}.", ""]
        elif node.get("description"):
            lines += [_text(node["description"]) + ".", ""]
        lines += _required(node)
        lines += list(_object(node, defs, level=3, prefix="", top=name))
    lines += _result_fields()
    lines += ["## Values", ""]
    for name in _VALUES:
        node = defs[name]
        lines += [f"### `{name}`", "", f"{_text(node.get('description', ''))}."
                  + (f" Accepts {describe(node)}." if describe(node) not in ("", "valid") else ""), ""]
        if node.get("examples"):
            lines += ["Examples: " + ", ".join(_code(e) for e in node["examples"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _object(node: dict[str, Any], defs: dict[str, Any], level: int, prefix: str, top: str) -> Iterator[str]:
    props: dict[str, Any] = node.get("properties") or {}
    if not props:
        return
    yield "| key | accepts | default | description |"
    yield "|---|---|---|---|"
    nested: list[tuple[str, dict[str, Any]]] = []
    for key, prop in props.items():
        resolved, link = _resolve(prop, defs)
        yield (f"| `{key}` | {_cell(_accepts(prop, resolved, link))} | {_cell(_default(prop))} | "
               f"{_cell(_description(prop, resolved))} |")
        if link is None and key not in _NOT_EXPANDED:
            inner = _inner_object(resolved, defs)
            if inner is not None:
                nested.append((key + (".ID" if inner is resolved.get("additionalProperties") else ""), inner))
    yield ""
    for key, inner in nested:
        path = f"{prefix}{key}"
        yield f"{'#' * min(level, 6)} `{path}`" + (f" ({_section_name(top)})" if top != "plan" else "")
        yield ""
        if inner.get("description") and inner is not props.get(key):
            yield _text(inner["description"]) + "."
            yield ""
        yield from _required(inner)
        yield from _object(inner, defs, level + 1, f"{path}.", top)


def _inner_object(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The mapping documented under a key: itself, a mapping branch of anyOf, or each value of a map."""
    if node.get("properties"):
        return node
    for branch in node.get("anyOf", ()):
        if isinstance(branch, dict) and branch.get("properties"):
            return branch
    values = node.get("additionalProperties")
    if isinstance(values, dict) and values.get("properties"):
        return values
    return None


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The property's schema with a $ref followed; the link when the ref is a documented section."""
    for candidate in (prop, prop.get("items") or {}, prop.get("additionalProperties") or {}):
        ref = candidate.get("$ref") if isinstance(candidate, dict) else None
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in _LINKS:
                return prop, name
            if candidate is prop:
                return {**defs[name], **{k: v for k, v in prop.items() if k != "$ref"}}, None
    return prop, None


def _accepts(prop: dict[str, Any], resolved: dict[str, Any], link: str | None) -> str:
    if prop.get("title") == "defaults":
        return "a mapping of [case](#cases) keys"
    if link is not None:
        target = f"[{link}](#{_LINKS[link]})"
        if prop.get("type") == "array":
            return f"a list of [{_PLURAL[link]}](#{_LINKS[link]})"
        if isinstance(prop.get("additionalProperties"), dict):
            return f"a mapping of ID to {target}"
        return target
    if "enum" in resolved:
        return " \\| ".join(f"`{v}`" for v in resolved["enum"])
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in _VALUES:
        name = ref.rsplit("/", 1)[-1]
        return f"[{name}](#{name})"
    words = describe(resolved)
    if not words or words == "valid":
        return "any value"
    return words


def _default(prop: dict[str, Any]) -> str:
    return _code(prop["default"]) if "default" in prop else ""


def _description(prop: dict[str, Any], resolved: dict[str, Any]) -> str:
    text = _text(prop.get("description") or resolved.get("description") or "")
    examples = prop.get("examples") or []
    if examples:
        text += (". " if text else "") + "e.g. " + ", ".join(_code(e) for e in examples)
    return text


def _required(node: dict[str, Any]) -> list[str]:
    required = node.get("required") or []
    if required:
        return ["Required: " + ", ".join(f"`{k}`" for k in required) + ".", ""]
    choices = [b["required"][0] for b in node.get("oneOf", ()) if isinstance(b, dict) and b.get("required")]
    if choices:
        return ["Exactly one of: " + ", ".join(f"`{k}`" for k in choices) + ".", ""]
    return []


def _result_fields() -> list[str]:
    lines = ["## Result fields", "",
             "An assertion without `on:` reads the step's main field; `on: FIELD` (a dotted path such as",
             "`json.stdout` or `latency_ms.p95`) reads another. `expr:` sees every field by name, and a step",
             "with `as: NAME` keeps them for later steps as `NAME.FIELD`.", "",
             "| action | main field |", "|---|---|"]
    lines += [f"| `{action}` | `{field}` |" for action, field in MAIN_FIELD.items()]
    lines += ["", "`exit_code:` reads `exit_code`, `error:` / `no_error:` read `error`, `max_ms:` reads "
              "`duration_ms` (`latency_ms.p95` for load), whatever the action. A call to an embedding or "
              "classification function whose answer has `embedding` / `classification` and no `output` "
              "reads that field.", ""]
    lines += _scoping()
    return lines


def _scoping() -> list[str]:
    from orchestrator.plan.fields import STEP_FIELDS

    lines = ["### Names in `expr` and templates", "",
             "Highest precedence first: (1) the step's own fields, measured by the orchestrator (below); "
             "(2) variables: plan, case and matrix `vars`, `--var`, `as:` names, `plan_dir`, `env`, "
             "`providers`; (3) every other key a provider returned, by its bare name, never shadowing "
             "anything above, and all of them as `result.KEY`. A returned key that a variable or a "
             "measured field hides is noted in the step's `orchestrator_notes`; `validate` warns about "
             "a variable, matrix value or `as:` name that has the name of a step field.", "",
             "`equals`, `json: {equals}`, `count` and `exit_code` never take a boolean for a number or a "
             "number for a boolean; a number compared with text output compares the text. An assertion "
             "that cannot be evaluated on its value fails with a message saying why.", "",
             "| action | its own fields |", "|---|---|"]
    lines += [f"| `{action}` | {', '.join(f'`{f}`' for f in fields)} |" for action, fields in STEP_FIELDS.items()]
    return lines + [""]


def _section_name(top: str) -> str:
    return {"provider": "provider", "case": "case", "step": "step", "assertion": "assertion",
            "selector": "selector"}.get(top, top)


def _anchor(title: str) -> str:
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c == "-")


def _text(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _code(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{shown}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\\\\|", "\\|")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.cli.docs_gen",
                                     description="Write the plan reference (Markdown) generated from the JSON Schema.")
    parser.add_argument("output", nargs="?", default=str(DEFAULT_OUTPUT), help=f"default: {DEFAULT_OUTPUT}")
    parser.add_argument("--check", action="store_true", help="exit 1 when OUTPUT differs from the generated text")
    args = parser.parse_args(argv)
    text = generate()
    out = Path(args.output)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            print(f"{out} is stale: run `{REGENERATE}`", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
