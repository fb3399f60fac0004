"""`validate`, `list` and `schema`: commands that read plans (or their format) and run nothing."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Mapping, Sequence

from orchestrator.cli.options import all_vars, masked
from orchestrator.cli.select import Prepared, SelectOptions, prepare
from orchestrator.errors import ExitCode, PlanErrors
from orchestrator.plan.model import Plan
from orchestrator.wording import plural


def load(paths: Sequence[str], overrides: dict[str, str], root: str | None = None) -> list[Plan]:
    """The load stage: every plan, or PlanErrors with every problem; warnings go to stderr."""
    from orchestrator.plan.load import load_plans

    plans = load_plans(list(paths), overrides, root)
    for plan in plans:
        for warning in plan.warnings:
            print(warning, file=sys.stderr)
    return plans


def cmd_validate(args: argparse.Namespace) -> int:
    if args.format == "github":
        from orchestrator.cli.annotations import validate_github

        return validate_github(args.plans, all_vars(args), args.root)
    from orchestrator.plan.load import check_overrides, load_plan

    overrides = all_vars(args)
    failed = False
    plans: list[Plan] = []
    for path in args.plans:  # each file gets its `ok` line or its errors
        try:
            plan = load_plan(path, overrides, args.root)
        except PlanErrors as exc:
            failed = True
            for problem in exc.problems:
                print(masked(args, str(problem)), file=sys.stderr)
            continue
        plans.append(plan)
        for warning in plan.warnings:
            print(masked(args, str(warning)), file=sys.stderr)
        print(f"{path}: ok ({plural(len(plan.cases), 'case')}, {plural(len(plan.providers), 'provider')})", flush=True)
    if not failed:
        check_overrides(plans, overrides)  # a --var no plan declares or reads: exit 2 with did-you-mean
    return ExitCode.USAGE if failed else ExitCode.GATE_PASSED


def cmd_list(args: argparse.Namespace) -> int:
    plans = load(args.plans, all_vars(args), args.root)
    print_list(plans, prepare(plans, SelectOptions.from_args(args), running=False), {p.name: _shown(p) for p in plans})
    return ExitCode.GATE_PASSED


def print_list(plans: Sequence[Plan], prepared: Prepared, shown: Mapping[str, str]) -> None:
    total = 0
    for plan, kept in zip(plans, prepared.plans):
        print(f"{shown[plan.name]} — {plan.name}")
        running = {c.id for c in kept.cases}
        why = prepared.left_out.get(plan.name, {})
        for case in plan.cases:
            marks = " ".join(x for x in (case.priority, case.level or "", *case.tags) if x)
            if case.id in running:
                total += 1
                skip = f"  (skip: {case.skip})" if case.skip is not None else ""
                print(f"  {case.id}  {case.name}  [{marks}]{skip}")
        for case in plan.cases:
            if case.id not in running:
                print(f"  - {case.id}  {case.name}  [{why.get(case.id, 'left out')}]")
    left = sum(len(v) for v in prepared.left_out.values())
    print(plural(total, "case") + (f" ({left} left out)" if left else ""))


def _shown(plan: Plan) -> str:
    return plan.cases[0].location.file if plan.cases else str(plan.path)


def cmd_schema(args: argparse.Namespace) -> int:
    from orchestrator.plan.schema import plan_schema

    text = json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.markdown:
        from orchestrator.cli.docs_gen import generate

        text = generate()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return ExitCode.GATE_PASSED
