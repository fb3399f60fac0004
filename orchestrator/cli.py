"""The command line: parse → load → run → report → exit code. Errors become exit codes here."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from orchestrator import __version__, early_signals
from orchestrator.cli_select import (add_junit_flavor_arg, add_merge_parser, add_run_args, add_selection_args,
                                     cmd_merge, max_memory, prepare, print_list)
from orchestrator.errors import ExitCode, InternalError, PlanErrors, UserError, most_severe
from orchestrator.pipes import stdout_safe_from_closed_pipe

if TYPE_CHECKING:
    from orchestrator.plan.model import Plan


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=(
        "Run YAML test plans against persistent provider pools; write JUnit, HTML and JSON reports."))
    parser.add_argument("--version", action="version", version=f"orchestrator {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run plans and write reports")
    run.add_argument("plans", nargs="+", metavar="PLAN")
    run.add_argument("--out", default="reports", help="folder for the reports (default: reports)")
    run.add_argument("--junit", help="JUnit XML file (default: OUT/junit.xml)")
    run.add_argument("--html", help="HTML report (default: OUT/report.html)")
    run.add_argument("--json", help="JSON results (default: OUT/results.json)")
    add_junit_flavor_arg(run)
    run.add_argument("-j", "--jobs", default="1", help="cases run at once: a number or 'auto' (default 1)")
    run.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="set a variable the plan declares or reads (over plan and case vars)")
    add_secret_arg(run)
    run.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    run.add_argument("--timeout", metavar="DURATION",
                     help="stop the run after this long (e.g. 30m): cases interrupted, reports written, exit 124")
    add_selection_args(run)
    add_run_args(run)
    _add_root(run)

    validate = sub.add_parser("validate", help="check plans; print every error as FILE:LINE:COL: message")
    validate.add_argument("plans", nargs="+", metavar="PLAN")
    validate.add_argument("--var", action="append", default=[], metavar="KEY=VALUE")
    add_secret_arg(validate)
    validate.add_argument("--format", choices=("text", "github"), default="text",
                          help="github: print ::error file=F,line=L,col=C::message annotations (GitHub Actions)")
    _add_root(validate)

    listing = sub.add_parser("list", help="the cases that would run, after expansion")
    listing.add_argument("plans", nargs="+", metavar="PLAN")
    listing.add_argument("--var", action="append", default=[], metavar="KEY=VALUE")
    add_secret_arg(listing)
    add_selection_args(listing)
    _add_root(listing)

    schema = sub.add_parser("schema", help="print the JSON Schema of the plan format")
    schema.add_argument("--output", "-o", help="write it to this file instead")
    schema.add_argument("--markdown", action="store_true", help="the plan reference (docs/reference.md) instead")

    init = sub.add_parser("init", help="write a starter plan.yaml and providers/echo.py that pass at once")
    init.add_argument("folder", nargs="?", default=".", help="where (default: the current folder)")
    init.add_argument("--name", help="the plan's name (default: the folder's name)")

    report = sub.add_parser("report", help="re-render reports from a results file without re-running")
    report.add_argument("results", metavar="RESULTS.json", help="a results file, or the journal "
                        "(results.journal.jsonl) of a run that was killed")
    report.add_argument("--out", help="folder for junit.xml and report.html (default: the results file's folder)")
    report.add_argument("--junit", help="JUnit XML file (default: OUT/junit.xml)")
    report.add_argument("--html", help="HTML report (default: OUT/report.html)")
    add_junit_flavor_arg(report)
    add_merge_parser(sub)
    importing = sub.add_parser("import", help="turn another tool's config into a plan: import promptfoo CONFIG")
    importing.add_argument("tool", choices=("promptfoo",))
    importing.add_argument("config", metavar="CONFIG", help="e.g. promptfooconfig.yaml")
    importing.add_argument("-o", "--output", metavar="PLAN", help="write the plan here (default: standard output)")
    return parser


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", metavar="DIR", help="the folder include and discover may read from (default: "
                        "the plan's project: the nearest folder above it holding .git or pyproject.toml)")


def main(argv: Sequence[str] | None = None) -> int:
    """`argv` None: the real command line (the `orchestrator` script), which owns the process's
    signals; a list: called in-process (tests), which leaves them alone after the run."""
    owns_signals = argv is None and sys.argv[1:2] == ["run"]
    if owns_signals:
        early_signals.hold()  # a stop signal from now on ends in reports (see early_signals)
    try:
        return _main(argv)
    finally:
        if owns_signals:
            early_signals.ignore()  # exiting now: a late signal must not change the exit code


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage line
        return int(exc.code or 0) and int(ExitCode.USAGE)
    command: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    try:
        with stdout_safe_from_closed_pipe():  # `orchestrator run plan | head` still runs every case
            return command(args)
    except PlanErrors as exc:
        for problem in exc.problems:
            print(_masked(args, str(problem)), file=sys.stderr)
        return ExitCode.USAGE
    except UserError as exc:
        print(_masked(args, f"orchestrator: error: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("orchestrator: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except (InternalError, Exception) as exc:
        print(_masked(args, f"orchestrator: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        if os.environ.get("ORCHESTRATOR_DEBUG"):
            traceback.print_exc()
        else:
            print("(set ORCHESTRATOR_DEBUG=1 for the traceback)", file=sys.stderr)
        return ExitCode.INTERNAL


def _masked(args: argparse.Namespace, text: str) -> str:
    """An error line with the command line's secrets masked (a message can quote a value)."""
    from orchestrator.result.secrets import Masker

    try:
        secrets = secret_values(args) if hasattr(args, "var") else ()
    except UserError:
        secrets = ()
    return Masker(secrets).text(text)


def add_secret_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE",
                        help="a plan variable like --var, its value masked as *** in every report and output")


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


def load(paths: Sequence[str], overrides: dict[str, str], root: str | None = None) -> list[Plan]:
    from orchestrator.plan.load import load_plans

    plans = load_plans(list(paths), overrides, root)
    for plan in plans:
        for warning in plan.warnings:
            print(warning, file=sys.stderr)
    return plans


def cmd_validate(args: argparse.Namespace) -> int:
    if args.format == "github":
        from orchestrator.annotations import validate_github

        return validate_github(args.plans, all_vars(args), args.root)
    from orchestrator.plan.load import check_overrides, load_plan
    from orchestrator.wording import plural

    overrides = all_vars(args)
    failed = False
    plans: list[Plan] = []
    for path in args.plans:  # each file gets its `ok` line or its errors
        try:
            plan = load_plan(path, overrides, args.root)
        except PlanErrors as exc:
            failed = True
            for problem in exc.problems:
                print(_masked(args, str(problem)), file=sys.stderr)
            continue
        plans.append(plan)
        for warning in plan.warnings:
            print(_masked(args, str(warning)), file=sys.stderr)
        print(f"{path}: ok ({plural(len(plan.cases), 'case')}, {plural(len(plan.providers), 'provider')})", flush=True)
    if not failed:
        check_overrides(plans, overrides)  # a --var no plan declares or reads: exit 2 with did-you-mean
    return ExitCode.USAGE if failed else ExitCode.GATE_PASSED


def cmd_list(args: argparse.Namespace) -> int:
    plans = load(args.plans, all_vars(args), args.root)
    print_list(plans, prepare(plans, args, running=False), {p.name: _shown(p) for p in plans})
    return ExitCode.GATE_PASSED


def cmd_schema(args: argparse.Namespace) -> int:
    from orchestrator.plan.schema import plan_schema

    text = json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.markdown:
        from orchestrator.docs_gen import generate

        text = generate()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return ExitCode.GATE_PASSED


def cmd_report(args: argparse.Namespace) -> int:
    from orchestrator.cli_select import read_results
    from orchestrator.report.console import ConsoleReporter
    from orchestrator.report.writers import write_all
    from orchestrator.result.outdir import claimed

    results = Path(args.results)
    run = read_results(results)
    junit = Path(args.junit) if args.junit else None
    html = Path(args.html) if args.html else None
    if junit is None and html is None:
        folder = Path(args.out) if args.out else results.parent
        junit, html = folder / "junit.xml", folder / "report.html"
    with claimed([p.parent for p in (junit, html) if p is not None], "orchestrator report " + str(results)):
        # a run still writing there refuses us (exit 2)
        written = write_all(run, junit, html, None, junit_flavor=args.junit_flavor)
    ConsoleReporter().summary(run, [str(path) for path in written.paths])
    for problem in written.problems:
        print(f"orchestrator: {problem}", file=sys.stderr)
    if not run.complete:
        print(f"orchestrator: {results}: the run did not end; reports marked interrupted, gate failed "
              "(run incomplete)", file=sys.stderr)
    return most_severe(ExitCode.INTERNAL if written.problems else 0,
                       ExitCode.GATE_PASSED if run.gate.passed else ExitCode.GATE_FAILED)


def _init(args: argparse.Namespace) -> int:
    from orchestrator.scaffold import cmd_init

    return cmd_init(args)


def cmd_run(args: argparse.Namespace) -> int:
    from orchestrator.interrupts import Interrupts

    interrupts = Interrupts(timeout_s=_run_timeout(args.timeout)).install()
    try:
        return _run(args, interrupts.stop)
    finally:
        interrupts.restore()


def _run(args: argparse.Namespace, stop: threading.Event) -> int:
    from orchestrator.session import RunSession

    jobs = _jobs(args.jobs)
    limit = max_memory(args)
    plans = load(args.plans, all_vars(args), args.root)
    prepared = prepare(plans, args)
    out = Path(args.out)
    session = RunSession(
        list(prepared.plans), jobs=jobs, quiet=args.quiet, stop=stop, verbose=args.verbose,
        options=dict(auto_jobs=args.jobs == "auto", repeat=args.repeat, fail_fast=args.fail_fast,
                     by_priority=args.order == "priority",
                     max_memory_bytes=limit, unsharded=prepared.unsharded,
                     shard=str(prepared.shard or ""), secrets=secret_values(args),
                     selected_from=prepared.loaded, selection=prepared.selection),
        junit=Path(args.junit) if args.junit else out / "junit.xml",
        html=Path(args.html) if args.html else out / "report.html",
        json=Path(args.json) if args.json else out / "results.json",
        command=masked_command(secret_values(args), plans),
        out=out,
        junit_flavor=args.junit_flavor,
    )
    return session.run()


def masked_command(secrets: Sequence[str], plans: Sequence[Plan]) -> str:
    """The command line as results keep it: each argument masked before quoting, since quoting
    can split a secret ('it'"'"'s')."""
    from orchestrator.result.secrets import Masker

    masker = Masker([*secrets, *(v for plan in plans for v in plan.secret_values(os.environ))])
    return " ".join(shlex.quote(masker.text(a)) for a in ["orchestrator", *sys.argv[1:]])


def _run_timeout(value: str | None) -> float | None:
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


def _jobs(value: str) -> int:
    if value == "auto":
        return 1  # the floor: the engine sizes the jobs from cores and measured memory
    try:
        jobs = int(value)
    except ValueError:
        raise UserError(f"-j takes a number or 'auto', got {value!r}") from None
    if jobs < 1:
        raise UserError(f"-j must be at least 1, got {jobs}")
    return jobs


def _shown(plan: Plan) -> str:
    return plan.cases[0].location.file if plan.cases else str(plan.path)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run, "validate": cmd_validate, "list": cmd_list, "schema": cmd_schema, "report": cmd_report,
    "merge": cmd_merge,
}
COMMANDS["init"] = _init


def _import(args: argparse.Namespace) -> int:
    from orchestrator.importers.promptfoo import cmd_import

    return cmd_import(args)


COMMANDS["import"] = _import
