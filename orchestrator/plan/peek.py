"""A guess at a plan's one Python provider, from the head of its file, before the plan is loaded.

`run` starts that provider's worker while the plan loads (run/early_worker): its interpreter
boots on the core the loading leaves idle, held before it imports the provider. Only a guess:
nothing here is validated, and the worker is used only if the loaded plan gives its provider
the very process this guess started (same plan name, file, function, directory, no interpreter
or environment of its own); otherwise it is stopped, having run nothing of the provider.

The file's parser events are read up to its `cases` key, so a big plan is not parsed twice; a
plan whose head holds anything this guess would have to interpret (an `env`, an `include`,
templates, anchors, tags) gives no guess.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import yaml
from yaml.events import (AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
                         SequenceStartEvent)

from orchestrator.plan.python_files import split_python
from orchestrator.plan.yaml_c import FAST_LOADER
from orchestrator.records import record

_MOST_EVENTS = 2000  # a head longer than this (a big section before `cases`) is not worth a guess
_DEEPEST = 4
_MOST_BYTES = 64 << 20


@record
class Guess:
    plan: str  # the plan's name
    provider: str
    python_file: str  # resolved, as the loader resolves it
    function: str
    cwd: str  # the plan file's directory, as the loader gives it


class _NoGuess(Exception):
    pass


def python_provider(path: str) -> Guess | None:
    """The guess for the plan file at `path`; None when there is none to make."""
    if FAST_LOADER is None:
        return None
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > _MOST_BYTES:
            return None  # a pipe cannot be read twice; a huge file is the loader's to refuse
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        return _guess(text, Path(path))
    except (_NoGuess, OSError, ValueError, yaml.YAMLError, StopIteration):
        return None


def _guess(text: str, path: Path) -> Guess | None:
    events = _bounded(yaml.parse(text, Loader=FAST_LOADER))
    for _ in range(2):  # stream start, document start
        next(events)
    if not isinstance(next(events), MappingStartEvent):
        return None
    head: dict[str, Any] = {}
    while True:
        key = next(events)
        if isinstance(key, MappingEndEvent):
            break
        name = _scalar(key)
        if name == "cases":
            break
        if name in ("env", "include") or name in head:
            return None  # they change what a provider gets, or the loader refuses it anyway
        head[name] = _value(events, 0)
    providers = head.get("providers")
    if not isinstance(head.get("name"), str) or not isinstance(providers, dict):
        return None
    python = [(pid, spec) for pid, spec in providers.items() if isinstance(spec, dict) and "python" in spec]
    if len(python) != 1:
        return None
    pid, spec = python[0]
    if not isinstance(spec["python"], str) or not isinstance(spec.get("function", ""), str):
        return None
    file_name, function = split_python(spec["python"])
    return Guess(plan=head["name"], provider=pid, python_file=str((path.parent / file_name).resolve()),
                 function=function, cwd=str(Path(os.path.abspath(path)).parent))


def _bounded(events: Iterator[Any]) -> Iterator[Any]:
    for count, event in enumerate(events):
        if count >= _MOST_EVENTS or isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise _NoGuess
        yield event


def _scalar(event: Any) -> str:
    """A scalar's text (a tag, a template: no guess)."""
    if not isinstance(event, ScalarEvent) or event.tag is not None or not any(event.implicit):
        raise _NoGuess
    if "{{" in event.value or "{%" in event.value:
        raise _NoGuess
    return str(event.value)


def _value(events: Iterator[Any], depth: int) -> Any:
    event = next(events)
    if depth > _DEEPEST:
        raise _NoGuess
    if isinstance(event, ScalarEvent):
        return _scalar(event)
    if isinstance(event, SequenceStartEvent):
        items = []
        while not isinstance(event := next(events), SequenceEndEvent):
            items.append(_value(_pushed_back(event, events), depth + 1))
        return items
    if isinstance(event, MappingStartEvent):
        mapping: dict[str, Any] = {}
        while not isinstance(event := next(events), MappingEndEvent):
            mapping[_scalar(event)] = _value(events, depth + 1)
        return mapping
    raise _NoGuess


def _pushed_back(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
