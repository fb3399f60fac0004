"""The argument parser of every command (`orchestrator --help`)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Callable

from orchestrator import __version__

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]  # what `add_subparsers` returns


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; `command`: only that command's, when it is one (`orchestrator run
    ...` parses exactly as with all of them, and building the other eight cost ~2 ms a start)."""
    parser = argparse.ArgumentParser(prog="orchestrator", description=(
        "Run YAML test plans against persistent provider pools; write JUnit, HTML and JSON reports."))
    parser.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, add in _COMMANDS.items():
        if command not in _COMMANDS or command == name:
            add(sub)
    return parser


class _Version(argparse.Action):
    """argparse's own version action drops a failed write of the version silently (exit 0);
    here a version that cannot be printed (`> /dev/full`) is said, and the exit code is 3."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 _option_string: str | None = None) -> None:
        try:
            sys.stdout.write(f"orchestrator {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # `orchestrator --version | true`: the reader wanted none of it
            parser.exit(0)
        except OSError as exc:
            from orchestrator.cli.pipes import say_output_lost

            say_output_lost(exc, output_is_result=True)
            parser.exit(3)
        parser.exit(0)


def _add_run_parser(sub: Commands) -> None:
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


def _add_validate_parser(sub: Commands) -> None:
    validate = sub.add_parser("validate", help="check plans; print every error as FILE:LINE:COL: message")
    validate.add_argument("plans", nargs="+", metavar="PLAN")
    validate.add_argument("--var", action="append", default=[], metavar="KEY=VALUE")
    add_secret_arg(validate)
    validate.add_argument("--format", choices=("text", "github"), default="text",
                          help="github: print ::error file=F,line=L,col=C::message annotations (GitHub Actions)")
    _add_root(validate)


def _add_list_parser(sub: Commands) -> None:
    listing = sub.add_parser("list", help="the cases that would run, after expansion")
    listing.add_argument("plans", nargs="+", metavar="PLAN")
    listing.add_argument("--var", action="append", default=[], metavar="KEY=VALUE")
    add_secret_arg(listing)
    add_selection_args(listing)
    _add_root(listing)


def _add_schema_parser(sub: Commands) -> None:
    schema = sub.add_parser("schema", help="print the JSON Schema of the plan format")
    schema.add_argument("--output", "-o", help="write it to this file instead")
    schema.add_argument("--markdown", action="store_true", help="the plan reference (docs/reference.md) instead")


def _add_init_parser(sub: Commands) -> None:
    init = sub.add_parser("init", help="write a starter plan.yaml and providers/echo.py that pass at once")
    init.add_argument("folder", nargs="?", default=".", help="where (default: the current folder)")
    init.add_argument("--name", help="the plan's name (default: the folder's name)")


def _add_report_parser(sub: Commands) -> None:
    report = sub.add_parser("report", help="re-render reports from a results file without re-running")
    report.add_argument("results", metavar="RESULTS.json", help="a results file, or the journal "
                        "(results.journal.jsonl) of a run that was killed")
    report.add_argument("--out", help="folder for junit.xml and report.html (default: the results file's folder)")
    report.add_argument("--junit", help="JUnit XML file (default: OUT/junit.xml)")
    report.add_argument("--html", help="HTML report (default: OUT/report.html)")
    add_junit_flavor_arg(report)


def _add_import_parser(sub: Commands) -> None:
    importing = sub.add_parser("import", help="turn another tool's config into a plan: import promptfoo CONFIG")
    importing.add_argument("tool", choices=("promptfoo",))
    importing.add_argument("config", metavar="CONFIG", help="e.g. promptfooconfig.yaml")
    importing.add_argument("-o", "--output", metavar="PLAN", help="write the plan here (default: standard output)")


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", metavar="DIR", help="the folder include and discover may read from (default: "
                        "the plan's project: the nearest folder above it holding .git or pyproject.toml)")


def add_secret_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE",
                        help="a plan variable like --var, its value masked as *** in every report and output")


def add_selection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", dest="k", metavar="EXPR",
                        help="cases whose id, name or tags match: words with and/or/not/() (as pytest -k)")
    parser.add_argument("--tag", action="append", default=[], help="cases with this tag (repeatable, or a,b)")
    parser.add_argument("--priority", action="append", default=[], help="cases of these priorities: P0,P1")
    parser.add_argument("--level", action="append", default=[], help="cases of these levels: unit,e2e")
    parser.add_argument("--id", action="append", default=[], dest="ids", metavar="ID",
                        help="this case id or glob (repeatable)")
    parser.add_argument("--shard", metavar="I/N", help="run only part I of N (deterministic, balanced)")
    parser.add_argument("--durations", metavar="RESULTS.json",
                        help="balance --shard by the case durations of an earlier run")


# report/junit_strict.FLAVORS, written out: importing it imports ElementTree at every start
# (tests/unit/test_startup_imports.py checks that the two agree).
JUNIT_FLAVORS = ("default", "strict")


def add_junit_flavor_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--junit-flavor", choices=JUNIT_FLAVORS, default="default",
                        help="default: what Jenkins' junit step, GitLab and GitHub actions read (file/line, "
                             "per-test properties); strict: valid against the Jenkins xUnit and Maven Surefire "
                             "XSDs (labels move into system-out)")


def add_run_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=_positive, metavar="N", help="run every case N times (flake hunting)")
    parser.add_argument("--fail-fast", action="store_true", help="stop after the first failed or errored case")
    parser.add_argument("--order", choices=("plan", "priority"), default="plan",
                        help="plan: cases start in plan order (the default); priority: P0 first, then P1 ..., "
                             "plan order within each")
    parser.add_argument("--max-memory", metavar="SIZE",
                        help="hold new cases back while the run's processes use more than this (e.g. 8GiB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print each step and failed assertion")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_merge_parser(sub: Commands) -> None:
    merge = sub.add_parser("merge", help="combine the results of --shard runs into one run's reports")
    merge.add_argument("results", nargs="+", metavar="RESULTS.json")
    merge.add_argument("--json", required=True, help="the merged JSON results file")
    merge.add_argument("--junit", help="JUnit XML file")
    merge.add_argument("--html", help="HTML report")
    add_junit_flavor_arg(merge)


# In `orchestrator --help`'s order.
_COMMANDS: dict[str, Callable[[Commands], None]] = {
    "run": _add_run_parser, "validate": _add_validate_parser, "list": _add_list_parser,
    "schema": _add_schema_parser, "init": _add_init_parser, "report": _add_report_parser,
    "merge": add_merge_parser, "import": _add_import_parser}
