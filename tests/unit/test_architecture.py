"""The pipeline's arrows point one way, there are no import cycles, and processes have one home.

Layers, bottom up (each may import only the layers listed for it, and the standard library):

    shared   the top-level modules (errors, vocabulary, records, wording, eval_clock)
    evaluation -> shared                     (bounded templates, expressions, regexes; values)
    procs    -> shared                       (processes: start, signal, reap, list)
    result   -> shared                       (what happened; saved and read back)
    plan     -> evaluation, shared           (what a plan file says)
    report   -> result, shared               (JUnit, HTML, JSON, console, GitHub)
    importers-> plan, shared                 (other tools' configs -> plans)
    run      -> plan, procs, result, evaluation, shared  (schedule, steps, assertions, gate)
    cli/     -> anything                     (the command line, the run's wiring); nothing imports it
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))

SHARED = {"errors", "vocabulary", "records", "wording", "eval_clock", ""}  # "": the package; eval_clock: perf
CLI = {"__main__"}  # besides the cli/ package
MAX_TOP_LEVEL_MODULES = 5  # besides __init__ and __main__: what every layer shares, nothing more
ALLOWED: dict[str, set[str]] = {
    "shared": {"shared"},
    "evaluation": {"shared"},
    "procs": {"shared"},
    "result": {"shared"},
    "plan": {"evaluation", "shared"},
    "report": {"result", "shared"},
    "importers": {"plan", "shared"},
    "run": {"plan", "procs", "result", "evaluation", "shared"},
    "cli": {"cli", "run", "plan", "procs", "result", "report", "importers", "evaluation", "shared"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SOURCES}


def layer(module: str) -> str:
    """The layer of `orchestrator.X[.Y...]`."""
    parts = module.split(".")[1:]
    first = parts[0] if parts else ""
    if first and (PACKAGE / first).is_dir() and first != "schema":
        return "cli" if first == "cli" else first
    return "cli" if first in CLI else "shared" if first in SHARED else f"unknown top-level module {first}"


def imports_of(path: Path, *, inside_functions: bool = True) -> set[str]:
    """Modules `path` imports (`from a import b` counts as a.b, not a, when a.b is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = ast.walk(tree) if inside_functions else _outside_functions(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & set(MODULES)
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(node.module)
    return found


def _outside_functions(tree: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(c for c in ast.iter_child_nodes(node)
                    if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
    return out


def internal_imports(path: Path, *, inside_functions: bool = True) -> set[str]:
    return {m for m in imports_of(path, inside_functions=inside_functions) if m in MODULES} - {module_name(path)}


def calls_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}


@pytest.mark.parametrize("path", [p for p in SOURCES if "procs" not in p.parts], ids=lambda p: p.name)
def test_only_procs_starts_or_signals_processes(path: Path) -> None:
    assert "subprocess" not in imports_of(path) and "multiprocessing" not in imports_of(path)
    sending = {"os.kill", "os.killpg", "os.fork", "os.system", "os.popen", "os.execv", "os.spawnv"}
    assert not (calls_in(path) & sending)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_every_import_points_down_the_layers(path: Path) -> None:
    """Function-level (lazy) imports count too: a lazy import is still a dependency."""
    own = layer(module_name(path))
    assert own in ALLOWED, own
    wrong = sorted(f"{m} ({layer(m)})" for m in internal_imports(path) if layer(m) not in ALLOWED[own] | {own})
    assert wrong == [], f"{module_name(path)} ({own}) may import only {sorted(ALLOWED[own])}"


def test_the_layers_named_here_are_the_packages_there_are() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED) and {layer(m) for m in MODULES} <= set(ALLOWED)


def test_the_top_level_keeps_only_what_every_layer_shares() -> None:
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


@pytest.mark.parametrize("path", [p for p in SOURCES if layer(module_name(p)) != "cli"], ids=lambda p: module_name(p))
def test_nothing_below_the_command_line_imports_it(path: Path) -> None:
    assert not {m for m in internal_imports(path) if layer(m) == "cli"}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_cycles_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_even_through_lazy_imports() -> None:
    """The result model once imported flake.py inside a method while flake.py imported the model."""
    graph = {name: internal_imports(path) & set(MODULES) for name, path in MODULES.items()}
    assert cycles(graph) == []
