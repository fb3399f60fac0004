"""`orchestrator init`: a plan and a provider that pass at once, so a new user starts from green.

It writes `plan.yaml`, `providers/echo.py` and `plan-v1.json` (the schema the plan's
`yaml-language-server` line points at, for editor completion) into a folder, and never
overwrites a file that is already there.
"""
from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from orchestrator.errors import UserError
from orchestrator.plan.schema import plan_schema

PLAN = """\
# yaml-language-server: $schema=plan-v1.json
#
# Your first plan. Run it:      orchestrator run plan.yaml
# Check it without running it:  orchestrator validate plan.yaml
# Every key is explained in the reference; your editor completes them (YAML extension).
version: 1
name: {name}
title: My first plan

providers:
  echo:
    python: providers/echo.py   # call_api(prompt, options, context), as in promptfoo
    workers: 1
    timeout: 10s                # a call that takes longer is killed and reported

cases:
  - id: ECHO-001
    name: The provider answers with the prompt
    priority: P0
    vars: {{who: world}}          # template variables of this case
    steps:
      - call: echo
        prompt: "Hello {{{{ who }}}}"
        expect:
          - contains: Hello world
          - no_error: true

  - id: ECHO-002
    name: The same worker serves every call
    priority: P1
    steps:
      - call: echo
        prompt: first
        as: first
      - call: echo
        prompt: second
        expect:
          - equals: "second"
          - expr: "worker.pid == first.worker.pid and worker.calls >= 2"

gate:
  pass_rate: {{P0: 100%, P1: 100%}}
"""

PROVIDER = '''\
"""A provider: the function the plan's `call:` steps run, in a persistent worker process.

`prompt` is the rendered prompt, `options["config"]` the provider's config, `context["vars"]`
the case's variables. Return a dict with at least "output"; other keys become result fields.
"""


def call_api(prompt, options, context):
    return {"output": str(prompt), "length": len(str(prompt))}
'''


def files(name: str) -> dict[str, str]:
    """What `init` writes, by path relative to the target folder."""
    schema = json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"
    return {"plan.yaml": PLAN.format(name=name), "providers/echo.py": PROVIDER, "plan-v1.json": schema}


def init(folder: Path, name: str | None = None) -> list[Path]:
    """Write the starter files into `folder`; refuse (UserError) when any of them exists."""
    slug = _slug(name or folder.resolve().name)
    planned = {folder / relative: text for relative, text in files(slug).items()}
    existing = [path for path in planned if path.exists()]
    if existing:
        shown = ", ".join(str(p) for p in existing)
        them = "it" if len(existing) == 1 else "them"
        raise UserError(f"init would overwrite {shown}: move {them} away or run init in another folder")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(planned)


def _slug(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in text.strip()).strip("-._")
    return cleaned if cleaned and cleaned[0].isalnum() else "my-plan"


def cmd_init(args: argparse.Namespace) -> int:
    """The `init` subcommand: write the starter files and say what to run next."""
    folder = Path(args.folder)
    written = init(folder, args.name)
    for path in written:
        print(f"wrote {path}")
    plan = folder / "plan.yaml"
    print(f"next: orchestrator run {shlex.quote(str(plan))}")  # pasted into a shell, it must work
    return 0
