"""The select and shard stages, shared by `run` and `list` (so `list` shows exactly what `run`
would run, and for every other case why it was left out)."""
from __future__ import annotations

import argparse
from dataclasses import field
from pathlib import Path
from typing import Mapping, Sequence

from orchestrator.errors import UserError
from orchestrator.plan.model import Plan
from orchestrator.plan.select import Selection, select, split_list
from orchestrator.plan.select_check import check_selected, describe, normalised
from orchestrator.plan.shard import Shard, case_key, parse_shard, take_shard
from orchestrator.records import record


@record
class SelectOptions:
    """-k, --tag, --priority, --level, --id as written, and --shard / --durations."""

    written: Selection
    shard: str | None = None
    durations: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SelectOptions:
        written = Selection(k=args.k, tags=split_list(args.tag), priorities=split_list(args.priority),
                            levels=split_list(args.level), ids=tuple(args.ids))
        return cls(written, args.shard or None, Path(args.durations) if args.durations else None)


@record
class Selected:
    """What the selection kept of the loaded plans."""

    plans: tuple[Plan, ...]
    left_out: Mapping[str, Mapping[str, str]]  # plan -> id -> why
    loaded: tuple[Plan, ...] = ()  # the plans before the selection (empty when it left nothing out)
    selection: str = ""  # the selection as options ("--priority P0") when it left cases out


@record
class Prepared:
    plans: tuple[Plan, ...]  # what runs
    unsharded: tuple[Plan, ...] = ()  # the selection before --shard (empty without --shard)
    left_out: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # plan -> id -> why
    shard: Shard | None = None
    loaded: tuple[Plan, ...] = ()  # the plans before the selection (empty when it left nothing out)
    selection: str = ""  # the selection as options ("--priority P0") when it left cases out


def select_stage(plans: Sequence[Plan], options: SelectOptions, *, running: bool = True) -> Selected:
    """`running`: a selection that matches no case is an error (exit 2), checked before sharding
    so that a typo fails every shard; `list` shows it instead."""
    selection = normalised(options.written)
    selected = select(plans, selection)
    if running:
        check_selected(plans, selection, options.written)
    left_out = {name: dict(v) for name, v in selected.left_out.items()}
    partial = any(left_out.values())
    loaded, described = (tuple(plans), describe(options.written)) if partial else ((), "")
    return Selected(tuple(selected.plans), left_out, loaded, described)


def shard_stage(selected: Selected, options: SelectOptions) -> Prepared:
    """`--shard I/N`: this run's part of the selected cases; the rest is left out, saying why."""
    left_out = {name: dict(v) for name, v in selected.left_out.items()}
    if not options.shard:
        if options.durations:
            raise UserError("--durations only balances --shard; give --shard I/N too")
        return Prepared(selected.plans, (), left_out, None, selected.loaded, selected.selection)
    shard = parse_shard(options.shard)
    durations = read_durations(options.durations) if options.durations else None
    mine = take_shard(selected.plans, shard, durations)
    for whole, part in zip(selected.plans, mine):
        kept = {c.id for c in part.cases}
        for case in whole.cases:
            if case.id not in kept:
                left_out.setdefault(whole.name, {})[case.id] = f"in another shard than {shard}"
    return Prepared(mine, selected.plans, left_out, shard, selected.loaded, selected.selection)


def prepare(plans: Sequence[Plan], options: SelectOptions, *, running: bool = True) -> Prepared:
    """select → shard."""
    return shard_stage(select_stage(plans, options, running=running), options)


def read_durations(path: Path) -> dict[str, float]:
    from orchestrator.result.store import read_json

    run = read_json(path)
    return {case_key(c.plan, c.id): c.duration_s for c in run.cases if c.status.ran}
