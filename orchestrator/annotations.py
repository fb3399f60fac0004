"""Plan problems as CI annotations: `orchestrator validate --format github` (GitHub Actions).

Each problem becomes `::error file=F,line=L,col=C::message`, which GitHub shows on the line of
the pull request's diff; the exit code stays 2, as for the plain format.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from orchestrator.errors import ExitCode, PlanErrors, Problem, UserError

FORMATS = ("text", "github")


def github_annotation(problem: Problem) -> str:
    where = problem.location
    level, message = ("warning", problem.message[len("warning: "):]) if problem.message.startswith("warning: ") \
        else ("error", problem.message)
    return (f"::{level} file={_property(where.file)},line={where.line},col={where.col}"
            f"::{_data(message)}")


def validate_github(paths: Sequence[str], overrides: Mapping[str, str], root: str | None = None) -> int:
    from orchestrator.plan.load import load_plans

    try:
        plans = load_plans(list(paths), overrides, root)
    except PlanErrors as exc:
        for problem in exc.problems:
            print(github_annotation(problem))
        return ExitCode.USAGE
    except UserError as exc:
        print(f"::error::{_data(str(exc))}")
        return ExitCode.USAGE
    for plan in plans:
        for warning in plan.warnings:
            print(github_annotation(warning))
        print(f"{plan.path}: ok ({len(plan.cases)} cases, {len(plan.providers)} providers)")
    return ExitCode.GATE_PASSED


def _data(text: str) -> str:
    """Escaping of the message part of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
