"""include and discover read only inside the plan's project, once per file, and never quote a
file that is not a plan fragment."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.errors import PlanErrors
from orchestrator.plan import paths
from orchestrator.plan.load import load_plan

REPO = Path(__file__).resolve().parents[3]
SECRET = "hunter2-do-not-print"
CASE = "cases:\n  - id: A\n    name: a\n    steps: [{sleep: 0}]\n"


def project(tmp_path: Path) -> Path:
    """tmp/proj (a git checkout) holding plans/; /tmp/secret.yaml lies outside it."""
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "plans").mkdir()
    (tmp_path / "secret.yaml").write_text(f"token: {SECRET}\n")
    (tmp_path / "secret.txt").write_text(f"{SECRET}\n")
    return root


def problems(plan: Path, root: str | None = None) -> list[str]:
    with pytest.raises(PlanErrors) as caught:
        load_plan(str(plan), root=root)
    return [str(p) for p in caught.value.problems]


def write_plan(path: Path, head: str, cases: str = CASE) -> Path:
    path.write_text(f"version: 1\nname: p\n{head}{cases}")
    return path


@pytest.mark.parametrize("name", ["/etc/shadow", "/etc/passwd", "../../secret.yaml", "../../secret.txt"])
def test_an_include_outside_the_project_is_refused_without_reading_it(tmp_path: Path, name: str) -> None:
    plan = write_plan(project(tmp_path) / "plans" / "p.yaml", f"include: [{name}]\n")
    found = problems(plan)
    assert found == [f"{plan}:3:11: include '{name}' is outside the project root {tmp_path / 'proj'} "
                     "(pass --root to widen it)"]


def test_a_symlink_out_of_the_project_is_outside_it_too(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "plans" / "common.yaml").symlink_to(tmp_path / "secret.yaml")
    found = problems(write_plan(root / "plans" / "p.yaml", "include: [common.yaml]\n"))
    assert len(found) == 1 and "outside the project root" in found[0] and SECRET not in found[0]


@pytest.mark.parametrize("content", [f"{SECRET}\n", f"- {SECRET}\n", f"password: {SECRET}\n", f"root:{SECRET}:0:0\n", ""])
def test_a_file_that_is_not_a_plan_fragment_is_refused_without_quoting_it(tmp_path: Path, content: str) -> None:
    root = project(tmp_path)
    (root / "plans" / "other.yaml").write_text(content)
    plan = write_plan(root / "plans" / "p.yaml", "include: [other.yaml]\n")
    found = problems(plan)
    assert found == [f"{plan}:3:11: include 'other.yaml' is not a plan fragment (a mapping of plan keys: "
                     "vars, env, providers, defaults...); its content is not shown"]


def test_a_file_that_is_not_yaml_is_refused_unread(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "plans" / "secrets.env").write_text(f"TOKEN={SECRET}\n")
    found = problems(write_plan(root / "plans" / "p.yaml", "include: [secrets.env]\n"))
    assert found == [f"{root}/plans/p.yaml:3:11: include 'secrets.env' is not a plan file (.yaml or .yml); "
                     "its content is not read"]


def test_github_annotations_do_not_quote_an_included_file(tmp_path: Path) -> None:
    plan = write_plan(project(tmp_path) / "plans" / "p.yaml", "include: [/etc/shadow, ../../secret.yaml]\n")
    done = subprocess.run([sys.executable, "-m", "orchestrator", "validate", "--format", "github", str(plan)],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2
    assert SECRET not in done.stdout + done.stderr and "root:" not in done.stdout + done.stderr
    assert done.stdout.count("::error file=") == 2


def test_includes_resolve_from_the_plan_wherever_the_run_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    (root / "common").mkdir()
    (root / "common" / "vars.yaml").write_text("vars: {who: world}\n")
    plan = write_plan(root / "plans" / "p.yaml", "include: [../common/vars.yaml]\n")
    for cwd in (tmp_path, root, root / "common", Path("/")):
        monkeypatch.chdir(cwd)
        assert load_plan(os.path.relpath(plan)).vars == {"who": "world"}


def test_diamond_includes_are_read_once_each(tmp_path: Path) -> None:
    """Each level includes the next level's two files, which both include the level below:
    2**14 paths reach the bottom, yet each file is read and merged once."""
    root = project(tmp_path)
    levels = 14
    (root / "plans" / f"l{levels}a.yaml").write_text("vars: {bottom: 1}\n")
    (root / "plans" / f"l{levels}b.yaml").write_text("vars: {bottom: 2}\n")
    for n in range(levels - 1, 0, -1):
        for side in "ab":
            (root / "plans" / f"l{n}{side}.yaml").write_text(
                f"include: [l{n + 1}a.yaml, l{n + 1}b.yaml]\nvars: {{level{n}: {side}}}\n")
    plan = write_plan(root / "plans" / "p.yaml", "include: [l1a.yaml, l1b.yaml]\n")
    started = time.monotonic()
    loaded = load_plan(str(plan))
    assert time.monotonic() - started < 2.0
    assert loaded.vars["bottom"] == 2 and loaded.vars["level1"] == "b"


@pytest.mark.parametrize("pattern, message", [
    ("/**/passwd", "discover glob '/**/passwd' is absolute: write it relative to the plan's folder"),
    ("~/**/*", "discover glob '~/**/*' is absolute: write it relative to the plan's folder"),
    ("../../../**/passwd", "discover glob '../../../**/passwd' reaches outside the project root"),
    ("../**/../../x", "discover glob '../**/../../x' has '..' after a wildcard: put every '..' first"),
])
def test_discover_stays_in_the_project(tmp_path: Path, pattern: str, message: str) -> None:
    plan = write_plan(project(tmp_path) / "plans" / "p.yaml", "",
                      f"cases:\n  - discover: {{glob: \"{pattern}\"}}\n    steps: [{{sleep: 0}}]\n")
    started = time.monotonic()
    found = problems(plan)
    assert time.monotonic() - started < 1.0
    assert len(found) == 1 and message in found[0] and found[0].startswith(f"{plan}:4:22: ")


def test_discover_stops_past_its_file_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    (root / "tests").mkdir()
    for n in range(12):
        (root / "tests" / f"test_{n}.py").write_text("")
    monkeypatch.setattr(paths, "MAX_DISCOVERED", 10)
    monkeypatch.setattr(paths.discover, "__defaults__", (10,))
    plan = write_plan(root / "plans" / "p.yaml", "",
                      "cases:\n  - discover: {glob: \"../tests/test_*.py\"}\n    steps: [{sleep: 0}]\n")
    assert problems(plan) == [f"{plan}:4:22: discover glob '../tests/test_*.py' matched more than 10 files: narrow it"]


def test_root_widens_the_project_for_a_sibling_checkout(tmp_path: Path) -> None:
    root = project(tmp_path)
    sibling = tmp_path / "other" / "tests"
    sibling.mkdir(parents=True)
    (sibling / "test_x.py").write_text("")
    plan = write_plan(root / "plans" / "p.yaml", "",
                      "cases:\n  - discover: {glob: \"../../other/tests/test_*.py\"}\n    steps: [{sleep: 0}]\n")
    assert "outside the project root" in problems(plan)[0]
    assert [c.id for c in load_plan(str(plan), root=str(tmp_path)).cases] == ["test_x"]
    done = subprocess.run([sys.executable, "-m", "orchestrator", "list", "--root", str(tmp_path), str(plan)],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0 and "test_x" in done.stdout


def test_without_markers_the_root_is_the_plans_folder(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    assert paths.project_root(folder / "p.yaml") == Path(os.path.realpath(folder))
