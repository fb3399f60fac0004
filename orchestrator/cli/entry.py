"""`orchestrator COMMAND`: parse, dispatch, and the one place exceptions become exit codes
(plan and usage errors 2, Ctrl-C 130, our bugs 3); what commands finish with goes through
cli/verdict.py."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from orchestrator.cli import early_signals
from orchestrator.cli.options import masked
from orchestrator.cli.parser import build_parser
from orchestrator.cli.pipes import stdout_safe_from_closed_pipe
from orchestrator.errors import ExitCode, PlanErrors, UserError

Command = Callable[[argparse.Namespace], int]


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
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(given[0] if given else None)  # only the command's own arguments, when it names one
    try:
        args = parser.parse_args(given)
    except SystemExit as exc:  # argparse has printed its usage line (or --version could not print)
        return int(exc.code or 0) and int(ExitCode.INTERNAL if exc.code == ExitCode.INTERNAL else ExitCode.USAGE)
    command = command_for(args.command)
    try:
        # `orchestrator run plan | head` still runs every case; `list`, `schema` and `import` (without
        # -o) print their result
        printed = args.command in ("list", "schema") or args.command == "import" and not getattr(args, "output", None)
        with stdout_safe_from_closed_pipe(output_is_result=printed) as stdout:
            code = command(args)
        return ExitCode.INTERNAL if stdout is not None and stdout.lost is not None and stdout.output_is_result \
            else code
    except PlanErrors as exc:
        for problem in exc.problems:
            print(masked(args, str(problem)), file=sys.stderr)
        return ExitCode.USAGE
    except UserError as exc:
        print(masked(args, f"orchestrator: error: {exc}"), file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("orchestrator: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:
        print(masked(args, f"orchestrator: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        if os.environ.get("ORCHESTRATOR_DEBUG"):
            import traceback  # here: only a bug of ours needs it (with textwrap, ~2 ms of every start)

            traceback.print_exc()
        else:
            print("(set ORCHESTRATOR_DEBUG=1 for the traceback)", file=sys.stderr)
        return ExitCode.INTERNAL


def command_for(name: str) -> Command:
    """The command's function, imported only when it runs (start-up stays light)."""
    if name == "run":
        from orchestrator.cli.run import cmd_run

        return cmd_run
    if name in ("validate", "list", "schema"):
        from orchestrator.cli import plans

        return {"validate": plans.cmd_validate, "list": plans.cmd_list, "schema": plans.cmd_schema}[name]
    if name in ("report", "merge"):
        from orchestrator.cli import results

        return results.cmd_report if name == "report" else results.cmd_merge
    if name == "init":
        from orchestrator.cli.scaffold import cmd_init

        return cmd_init
    from orchestrator.importers.promptfoo import cmd_import

    return cmd_import
