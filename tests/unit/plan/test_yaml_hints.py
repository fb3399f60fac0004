"""YAML syntax mistakes get what to do at the place that is wrong, from libyaml and pure-Python PyYAML.

The fixtures tests/fixtures/bad_plans/yaml_*.yaml hold the exact message with libyaml (what
plans load with); here the same files are loaded with PyYAML's pure-Python parser, whose
wording differs: the advice and its place must not.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.errors import PlanErrors
from orchestrator.plan import yaml_load
from orchestrator.plan.load import load_plan
from tests.unit.plan.test_bad_plans import BAD, ROOT, expected_lines

YAML_FIXTURES = sorted(p.name for p in BAD.glob("yaml_*.yaml"))
LOADERS = {"libyaml": getattr(yaml, "CSafeLoader", None), "pure-python": yaml.SafeLoader}


def test_every_common_yaml_mistake_has_a_fixture() -> None:
    assert len(YAML_FIXTURES) >= 12


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("name", YAML_FIXTURES)
def test_advice_and_place_are_the_same_with_either_parser(name: str, loader: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if LOADERS[loader] is None:
        pytest.skip("PyYAML without libyaml")
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(yaml_load, "_EventLoader", LOADERS[loader])
    relative = f"tests/fixtures/bad_plans/{name}"
    with pytest.raises(PlanErrors) as caught:
        load_plan(relative)
    [problem] = caught.value.problems
    [expected] = expected_lines(relative)
    if "\n" not in expected:  # not a syntax error: the advice comes from what was parsed
        assert str(problem) == expected
        return
    advice, words = str(problem).split("\n")
    assert advice == expected.split("\n")[0]
    assert words.startswith("    (PyYAML: ") and words.endswith(")")


def problem_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, loader: str) -> str:
    if LOADERS[loader] is None:
        pytest.skip("PyYAML without libyaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(yaml_load, "_EventLoader", LOADERS[loader])
    Path("plan.yaml").write_text(text)
    with pytest.raises(PlanErrors) as caught:
        load_plan("plan.yaml")
    [problem] = caught.value.problems
    return str(problem).split("\n")[0]


VARIANTS = {
    # an over-indented key under a list item, two levels deep
    "overindented under dash": ("cases:\n  - id: A\n    steps:\n      - sleep: 1s\n"
                                "          expect: []\n",
                                "plan.yaml:5:11: 'expect' is indented more than 'sleep' on line 4, which already "
                                "has a value: line it up with 'sleep' (column 9)"),
    # a second list item without '-' at the top of the cases
    "case without dash": ("cases:\n  - id: A\n    name: a\n  id: B\n  name: b\n",
                          "plan.yaml:4:3: 'id' lines up with the '-' of the list items above (line 2) but has no "
                          "'-': write '- id: …' to start a new item, or indent it to column 5 to add it to the "
                          "item above"),
    # an unquoted json path inside a flow mapping, in a longer value
    "path in the middle": ("x: {equals: 3, path: data.items[0].name}\n",
                           "plan.yaml:1:22: quote the path: inside { } the characters [ ] { } , : have a meaning, "
                           "so write path: \"data.items[0].name\""),
    # a tab after spaces
    "tab after spaces": ("version: 1\ncases:\n  - id: A\n  \tname: a\n",
                         "plan.yaml:4:3: a tab indents this line: YAML indents with spaces only, so replace the "
                         "tab with spaces"),
    "over-indented after a quoted value": ('cases:\n  - id: A\n    name: "a"\n      priority: P0\n',
                                           "plan.yaml:4:7: 'priority' is indented more than 'name' on line 3, which "
                                           "already has a value: line it up with 'name' (column 5)"),
    "under-indented provider key": ("providers:\n  echo:\n    python: x.py\n   workers: 2\n",
                                    "plan.yaml:4:4: 'workers' (column 4) lines up with no key above it: indent it "
                                    "to column 5 like 'python' (line 3) or to column 3 like 'echo' (line 2)"),
    "glob alias at the start": ("glob: **/*.py\n", "plan.yaml:1:7: a value starting with '*' names an alias in "
                                                    "YAML: quote it: glob: \"**/*.py\""),
    "template in a list": ("cmd: [echo, {{ who }}]\n", "plan.yaml:1:13: a value that starts with a template must "
                                                        "be in quotes, or YAML reads its {{ }} as a mapping: write "
                                                        "\"{{ who }}\""),
    "apostrophe in single quotes": ("name: 'it's'\n", "plan.yaml:1:7: the ' inside the value of 'name' ends the "
                                                       "quoted text early: write name: \"it's\""),
    "key without colon": ("providers:\n  echo\n    python: x.py\n",
                          "plan.yaml:2:3: 'echo' has no ':' after it, so the lines below it are not its keys: "
                          "write 'echo:'"),
    "backtick": ("version: 1\nname: `x`\n",
                 "plan.yaml:2:7: YAML reserves '`' at the start of a value: quote the value: name: \"`x`\""),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_of_the_mistakes(variant: str, loader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, expected = VARIANTS[variant]
    assert problem_of(tmp_path, monkeypatch, text, loader) == expected


def test_an_error_without_a_known_fix_keeps_pyyaml_words_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("plan.yaml").write_text("a: !!binary |\n  ###\n")
    with pytest.raises(PlanErrors) as caught:
        load_plan("plan.yaml")
    assert "\n" not in str(caught.value)


def test_a_tab_between_key_and_value_is_not_called_indentation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # libyaml accepts a tab after ':'; the pure-Python parser does not, and then says where
    assert problem_of(tmp_path, monkeypatch, "version: 1\nname:\tx\n", "pure-python") == (
        "plan.yaml:2:6: a tab separates this value: YAML separates with spaces only, so replace the tab with a space")
