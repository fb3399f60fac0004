"""From the file as written to the list of cases: includes, defaults, discover and matrix."""
from __future__ import annotations

import itertools
import json
import os
from dataclasses import field
from pathlib import Path
from typing import Any, Mapping

from orchestrator.errors import Location, Problem
from orchestrator.plan import paths, schema
from orchestrator.plan.schema import plan_schema
from orchestrator.plan.suggest import missing_file
from orchestrator.plan.yaml_load import NodePath, Source, load_yaml
from orchestrator.evaluation.templating import TemplateError, has_template, render
from orchestrator.records import mutable_record, record

MERGED = ("providers", "vars", "env", "defaults")
NOT_MERGED = ("cases", "gate", "requirements", "risks")
DISCOVER_VARS = ("path", "relpath", "name", "stem", "dir")


@record
class Field:
    """A value together with the file and path it was written at."""

    value: Any
    source: Source
    path: NodePath

    @property
    def location(self) -> Location:
        return self.source.at(self.path)


@mutable_record
class Context:
    """Everything the plan and its includes say, merged, plus what is known to be broken."""

    main: Source
    overrides: Mapping[str, str]
    root: Path  # include and discover stay inside it (plan.paths)
    included: set[Path] = field(default_factory=set)  # each included file is read and merged once
    sections: dict[str, dict[str, Field]] = field(default_factory=lambda: {k: {} for k in MERGED})
    bad: dict[Path, list[NodePath]] = field(default_factory=dict)  # schema problems, per file
    secrets: list[str] = field(default_factory=list)  # `secrets` of the plan and its includes

    @property
    def vars(self) -> dict[str, Any]:
        return {**{k: f.value for k, f in self.sections["vars"].items()}, **self.overrides}

    def template_vars(self) -> dict[str, Any]:
        return {**self.vars, "plan_dir": str(self.main.directory), "env": dict(os.environ)}

    def broken(self, source: Source, path: NodePath) -> bool:
        """True when the schema found a problem at `path` itself."""
        return bool(self.bad) and path in self.bad.get(source.path, ())

    def clean(self, source: Source, path: NodePath) -> bool:
        """True when the schema found no problem at or under `path`."""
        if not self.bad:  # a valid plan: asked for every key of every case
            return True
        return not any(b[:len(path)] == path for b in self.bad.get(source.path, ()))


@mutable_record
class Expanded:
    """One case after discover and matrix expansion, with its (defaults-merged) keys."""

    id: str
    keys: dict[str, Field]
    entry: Field  # the case mapping or discover entry as written
    vars: dict[str, Any]
    matrix: dict[str, Any]
    name: str | None = None


def shown_path(ctx_main: Source, target: Path) -> str:
    """How an included file is named in messages: relative to the cwd, like the user's own path."""
    if os.path.isabs(ctx_main.shown):
        return str(target)
    try:
        return os.path.relpath(target)
    except ValueError:  # another drive on Windows
        return str(target)


def check_schema(ctx: Context, source: Source, problems: list[Problem], *, included: bool) -> None:
    found = schema.validate(source, included=included)
    if found:
        ctx.bad.setdefault(source.path, []).extend(path for path, _ in found)
    problems.extend(problem for _, problem in found)


def merge_includes(ctx: Context, source: Source, chain: tuple[Source, ...], problems: list[Problem]) -> None:
    """Merge the providers, vars, env and defaults of `source`'s includes, then its own, into ctx."""
    includes = source.data.get("include")
    if isinstance(includes, list) and ctx.clean(source, ("include",)):
        for index, name in enumerate(includes):
            _include(ctx, source, chain, index, str(name), problems)
    secrets = source.data.get("secrets")
    if isinstance(secrets, list):
        ctx.secrets.extend(str(name) for name in secrets if str(name) not in ctx.secrets)
    for section in MERGED:
        values = source.data.get(section)
        if isinstance(values, dict):
            for key, value in values.items():
                ctx.sections[section][key] = Field(value, source, (section, key))


def _include(ctx: Context, source: Source, chain: tuple[Source, ...], index: int, name: str,
             problems: list[Problem]) -> None:
    where = source.at(("include", index))
    try:
        target = paths.check_include(source.directory, name, ctx.root)
    except paths.PathRefused as exc:
        problems.append(Problem(where, str(exc)))
        return
    if any(s.path == target for s in chain + (source,)):
        names = [s.shown for s in chain + (source,)] + [shown_path(ctx.main, target)]
        start = next(i for i, s in enumerate(chain + (source,)) if s.path == target)
        problems.append(Problem(where, "include cycle: " + " -> ".join(names[start:])))
        return
    if target in ctx.included:  # reached again (a diamond): already read, checked and merged
        return
    ctx.included.add(target)
    if not target.is_file():
        problems.append(Problem(where, missing_file(source.directory, name)))
        return
    included, found = load_yaml(shown_path(ctx.main, target), target)
    refused_kind = any(p.message.startswith(("a plan must be a mapping", "empty plan")) for p in found)
    if included.data is None and found and not refused_kind:  # YAML it could not read: say where
        problems.extend(found)
        return
    if not _is_fragment(included.data):  # never quote what it holds: it may be anybody's file
        problems.append(Problem(where, f"include '{name}' is not a plan fragment (a mapping of plan keys: "
                                       "vars, env, providers, defaults...); its content is not shown"))
        return
    problems.extend(found)
    check_schema(ctx, included, problems, included=True)
    for key in NOT_MERGED:  # never silently ignored: a gate here would judge nothing
        if isinstance(included.data, dict) and key in included.data:
            problems.append(Problem(included.key_at((key,)), f"'{key}' in an included file is not used: include "
                                    f"merges {', '.join(MERGED)}; write it in the plan that includes this file"))
    merge_includes(ctx, included, chain + (source,), problems)


def _is_fragment(data: Any) -> bool:
    keys = plan_schema().get("properties", {})
    return isinstance(data, dict) and any(key in keys for key in data)


def case_keys(ctx: Context, index: int) -> dict[str, Field] | None:
    """A case entry's keys with `defaults` applied (vars merged, the case winning); None if broken."""
    path: NodePath = ("cases", index)
    case = ctx.main.data["cases"][index]
    if not isinstance(case, dict) or ctx.broken(ctx.main, path):
        return None
    if not ctx.bad:  # a valid plan: every key is clean
        keys = {k: Field(v, ctx.main, path + (k,)) for k, v in case.items()}
    else:
        keys = {k: Field(v, ctx.main, path + (k,)) for k, v in case.items() if ctx.clean(ctx.main, path + (k,))
                or (k == "steps" and isinstance(v, list))}  # each step is checked on its own
    for key, default in ctx.sections["defaults"].items():
        if not ctx.clean(default.source, default.path) or key in ("id", "discover"):
            continue
        if key not in case:
            keys[key] = default
        elif key == "vars" and "vars" in keys and isinstance(default.value, dict):
            keys["vars"] = Field({**default.value, **keys["vars"].value}, ctx.main, path + ("vars",))
    return keys


def expand(ctx: Context, index: int, keys: dict[str, Field], problems: list[Problem]) -> list[Expanded]:
    entry = Field(ctx.main.data["cases"][index], ctx.main, ("cases", index))
    case_vars = dict(keys["vars"].value) if "vars" in keys else {}
    if "discover" in keys:
        bases = _discover(ctx, keys, entry, case_vars, problems)
    elif "id" in keys:
        name = keys["name"].value if "name" in keys else None
        bases = [Expanded(str(keys["id"].value), keys, entry, case_vars, {}, name)]
    else:
        return []
    matrix = keys.get("matrix")
    if matrix is None or not matrix.value:
        return bases
    out: list[Expanded] = []
    names = list(matrix.value)
    for base in bases:
        for combo in itertools.product(*(matrix.value[n] for n in names)):
            values = dict(zip(names, combo))
            label = ",".join(f"{n}={_label(v)}" for n, v in values.items())
            out.append(Expanded(f"{base.id}[{label}]", keys, entry, {**base.vars, **values}, values, base.name))
    return out


def _label(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _discover(ctx: Context, keys: dict[str, Field], entry: Field, case_vars: dict[str, Any],
              problems: list[Problem]) -> list[Expanded]:
    spec = keys["discover"]
    pattern = str(spec.value.get("glob", ""))
    try:
        files = paths.discover(spec.source.directory, pattern, ctx.root)
    except paths.PathRefused as exc:
        problems.append(Problem(spec.source.at(spec.path + ("glob",)), str(exc)))
        return []
    if not files:
        problems.append(Problem(spec.source.at(spec.path + ("glob",)), f"discover glob '{pattern}' matched no files"))
        return []
    id_template = str(spec.value.get("id", "{{ stem }}"))
    out: list[Expanded] = []
    for path in files:
        found = {"path": str(path), "relpath": os.path.relpath(path, spec.source.directory), "name": path.name,
                 "stem": path.stem, "dir": str(path.parent)}
        scope = {**ctx.template_vars(), **case_vars, **found}
        try:
            case_id = str(render(id_template, scope))
            name = keys["name"].value if "name" in keys else found["relpath"]
            name = str(render(name, scope)) if isinstance(name, str) and has_template(name) else name
        except TemplateError as exc:
            at = spec.path + ("id",) if "id" in spec.value else spec.path
            problems.append(Problem(spec.source.at(at), f"discover id: {exc}"))
            return out
        out.append(Expanded(case_id, keys, entry, {**case_vars, **found}, {}, name))
    return out


def duplicate_ids(cases: list[Expanded]) -> list[Problem]:
    first: dict[str, Expanded] = {}
    problems: list[Problem] = []
    for case in cases:
        if case.id in first:
            where = case.keys["id"].location if "id" in case.keys else case.entry.location
            problems.append(Problem(where, f"duplicate case id '{case.id}' "
                                           f"(first at line {first[case.id].entry.location.line})"))
        else:
            first[case.id] = case
    return problems
