"""`orchestrator import promptfoo promptfooconfig.yaml [-o plan.yaml]`: a promptfoo config as a plan.

What converts: Python providers (`file://x.py[:fn]`, `python:x.py`, with `config`, `label`),
prompts (text, or `file://prompt.txt` read in), `tests` (inline, or `file://tests.csv` whose
columns are vars and whose `__expected` columns are assertions), `defaultTest` (vars and
asserts), list-valued vars (a `matrix`, as promptfoo expands them) and the deterministic
assertion types. Each test becomes a case with one `call` per prompt × provider, as promptfoo
evaluates every combination. Anything else is left out and listed as `FILE:LINE:COL: ...`.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import PlanErrors, Problem
from orchestrator.plan.promptfoo_types import SUPPORTED, refusal
from orchestrator.plan.yaml_load import NodePath, Source, load_yaml
from orchestrator.records import mutable_record

_ASSERT_KEYS = ("type", "value", "threshold")
_PY_ID = re.compile(r"^(?:file://|python:)(?P<path>.+?\.py)(?::(?P<fn>[A-Za-z_]\w*))?$")
_CSV_EXPECTED = re.compile(r"^(?P<type>[a-z][a-z-]*)(?::\s?(?P<value>.*))?$", re.S)


@mutable_record
class Conversion:
    plan: dict[str, Any]
    left_out: list[Problem] = field(default_factory=list)


class _Converter:
    def __init__(self, source: Source, target_dir: Path) -> None:
        self.source, self.target_dir = source, target_dir
        self.left_out: list[Problem] = []

    def skip(self, path: NodePath, message: str) -> None:
        self.left_out.append(Problem(self.source.at(path), message))

    def relative(self, name: str) -> str:
        """A path of the config (relative to its folder) as the plan must name it."""
        target = (self.source.directory / name).resolve()
        if os.path.commonpath([target, self.target_dir]) == os.path.sep:  # nothing shared: keep it absolute
            return str(target)
        return os.path.relpath(target, self.target_dir)

    # providers --------------------------------------------------------------------------------
    def providers(self, raw: Any) -> dict[str, dict[str, Any]]:
        entries = raw if isinstance(raw, list) else [raw] if raw is not None else []
        out: dict[str, dict[str, Any]] = {}
        for i, entry in enumerate(entries):
            path: NodePath = ("providers", i) if isinstance(raw, list) else ("providers",)
            spec: dict[str, Any] = {"id": entry} if isinstance(entry, str) else entry if isinstance(entry, dict) else {}
            id_key = "id" if "id" in spec else "model"  # promptfoo's own example names it `model:`
            match = _PY_ID.match(str(spec.get(id_key, "")))
            if not match:
                self.skip(path, f"provider {spec.get('id', entry)!r} not converted: only Python providers "
                                "(file://x.py, python:x.py) run here; call others through a Python or http provider")
                continue
            key = _slug(str(spec.get("label") or Path(match["path"]).stem), out)
            target = self.relative(match["path"]) + (f":{match['fn']}" if match["fn"] else "")
            provider: dict[str, Any] = {"python": target}
            if isinstance(spec.get("config"), dict):
                provider["config"] = {k: v for k, v in spec["config"].items() if k != "pythonExecutable"}
                if "pythonExecutable" in spec["config"]:
                    provider["interpreter"] = spec["config"]["pythonExecutable"]
            for extra in sorted(set(spec) - {id_key, "label", "config"}):
                self.skip(path + (extra,), f"provider key '{extra}' not converted")
            out[key] = provider
        return out

    # prompts ----------------------------------------------------------------------------------
    def prompts(self, raw: Any) -> list[str]:
        entries = raw if isinstance(raw, list) else [raw] if raw is not None else []
        out: list[str] = []
        for i, entry in enumerate(entries):
            path: NodePath = ("prompts", i) if isinstance(raw, list) else ("prompts",)
            text = entry.get("raw", entry.get("id")) if isinstance(entry, dict) else entry
            if not isinstance(text, str):
                self.skip(path, "prompt not converted: expected text or file://prompt.txt")
            elif text.startswith("file://") and text.endswith((".txt", ".md", ".j2")):
                try:
                    out.append((self.source.directory / text[len("file://"):]).read_text(encoding="utf-8"))
                except OSError as exc:
                    self.skip(path, f"prompt file not read: {exc.strerror or exc}")
            elif text.startswith("file://"):
                self.skip(path, f"prompt {text!r} not converted: prompt functions and JSON/YAML prompt files "
                                "are not read; write the prompt's text")
            else:
                out.append(text)
        return out

    # tests ------------------------------------------------------------------------------------
    def tests(self, raw: Any) -> list[tuple[NodePath, dict[str, Any]]]:
        entries = raw if isinstance(raw, list) else [raw] if raw is not None else []
        out: list[tuple[NodePath, dict[str, Any]]] = []
        for i, entry in enumerate(entries):
            path: NodePath = ("tests", i) if isinstance(raw, list) else ("tests",)
            if isinstance(entry, str) and entry.startswith("file://") and entry.endswith(".csv"):
                out.extend((path, test) for test in self.csv_tests(entry[len("file://"):], path))
            elif isinstance(entry, dict):
                out.append((path, entry))
            else:
                self.skip(path, "test not converted: expected a mapping or file://tests.csv")
        return out

    def csv_tests(self, name: str, path: NodePath) -> list[dict[str, Any]]:
        try:
            with (self.source.directory / name).open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            self.skip(path, f"tests file not read: {exc.strerror or exc}")
            return []
        tests = []
        for row in rows:
            test: dict[str, Any] = {"vars": {}, "assert": []}
            for column, value in row.items():
                if column is None or value is None:
                    continue
                if column.startswith("__expected"):
                    if value.strip():
                        test["assert"].append(_csv_assertion(value))
                elif column == "__description":
                    test["description"] = value
                elif not column.startswith("__"):
                    test["vars"][column] = value
            tests.append(test)
        return tests

    def assertions(self, raw: Any, path: NodePath) -> list[dict[str, Any]]:
        out = []
        for i, spec in enumerate(raw if isinstance(raw, list) else []):
            at = path + (i,)
            kind = spec.get("type") if isinstance(spec, dict) else None
            if not isinstance(kind, str):
                self.skip(at, "assertion not converted: expected {type: ..., value: ...}")
                continue
            why = refusal(kind) if kind not in SUPPORTED else None
            if kind not in SUPPORTED:
                self.skip(at + ("type",), why or f"assertion type '{kind}' not converted: not supported here")
                continue
            if isinstance(spec.get("value"), str) and spec["value"].startswith("file://"):
                self.skip(at + ("value",), f"'{kind}' with a file:// value not converted: inline the value")
                continue
            for extra in sorted(set(spec) - set(_ASSERT_KEYS)):
                self.skip(at + (extra,), f"assertion key '{extra}' not converted (every assertion must hold here)")
            out.append({k: spec[k] for k in _ASSERT_KEYS if k in spec})
        return out


def _csv_assertion(text: str) -> dict[str, Any]:
    """promptfoo's `__expected` cell: `contains: x`, `is-json`, … or a bare value meaning equals."""
    match = _CSV_EXPECTED.match(text.strip())
    if match and match["type"] in SUPPORTED:
        out: dict[str, Any] = {"type": match["type"]}
        if match["value"] is not None:
            out["value"] = match["value"]
        return out
    return {"type": "equals", "value": text}


def _slug(text: str, taken: dict[str, Any]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._") or "provider"
    base = base if base[0].isalpha() or base[0] == "_" else f"p{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def convert(config: Path, output: Path | None = None) -> Conversion:
    """The plan for a promptfoo config; raises PlanErrors when nothing runnable can come of it."""
    source, problems = load_yaml(str(config), config)
    if problems or not isinstance(source.data, dict):
        raise PlanErrors(problems or [Problem(source.at(()), "not a promptfoo config (expected a mapping)")])
    data: dict[str, Any] = source.data
    target_dir = (output.parent if output is not None else Path.cwd()).resolve()
    c = _Converter(source, target_dir)
    providers = c.providers(data.get("providers", data.get("targets")))
    prompts = c.prompts(data.get("prompts"))
    default: dict[str, Any] = data["defaultTest"] if isinstance(data.get("defaultTest"), dict) else {}
    default_asserts = c.assertions(default.get("assert"), ("defaultTest", "assert"))
    for key in sorted(set(default) - {"vars", "assert"}):
        c.skip(("defaultTest", key), f"defaultTest key '{key}' not converted")
    fatal = [name for name, value in (("providers", providers), ("prompts", prompts)) if not value]
    if fatal:
        raise PlanErrors(c.left_out + [Problem(source.at((fatal[0],)), f"no {fatal[0]} could be converted")])
    cases = []
    for n, (path, test) in enumerate(c.tests(data.get("tests")) or [((), {})], 1):
        cases.extend(_cases(c, n, path, test, default, default_asserts, providers, prompts))
    for key in sorted(set(data) - {"description", "providers", "targets", "prompts", "tests", "defaultTest"}):
        c.skip((key,), f"config key '{key}' not converted")
    description = str(data.get("description") or "")
    plan: dict[str, Any] = {"version": 1, "name": _slug(description or config.parent.name or "promptfoo", {}).lower()}
    if description:
        plan["title"] = description
    plan["providers"] = providers
    plan["cases"] = cases
    return Conversion(plan, sorted(c.left_out, key=lambda p: (p.location.line, p.location.col)))


def _cases(c: _Converter, n: int, path: NodePath, test: dict[str, Any], default: dict[str, Any],
           default_asserts: list[dict[str, Any]], providers: dict[str, Any], prompts: list[str]) -> list[dict[str, Any]]:
    """One case per prompt × provider: promptfoo gives each combination its own verdict."""
    merged = {**(default.get("vars") or {}), **(test.get("vars") or {})}
    for key, value in merged.items():
        if isinstance(value, str) and value.startswith("file://"):
            c.skip(path + ("vars", key), f"var '{key}' is a file:// reference: it is passed as that text, not read")
    matrix = {k: v for k, v in merged.items() if isinstance(v, list)}  # promptfoo runs each value
    before = len(c.left_out)
    expect = default_asserts + c.assertions(test.get("assert"), path + ("assert",))
    dropped = [f"{p.message.split(':', 1)[0]} (line {p.location.line})" for p in c.left_out[before:]]
    for key in sorted(set(test) - {"vars", "assert", "description"}):
        c.skip(path + (key,), f"test key '{key}' not converted")
    name = str(test.get("description") or f"test {n}")
    single = len(prompts) * len(providers) == 1
    out = []
    for p, prompt in enumerate(prompts, 1):
        for provider in providers:
            case: dict[str, Any] = {"id": f"T-{n}" if single else f"T-{n}-P{p}-{provider}",
                                    "name": name if single else f"{name} (prompt {p}, {provider})"}
            plain = {k: v for k, v in merged.items() if k not in matrix}
            if plain:
                case["vars"] = plain
            if matrix:
                case["matrix"] = matrix
            if dropped and not expect:  # nothing left to check: passing would claim what was never checked
                case["skip"] = "its assertions were not converted: " + "; ".join(dropped)
            elif dropped:
                case["description"] = "not converted: " + "; ".join(dropped)
            step: dict[str, Any] = {"call": provider, "prompt": prompt}
            if expect:
                step["expect"] = expect
            case["steps"] = [step]
            out.append(case)
    return out


class _NoAliases(yaml.SafeDumper):  # type: ignore[misc]  # (no stubs for PyYAML)
    """Shared assertion lists (defaultTest's) written out in full: a plan reads better without anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_plan(conversion: Conversion, config: Path) -> str:
    head = (f"# Converted from {config} by `orchestrator import promptfoo`.\n"
            + "".join(f"# not converted: {p}\n" for p in conversion.left_out))
    body: str = yaml.dump(conversion.plan, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=110)
    return head + body


def cmd_import(args: Any) -> int:
    """The CLI command; exit 0 when a plan was written (what was left out goes to stderr)."""
    import sys

    config = Path(args.config)
    output = Path(args.output) if args.output else None
    if not config.is_file():
        print(f"orchestrator: error: {config}: no such file", file=sys.stderr)
        return 2
    conversion = convert(config, output)
    text = render_plan(conversion, config)
    for problem in conversion.left_out:
        print(f"{problem}", file=sys.stderr)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        left = len(conversion.left_out)
        print(f"wrote {output}: {len(conversion.plan['cases'])} case(s), {len(conversion.plan['providers'])} "
              f"provider(s)" + (f"; {left} thing(s) not converted (listed above)" if left else ""))
    return 0
