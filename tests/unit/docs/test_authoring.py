"""What a plan author touches besides the plan: the modeline, init, pre-commit and CI annotations."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from orchestrator.cli.annotations import github_annotation
from orchestrator.errors import Location, Problem

ROOT = Path(__file__).resolve().parents[3]
MODELINE = "# yaml-language-server: $schema=../orchestrator/schema/plan-v1.json"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_every_shipped_plan_starts_with_the_schema_modeline() -> None:
    plans = sorted((ROOT / "plans").glob("*.yaml"))
    assert plans
    for plan in plans:
        first = plan.read_text(encoding="utf-8").splitlines()[0]
        assert first == MODELINE, f"{plan.name} must start with: {MODELINE}"


def test_init_writes_a_plan_that_passes_and_never_overwrites(tmp_path: Path) -> None:
    done = cli("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} == {
        "plan.yaml", "providers/echo.py", "plan-v1.json"}
    assert (tmp_path / "plan.yaml").read_text().startswith("# yaml-language-server: $schema=plan-v1.json")
    ran = cli("run", "plan.yaml", "--out", "out", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 passed" in ran.stdout and "Gate PASSED" in ran.stdout

    (tmp_path / "plan.yaml").write_text("mine\n")
    again = cli("init", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "orchestrator: error: init would overwrite plan.yaml, providers/echo.py, plan-v1.json: "
        "move them away or run init in another folder"]
    assert (tmp_path / "plan.yaml").read_text() == "mine\n"


def test_init_into_a_new_folder_names_the_plan_after_it(tmp_path: Path) -> None:
    done = cli("init", "smoke tests", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    hint = done.stdout.splitlines()[-1]
    assert hint == "next: orchestrator run 'smoke tests/plan.yaml'"  # pasted into a shell, it works
    pasted = subprocess.run(["sh", "-c", hint.replace("next: orchestrator", f"'{sys.executable}' -m orchestrator")
                             + " --out out -q"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    assert "\nname: smoke-tests\n" in (tmp_path / "smoke tests" / "plan.yaml").read_text()
    assert cli("validate", "smoke tests/plan.yaml", cwd=tmp_path).returncode == 0


def test_validate_github_format_prints_annotations_and_exits_2() -> None:
    done = cli("validate", "--format", "github", "tests/fixtures/bad_plans/typo_case_key.yaml",
               "plans/code-execution.yaml")
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        "::error file=tests/fixtures/bad_plans/typo_case_key.yaml,line=6,col=5::"
        "unknown key 'prioirty' in case (did you mean 'priority'?)"]
    good = cli("validate", "--format", "github", "plans/code-execution.yaml")
    assert good.returncode == 0 and "::error" not in good.stdout


def test_annotations_escape_what_github_would_misread() -> None:
    problem = Problem(Location("a,b:c.yaml", 3, 7), "50% wrong\nsecond line")
    assert github_annotation(problem) == "::error file=a%2Cb%3Ac.yaml,line=3,col=7::50%25 wrong%0Asecond line"


def test_pre_commit_hook_validates_plans_only() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "orchestrator-validate")
    assert hook["entry"] == "orchestrator validate" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("plans/release.yaml") and pattern.search("qa/plans/smoke.yml")
    assert not pattern.search(".github/workflows/ci.yaml")
    # pre-commit appends the staged file names to `entry`: that command must work as is
    done = cli(*hook["entry"].split()[1:], "plans/code-execution.yaml", "plans/provider-persistence.yaml")
    assert done.returncode == 0, done.stderr


def test_readme_links_the_docs_and_keeps_the_quick_start() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && orchestrator run plans/provider-persistence.yaml" in readme
    assert "pip install -e '.[test]' && pytest" in readme
    for target in ("docs/tutorial.md", "docs/reference.md"):
        assert f"]({target})" in readme


def test_relative_links_in_docs_point_at_files() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"
