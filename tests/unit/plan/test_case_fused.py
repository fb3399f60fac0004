"""The plain cases built in one pass (plan/case_fused) are the cases the general path builds:
the same Plan, field by field, for every shipped plan, fixture and scenario and for variants of
the plain case; a plan with a problem says what it always said."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterator

import pytest

from orchestrator.errors import PlanErrors
from orchestrator.plan import case_fused, load
from orchestrator.plan.model import CaseSpec, Plan

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted([*ROOT.glob("plans/*.yaml"), *ROOT.glob("tests/fixtures/**/*.yaml"), *ROOT.glob("scenarios/**/*.yaml")])


def differences(old: Any, new: Any, where: str = "plan") -> Iterator[str]:
    """Where two loaded values differ, field by field (types too: True is not 1)."""
    if type(old) is not type(new):
        yield f"{where}: {type(old).__name__} {old!r} != {type(new).__name__} {new!r}"
    elif dataclasses.is_dataclass(old):
        for f in dataclasses.fields(old):
            yield from differences(getattr(old, f.name), getattr(new, f.name), f"{where}.{f.name}")
    elif isinstance(old, (tuple, list)):
        if len(old) != len(new):
            yield f"{where}: {len(old)} items != {len(new)}"
        for i, (a, b) in enumerate(zip(old, new)):
            yield from differences(a, b, f"{where}[{i}]")
    elif isinstance(old, dict) or type(old).__name__ == "mappingproxy":
        if list(old) != list(new):
            yield f"{where}: keys {list(old)} != {list(new)}"
        for key in old:
            if key in new:
                yield from differences(old[key], new[key], f"{where}[{key!r}]")
    elif old != new:
        yield f"{where}: {old!r} != {new!r}"


def both_ways(path: str, overrides: dict[str, str] | None = None) -> tuple[Any, Any, int]:
    """(the general path's plan or problems, the fused path's, how many cases the fused one built)."""
    taken = []
    real = case_fused.PlainCases.case

    def counted(self: case_fused.PlainCases, index: int, raw: Any) -> CaseSpec | None:
        spec = real(self, index, raw)
        taken.append(spec is not None)
        return spec

    results = []
    for fused in (False, True):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(case_fused.PlainCases, "case", counted)
            try:
                results.append(load._load_plan(path, overrides, None, fused=fused))
            except PlanErrors as exc:
                results.append([str(p) for p in exc.problems])
    return results[0], results[1], sum(taken)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_plan_file_loads_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    old, new, _ = both_ways(path.name)
    assert list(differences(old, new)) == []
    assert old == new


PROVIDERS = "providers:\n  echo: {python: echo.py}\n  other: {python: echo.py}\n"
PLAIN_VARIANTS = {
    "flow steps": "  - id: A\n    name: a\n    steps:\n      - {call: echo, prompt: 'hi', expect: [{contains: hi}]}\n",
    "block steps": ("  - id: A\n    name: a\n    steps:\n      - call: other\n        prompt: 7\n        expect:\n"
                    "          - equals: \"7\"\n          - is_json: true\n          - count: 0\n"),
    "no prompt, no expect, a step name":
        "  - id: A\n    name: a\n    steps: [{call: echo, name: first}, {call: echo}]\n",
    "other case keys": ("  - id: '12'\n    name: twelve\n    tags: [a, b]\n    priority: P0\n    skip: true\n"
                        "    xfail: {reason: known, strict: true}\n    timeout: 2s\n    retries: 1\n    level: e2e\n"
                        "    description: d\n    lock: L\n    serial: true\n    repeat: 2\n    concurrency: 2\n"
                        "    steps: [{call: echo, prompt: 1.5, expect: [{max_ms: 100}, {no_error: true}]}]\n"),
    "quoted keys and values":
        "  - \"id\": 'A'\n    'name': \"a\"\n    \"steps\": [{'call': \"echo\", \"prompt\": ''}]\n",
    "an alias (the event composer's nodes)": ("  - id: A\n    name: a\n    steps: &s [{call: echo, prompt: x}]\n"
                                             "  - id: B\n    name: b\n    steps: *s\n"),
    "templates and expressions reading known names": (
        "  - id: A\n    name: a\n    covers: [R1]\n    steps:\n"
        "      - {call: echo, prompt: '{{ v }} in {{ plan_dir }}', session: '{{ v }}',\n"
        "         expect: [{contains: '{{ v }}'}, {expr: \"output == 'x' and duration_ms < v\"}, {count: 1}]}\n"
        "      - {call: echo, session: 3,\n"
        "         expect: [{expr: 'error is none'}, {equals: '{{ env.HOME | default(1) }}'}]}\n"),
    "as: names read by later steps": (
        "  - id: A\n    name: a\n    steps:\n"
        "      - {call: echo, prompt: p, as: first, expect: [{expr: 'first.output == output'}]}\n"
        "      - {call: echo, prompt: '{{ first.output }}', as: second}\n"
        "      - {call: echo, prompt: '{{ second.output }}{{ first.error }}',\n"
        "         expect: [{equals: '{{ first.output }}'}]}\n"),
    "a line over 1,000 characters (the event composer's nodes)":
        f"  - id: A\n    name: a\n    steps: [{{call: echo, prompt: '{'x' * 1200}'}}]\n",
}
MIXED = ("  - id: T\n    name: templated\n    vars: {w: 1}\n    steps: [{call: echo, prompt: '{{ w }}', as: r}]\n"
         "  - id: M\n    name: matrix\n    matrix: {n: [1, 2]}\n    steps: [{call: echo, expect: [{matches: 'a+'}]}]\n"
         "  - id: E\n    name: exec\n    steps: [{exec: {command: [echo, hi]}, expect: [{exit_code: 0}]}]\n")


def write(tmp_path: Path, cases: str, extra: str = "") -> str:
    (tmp_path / "echo.py").write_text("def call_api(prompt, options, context):\n    return {'output': prompt}\n")
    (tmp_path / "plan.yaml").write_text(f"version: 1\nname: p\nvars: {{v: 1}}\nrequirements: {{R1: r}}\n{PROVIDERS}"
                                        f"{extra}cases:\n{cases}")
    return "plan.yaml"


@pytest.mark.parametrize("cases", PLAIN_VARIANTS.values(), ids=PLAIN_VARIANTS.keys())
@pytest.mark.parametrize("extra", ["", "defaults: {tags: [d], priority: P1, xfail_strict: true}\n"],
                         ids=["no defaults", "defaults"])
def test_plain_cases_are_built_in_one_pass_as_the_general_path_builds_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: str, extra: str) -> None:
    monkeypatch.chdir(tmp_path)
    old, new, taken = both_ways(write(tmp_path, cases + MIXED, extra), {"v": "2"})
    assert isinstance(old, Plan), old
    assert list(differences(old, new)) == []
    assert taken == len(old.cases) - 4  # the templated, matrix (two) and exec cases are not plain


NOT_PLAIN = {
    "an as: name a field of the step hides": "[{call: echo, as: output}]",
    "an as: name a field of exec steps hides": "[{call: echo, as: stdout}]",
    "if:": "[{call: echo, if: 'v'}]",
    "an assertion with on:": "[{call: echo, expect: [{contains: x, on: error}]}]",
    "a promptfoo assertion": "[{call: echo, expect: [{type: contains, value: x}]}]",
    "a regex": "[{call: echo, expect: [{matches: 'x+'}]}]",
    "a list value": "[{call: echo, expect: [{equals: [1]}]}]",
    "a templated provider": "[{call: '{{ \"echo\" }}'}]",
    "a templated count": "[{call: echo, expect: [{count: '{{ v }}'}]}]",
    "an expression reading an unknown near miss (allowed in an open result)": "[{call: echo, expect: [{expr: 'vv'}]}]",
    "a template reading an unknown key (allowed in an open result)": "[{call: echo, expect: [{equals: '{{ zzz }}'}]}]",
}


@pytest.mark.parametrize("steps", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_cases_that_a_check_reads_take_the_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        steps: str) -> None:
    monkeypatch.chdir(tmp_path)
    old, new, taken = both_ways(write(tmp_path, f"  - id: A\n    name: a\n    steps: {steps}\n"))
    assert isinstance(old, Plan), old
    assert list(differences(old, new)) == [] and taken == 0


BROKEN = {
    "a duplicate id among plain cases": "  - id: B\n    name: b2\n    steps: [{call: echo}]\n",
    "an unknown provider": "  - id: C\n    name: c\n    steps: [{call: ehco}]\n",
    "an unknown name in a template": "  - id: C\n    name: c\n    steps: [{call: echo, prompt: '{{ nope }}'}]\n",
    "a templated provider that is no provider": "  - id: C\n    name: c\n    steps: [{call: \"{{ 'x' }}\"}]\n",
    "an unknown name in an expression": "  - id: C\n    name: c\n    steps: [{call: echo, expect: [{expr: 'x +'}]}]\n",
    "a template that does not compile": "  - id: C\n    name: c\n    steps: [{call: echo, prompt: '{{ v '}]\n",
    "an undefined requirement": "  - id: C\n    name: c\n    covers: [R2]\n    steps: [{call: echo}]\n",
    "a step's own as: name read in its prompt":
        "  - id: C\n    name: c\n    steps: [{call: echo, prompt: '{{ mine }}', as: mine}]\n",
    "an as: name read before it is bound":
        "  - id: C\n    name: c\n    steps: [{call: echo, prompt: '{{ later }}'}, {call: echo, as: later}]\n",
    "an output read in a prompt": "  - id: C\n    name: c\n    steps: [{call: echo, prompt: '{{ output }}'}]\n",
    "a duplicate id of a matrix case": "  - id: 'M[n=1]'\n    name: m\n    steps: [{call: echo}]\n" + MIXED,
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_a_plan_with_plain_cases_and_a_problem_says_what_it_always_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    plain = "".join(f"  - id: {n}\n    name: {n}\n    steps: [{{call: echo}}]\n" for n in "AB")
    monkeypatch.chdir(tmp_path)
    old, new, taken = both_ways(write(tmp_path, plain + case))
    assert isinstance(old, list) and old, old
    assert new == old and taken >= 2  # the plain cases were built, then the plan was loaded again


def test_a_problem_before_the_plain_cases_stops_the_fused_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = "".join(f"  - id: {n}\n    name: {n}\n    steps: [{{call: echo}}]\n" for n in "AB")
    monkeypatch.chdir(tmp_path)
    old, new, taken = both_ways(write(tmp_path, BROKEN["an unknown provider"] + plain))
    assert isinstance(old, list) and old, old
    assert new == old and taken == 0  # found before any was built: no second load


def test_a_plan_read_from_a_pipe_is_not_read_twice(tmp_path: Path) -> None:
    """The second load of a plan with a problem uses the text the first one read: a pipe (bash's
    `<(...)`, /dev/fd/N) has no second reading, and a plan read again from one was an "empty plan"."""
    import os

    write(tmp_path, "")
    text = (f"version: 1\nname: p\nproviders:\n  echo: {{python: {tmp_path / 'echo.py'}}}\ncases:\n"
            "  - id: A\n    name: a\n    steps: [{call: echo}]\n  - id: B\n    name: b\n    steps: [{call: ehco}]\n")
    reader, writer = os.pipe()
    os.write(writer, text.encode())
    os.close(writer)
    try:
        with pytest.raises(PlanErrors) as raised:
            load.load_plan(f"/dev/fd/{reader}")
    finally:
        os.close(reader)
    assert [p.message for p in raised.value.problems] == [
        "unknown provider 'ehco' (did you mean 'echo'?); defined providers: echo"]
