"""Command-line values turned into typed ones: variables and secrets, -j, --timeout, --max-memory."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from orchestrator.errors import UserError
from orchestrator.records import record

if TYPE_CHECKING:  # the plan model (and the schema its vocabulary reads) stays off `--help`'s path
    from orchestrator.plan.model import Plan


@record
class ReportPaths:
    """Where `run` writes its reports; `out` is the folder whose previous reports are removed."""

    junit: Path
    html: Path
    json: Path
    out: Path | None = None
    junit_flavor: str = "default"


def parse_vars(pairs: Sequence[str], option: str = "--var") -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            if option == "--secret":  # never echo it: the argument may be the secret itself
                raise UserError("--secret takes NAME=VALUE; one argument has no NAME= (not shown: it may be the secret)")
            raise UserError(f"{option} takes KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def all_vars(args: argparse.Namespace) -> dict[str, str]:
    """`--var` and `--secret` overrides together (a `--secret` wins a name given to both)."""
    return {**parse_vars(args.var), **parse_vars(getattr(args, "secret", []), "--secret")}


def secret_values(args: argparse.Namespace) -> tuple[str, ...]:
    """Values to mask: every `--secret`, and each `--var` whose name looks secret (result/secrets)."""
    from orchestrator.result.secrets import looks_secret

    found = [v for k, v in parse_vars(args.var).items() if looks_secret(k)]
    return tuple(found + list(parse_vars(getattr(args, "secret", []), "--secret").values()))


def masked(args: argparse.Namespace, text: str) -> str:
    """An error line with the command line's secrets masked (a message can quote a value)."""
    from orchestrator.result.secrets import Masker

    try:
        secrets = secret_values(args) if hasattr(args, "var") else ()
    except UserError:
        secrets = ()
    return Masker(secrets).text(text)


def masked_command(secrets: Sequence[str], plans: Sequence[Plan]) -> str:
    """The command line as results keep it: each argument masked before quoting, since quoting
    can split a secret ('it'"'"'s')."""
    from orchestrator.result.secrets import Masker

    masker = Masker([*secrets, *(v for plan in plans for v in plan.secret_values(os.environ))])
    return " ".join(shlex.quote(masker.text(a)) for a in ["orchestrator", *sys.argv[1:]])


def jobs(value: str) -> int:
    if value == "auto":
        return 1  # the floor: the engine sizes the jobs from cores and measured memory
    try:
        count = int(value)
    except ValueError:
        raise UserError(f"-j takes a number or 'auto', got {value!r}") from None
    if count < 1:
        raise UserError(f"-j must be at least 1, got {count}")
    return count


def run_timeout(value: str | None) -> float | None:
    if value is None:
        return None
    from orchestrator.plan.units import parse_duration

    try:
        seconds = parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise UserError(f"--timeout takes a duration such as 90s or 30m, got {value!r}: {exc}") from None
    if seconds <= 0:
        raise UserError(f"--timeout must be more than 0, got {value!r}")
    return seconds


def max_memory(value: str | None) -> int | None:
    if not value:
        return None
    from orchestrator.plan.units import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise UserError(f"--max-memory: {exc}") from None
