"""Saving results: `results.json` (the whole run) and the journal (one line per finished case).

`results.json` is what `orchestrator report` and `merge` rebuild reports from, so it must hold
exactly what the run produced, hostile strings included. JSON is written with `ensure_ascii`:
a lone surrogate (from a `surrogateescape` decode of a child's output) then survives as a
`\\ud800` escape instead of crashing the UTF-8 encoder, and reads back as the same string.
"""
from __future__ import annotations

import gc
import json
import os
from enum import Enum
from operator import attrgetter
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from orchestrator.errors import UserError
from orchestrator.records import paused_gc
from orchestrator.result.durable import PathLike as PathLike, atomic_writer as atomic_writer  # the writers' import
from orchestrator.result.journal_texts import TextsOf
from orchestrator.result import model_json
from orchestrator.result.model import READABLE_FORMATS, RESULTS_FORMAT, RunResult, StepResult, field_names, to_jsonable
from orchestrator.result.nonfinite import finite
from orchestrator.result.step_fields import StepFields


def _fallback(value: Any) -> Any:
    # The model promises JSON-safe values; if a provider slipped in something else (bytes, a
    # set), keep its repr rather than losing the whole results file at the end of a run.
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def dumps(data: Any, indent: int | None = None) -> str:
    """JSON that `jq` and browsers accept: NaN and ±Infinity become strings (result/nonfinite)."""
    try:
        return json.dumps(data, ensure_ascii=True, indent=indent, default=_fallback, allow_nan=False)
    except ValueError:
        return json.dumps(finite(to_jsonable(data)), ensure_ascii=True, indent=indent, default=_fallback)


def _model_default(value: Any) -> Any:
    as_dict = _AS_DICT.get(type(value))
    if as_dict is not None:
        return as_dict(value)
    names = field_names(value)
    if names is not None:
        # A model object's attribute dict holds its fields in their declared order (its __init__
        # sets them so; result.decode orders what it reads), and nothing else (frozen): it is
        # what a dict built field by field would be, without building one per object.
        out = getattr(value, "__dict__", None)  # None for the slotted classes (records.record)
        if out is None:
            as_dict = _AS_DICT[type(value)] = _slotted_as_dict(type(value), names)
            return as_dict(value)
        if len(out) != len(names):
            out = {name: getattr(value, name) for name in names}
        if type(value) is StepResult:  # its fields as their dict: no second call back per step
            out = {**out, "fields": value.fields.as_json()}
        return out
    if isinstance(value, StepFields):
        return value.as_json()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    return _fallback(value)


# A slotted model class's fields as a dict, by one C call for all its values (attrgetter) instead
# of a getattr per field: results.json of 1,000 trivial cases 21 -> ~11 ms.
_AS_DICT: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _slotted_as_dict(cls: type, names: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    values: Callable[[Any], Any] = (attrgetter(*names) if len(names) > 1 else
                                    (lambda v: (getattr(v, names[0]),)) if names else (lambda v: ()))
    if cls is StepResult:
        def step_as_dict(value: Any) -> dict[str, Any]:
            out = dict(zip(names, values(value)))
            out["fields"] = value.fields.as_json()  # its fields as their dict: no second call back per step
            return out
        return step_as_dict
    return lambda value: dict(zip(names, values(value)))


_model_encoder = json.JSONEncoder(ensure_ascii=True, default=_model_default, allow_nan=False)


def encode(value: Any) -> str:
    """Compact JSON of a result-model object; the same text as `dumps(to_jsonable(value))`.

    The C encoder walks the tree and calls back only for dataclasses, which is several times
    faster than building the dict tree first (1.3 s -> 0.3 s for 10,000 cases).
    """
    written = model_json.text(value)  # the model's records, written without the encoder's callbacks
    if written is not None:
        return written
    try:
        return _model_encoder.encode(value)
    except (TypeError, ValueError):  # a key json cannot take (a tuple, say), or a NaN: the slow, lenient path
        return dumps(to_jsonable(value))


def run_json_chunks(run: RunResult) -> Iterator[str]:
    """`results.json` text (the run's fields, flake and usage summaries included) in pieces: the
    run's own fields around the cases, then one case at a time, so a 10,000-case run is never
    one 15 MB string (and its bytes) at once."""
    head, tail = _around_cases(run)
    yield head + "["
    cases = run.cases
    for start in range(0, len(cases), _CASES_AT_ONCE):
        yield (", " if start else "") + _encode_items(cases[start:start + _CASES_AT_ONCE])
    yield "]" + tail


def _around_cases(run: RunResult) -> tuple[str, str]:
    """The text of `results.json` before its list of cases, and after it."""
    from orchestrator.result.flake import flake_summary
    from orchestrator.result.usage import usage_summary

    names = field_names(run) or ()
    marker = f"cases-go-here-{os.urandom(16).hex()}"  # not uuid: it imports platform (~2 ms)
    shell: dict[str, Any] = {**{name: getattr(run, name) for name in names}, "flake": flake_summary(run),
                             "usage": usage_summary(run)}
    shell["format"] = RESULTS_FORMAT  # what this writer writes, whatever format the run was read from
    shell["cases"] = marker  # keeps its place among the keys
    shell["complete"] = shell.pop("complete")  # the completion mark comes last in the file
    head, _, tail = encode(shell).partition(json.dumps(marker))
    return head, tail


# Cases encoded a slice at a time: one encoder call per case cost ~4 us of its set-up, and a
# slice's text (~1 KB a trivial case) stays small.
_CASES_AT_ONCE = 64


def _encode_items(items: Sequence[Any]) -> str:
    """`", ".join(encode(item) for item in items)`, in one call to the encoder where it can."""
    try:
        return _model_encoder.encode(list(items))[1:-1]  # "[a, b]" -> "a, b": json's default separators
    except (TypeError, ValueError):  # one item needs the lenient path: the others do not
        return ", ".join([encode(item) for item in items])


def _case_bytes(cases: Sequence[Any], texts: TextsOf, at: int) -> bytes:
    """`_encode_items(cases)` as UTF-8, each case's text taken from `texts` where it has it (the
    journal's: result/journal_texts), the others encoded here, a run of them at a time. `at`:
    where `cases` begin among the run's."""
    known = texts(cases, at)
    if isinstance(known, bytes):  # all of them, joined
        return known
    parts: list[bytes] = []
    n = 0
    while n < len(cases):
        text = known[n]
        if text is not None:
            parts.append(text)
            n += 1
            continue
        end = n + 1
        while end < len(cases) and known[end] is None:
            end += 1
        parts.append(_encode_items(cases[n:end]).encode("utf-8"))
        n = end
    return b", ".join(parts)


def write_json(run: RunResult, path: PathLike, texts: TextsOf | None = None) -> None:
    """Save the whole run as `results.json` (atomically, streamed). `texts`: where the cases'
    JSON texts already are (the journal's), so that they need not be encoded again; the bytes
    written are the same either way."""
    with atomic_writer(path) as fh:
        if texts is None:
            for chunk in run_json_chunks(run):
                fh.write(chunk.encode("utf-8"))
        else:
            head, tail = _around_cases(run)
            fh.write((head + "[").encode("utf-8"))
            cases = run.cases
            for start in range(0, len(cases), _CASES_AT_ONCE):
                fh.write((b", " if start else b"") + _case_bytes(cases[start:start + _CASES_AT_ONCE], texts, start))
            fh.write(("]" + tail).encode("utf-8"))
        fh.write(b"\n")


def read_json(path: PathLike) -> RunResult:
    """Load a run saved by `write_json`; any problem with the file is a `UserError`."""
    from orchestrator.result.decode import run_from_json  # here: a run writes results and reads none

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such results file") from None
    except IsADirectoryError:
        raise UserError(f"{p}: is a directory, not a results file") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{p}: not a results file (not UTF-8 text: {e.reason})") from None
    except OSError as e:
        raise UserError(f"{p}: cannot read results file: {e.strerror or e}") from None
    try:
        with paused_gc():
            data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"{p}:{e.lineno}:{e.colno}: not a results file (invalid JSON: {e.msg})") from None
    if not isinstance(data, dict) or "cases" not in data or "format" not in data:
        raise UserError(f"{p}: not an orchestrator results file (no 'format' and 'cases' keys)")
    if data["format"] not in READABLE_FORMATS:
        raise UserError(f"{p}: results format {data['format']!r}; this orchestrator reads formats "
                        f"{', '.join(map(str, READABLE_FORMATS))} (it writes {RESULTS_FORMAT})")
    try:
        with paused_gc():
            run = run_from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UserError(f"{p}: corrupt results file ({type(e).__name__}: {e})") from None
    del data, text
    # The run stays until the command ends: out of the collector's sight (as records.long_lived),
    # but without its young-generation pass: the collector was paused, so every object just read
    # is "young" and that pass rescanned them all (~70 ms at 10,000 cases) to find cycles that
    # json.loads and the decoder never make.
    gc.freeze()
    return run
