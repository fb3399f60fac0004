"""Which names a template or expression may read, and what to say about one that is not there.

`validate` resolves every name before the run: plan, case and matrix vars, `--var`s, `as:` names
of earlier steps, built-ins (`plan_dir`, `env`, `i` in a load ...) and, inside a step's own
`expect`, the fields that step measures. A `call` or `http` step's result may also hold keys
the provider or server chose, which no plan can know: in their `expect`, a name is reported
only when it is a near miss of a known variable or `as:` name (`bom` for `boom`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import AbstractSet, Iterable

from orchestrator.plan import fields
from orchestrator.plan.fields import ALTERNATIVE_MAIN, NOTES
from orchestrator.plan.suggest import closest
from orchestrator.evaluation.templating import GLOBAL_NAMES, environment

# Names every template sees besides the plan's own (providers: live pool stats; free_port: a
# free loopback port per attempt; tmp: a folder of the attempt's own, removed when it ends).
BUILTIN_NAMES = GLOBAL_NAMES | {"plan_dir", "env", "providers", "free_port", "tmp"}

# What each action's result holds for its own `expect` (the spec's table, plus what is measured
# for every step). `error` is set by every step that can fail; `result` holds returned keys.
_COMMON = frozenset({"error", "duration_ms", "result", NOTES})
STEP_FIELDS: dict[str, frozenset[str]] = {
    action: frozenset(own) | (frozenset(ALTERNATIVE_MAIN) if action == "call" else frozenset())
    for action, own in fields.STEP_FIELDS.items()}
_EXPECT_FIELDS = {action: _COMMON | fields for action, fields in STEP_FIELDS.items()}  # asked for every step
_SPELT_OUT = frozenset({"plan_dir", "free_port", "providers"})  # built-ins worth a did-you-mean
ALL_FIELDS = _COMMON.union(*STEP_FIELDS.values())
# Results that carry keys chosen by a provider or a server.
OPEN_RESULTS = frozenset({"call", "http"})
_NEAR_MISS = 0.8  # in an open result, only a name this close to a known one is surely a typo


def expect_scope(action: str, scope: AbstractSet[str], as_name: object) -> set[str]:
    """The names a step's own `expect` reads: the case's, its `as:` name, and its fields."""
    names = set(scope)
    names |= _EXPECT_FIELDS.get(action, _COMMON)
    if isinstance(as_name, str):
        names.add(as_name)
    return names


def unknown_names(found: Iterable[str], scope: AbstractSet[str], *, bound: AbstractSet[str],
                  open_result: bool = False, call_vars: AbstractSet[str] = frozenset()) -> list[str]:
    """A message for each name in `found` that nothing defines.

    `bound`: the plan's variables and `as:` names (what did-you-mean suggests, and, in an open
    result, what a name must nearly match to be reported).
    """
    messages = []
    for name in sorted(set(found) - set(scope)):
        if open_result:
            match = _near_miss(name, bound)
            if match is not None:
                messages.append(f"unknown name '{name}'; did you mean '{match}'? (if the result really has a key "
                                f"'{name}', write result.{name})")
            continue
        messages.append(f"unknown name '{name}'{_hint(name, scope, bound, call_vars)}")
    return messages


def _near_miss(name: str, known: AbstractSet[str]) -> str | None:
    options = [k for k in known if k != name]
    lowered = {k.lower(): k for k in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    import difflib  # here: only a plan with a mistake needs it

    found = difflib.get_close_matches(name, options, n=1, cutoff=_NEAR_MISS)
    return found[0] if found else None


def _hint(name: str, scope: AbstractSet[str], bound: AbstractSet[str], call_vars: AbstractSet[str]) -> str:
    if name == "i":
        return " ('i' is the request index inside a load step)"
    if name in call_vars:
        return (f" (a call's vars are rendered before the rest of the step, so they cannot use each other: "
                f"put '{name}' in the case's vars: to use it here)")
    match = closest(name, bound) or closest(name, set(scope) - BUILTIN_NAMES) or closest(name, _SPELT_OUT)
    if match is not None and match != name:
        return f"; did you mean '{match}'?"
    return (f" (not defined here: add it to vars:, name an earlier step's result with as:, "
            f"or pass --var {name}=VALUE)")


@lru_cache(maxsize=4096)
def guarded(template: str) -> frozenset[str]:
    """Names read only where being undefined is allowed: `x is defined`, `x | default(...)`."""
    import jinja2
    from jinja2 import nodes

    try:
        tree = environment().parse(template)
    except jinja2.TemplateSyntaxError:
        return frozenset()
    found = {test.node.name for test in tree.find_all(nodes.Test)
             if test.name in ("defined", "undefined") and isinstance(test.node, nodes.Name)}
    found |= {f.node.name for f in tree.find_all(nodes.Filter)
              if f.name in ("default", "d") and isinstance(f.node, nodes.Name)}
    return frozenset(found)
