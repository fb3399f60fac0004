"""Follow docs/tutorial.md literally, in a fresh folder: its files, commands and shown output must hold."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1"})


def shown_output(after: str) -> list[str]:
    """The lines of the first ```text block after `after` in the tutorial."""
    start = TUTORIAL.index(after)
    block = re.search(r"```text\n(.*?)```", TUTORIAL[start:], re.S)
    assert block is not None, after
    return block.group(1).splitlines()


def test_following_the_tutorial_gives_a_passing_plan_of_your_own(tmp_path: Path) -> None:
    folder = tmp_path / "my-first-plan"
    folder.mkdir()
    init = cli("init", cwd=folder)
    assert init.stdout.splitlines() == shown_output("orchestrator init\n```")
    first = cli("run", "plan.yaml", cwd=folder)
    assert first.returncode == 0, first.stdout + first.stderr
    assert [line.split("  ")[:2] for line in first.stdout.splitlines()[:2]] == [
        line.split("  ")[:2] for line in shown_output("orchestrator run plan.yaml\n```")[:2]]

    files = re.findall(r'```\w+ title="([^"]+)"\n(.*?)```', TUTORIAL, re.S)
    assert [name for name, _ in files] == ["providers/calc.py", "calc.yaml"]
    for name, body in files:
        (folder / name).write_text(body, encoding="utf-8")
    mine = cli("run", "calc.yaml", cwd=folder)
    assert mine.returncode == 0, mine.stdout + mine.stderr
    assert "6 passed" in mine.stdout and "Gate PASSED" in mine.stdout

    plan = folder / "calc.yaml"
    good = plan.read_text(encoding="utf-8")
    plan.write_text(good.replace('- equals: "5"', '- equals: "6"'), encoding="utf-8")
    failing = cli("run", "calc.yaml", cwd=folder)
    assert failing.returncode == 1
    assert failing.stdout.splitlines()[1] == shown_output('change `equals: "5"`'.replace("change", "Change"))[1]

    plan.write_text(good.replace('prompt: "2 + 3"', 'promt: "2 + 3"'), encoding="utf-8")
    typo = cli("validate", "calc.yaml", cwd=folder)
    assert typo.returncode == 2
    assert typo.stderr.splitlines() == shown_output("orchestrator validate calc.yaml\n```")
    plan.write_text(good, encoding="utf-8")
    assert cli("validate", "calc.yaml", cwd=folder).stdout.strip() == "calc.yaml: ok (6 cases, 1 provider)"

    plan.write_text(good.replace('        prompt: "2 + 3"', '          prompt: "2 + 3"'), encoding="utf-8")
    indented = cli("validate", "calc.yaml", cwd=folder)
    assert indented.returncode == 2
    assert indented.stderr.splitlines() == shown_output("Indent `prompt` two spaces further")
