"""Secrets never reach a report: every secret value is replaced by `***` in the results.

Masking happens once, where results are made (the engine masks each case as it finishes and
the run as it is built), so every report, the console, the journal, GitHub annotations and the
stored command line only ever see masked text. A value is masked as written and in the forms it
takes inside other text: JSON- and Python-escaped (a repr in an assertion message), URL- and
shell-quoted.

Secrets are the values of `--secret NAME=VALUE`, of `--var` whose name contains one of
SECRET_NAME_PARTS (case-insensitive), and of the environment variables a plan lists in `secrets`.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import replace
from typing import Any, Iterable, Mapping
from urllib.parse import quote, quote_plus

from orchestrator.result.model import field_names

MASK = "***"
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "PRIVATE", "KEY",
                     "AUTH", "COOKIE")
# Model fields holding whatever a step measured or an assertion compared, numbers included. Numbers
# anywhere else (durations, lines, pids, the gate spec that `merge` reads back) are never masked.
_FREE_FIELDS = frozenset({"expected", "actual", "fields"})


def looks_secret(name: str) -> bool:
    """Whether a `--var` of this name is masked like a `--secret`."""
    upper = name.upper()
    return any(part in upper for part in SECRET_NAME_PARTS)


def _forms(value: str) -> set[str]:
    """The value and the escaped forms it takes when written into other text."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1],
             quote(value, safe=""), quote_plus(value), shlex.quote(value)}
    forms.add(value.replace("\\", "\\\\").replace("'", "\\'"))  # repr's escaping in either quote style
    forms.add(value.replace("\\", "\\\\").replace('"', '\\"'))
    return {f for f in forms if f}


# Where long text was cut (worker output, a result's strings, an HTTP body, a field trimmed for the
# report) a secret may stand half before the cut and half after it: those halves are masked too.
_CUT = re.compile(r"\n\[(?:… |body truncated: )[^\n]*\]\n?")
_MIN_FRAGMENT = 3  # shorter pieces of a secret are left: they would mask ordinary text beside every cut


class Masker:
    """Replaces secret values by MASK in text and in result-model values (dataclasses, dicts,
    lists); returns the very same object when there is nothing to mask."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = {form for s in secrets if s for form in _forms(s)}
        self._fragmentable = sorted((f for f in forms if len(f) > _MIN_FRAGMENT), key=len, reverse=True)
        # Longest first, so that a secret containing another is masked whole.
        self._pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))) \
            if forms else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        masked = self._pattern.sub(MASK, text)
        return self._cut_pieces_masked(masked) if "truncated" in masked else masked

    def _cut_pieces_masked(self, text: str) -> str:
        """The text with each secret's beginning masked where it ends the text before a cut, and
        each secret's end where it starts the text after one."""
        out: list[str] = []
        last = 0
        for cut in _CUT.finditer(text):
            before = text[last:cut.start()]
            if last:
                before = self._start_masked(before)
            out += [self._end_masked(before), cut.group()]
            last = cut.end()
        if not last:
            return text
        out.append(self._start_masked(text[last:]))
        return "".join(out)

    def _end_masked(self, text: str) -> str:
        for form in self._fragmentable:
            for size in range(min(len(form) - 1, len(text)), _MIN_FRAGMENT - 1, -1):
                if text.endswith(form[:size]):
                    return text[:-size] + MASK
        return text

    def _start_masked(self, text: str) -> str:
        for form in self._fragmentable:
            for size in range(min(len(form) - 1, len(text)), _MIN_FRAGMENT - 1, -1):
                if text.startswith(form[-size:]):
                    return MASK + text[size:]
        return text

    def value(self, value: Any, free: bool = False) -> Any:
        """`value` with every secret masked. Numbers are masked (as the string MASK) only where a
        value of any type may stand (`free`): never a duration, a line or a pid of the model."""
        if self._pattern is None:
            return value
        cls = type(value)
        if cls is str:
            return self.text(value)
        if cls in (int, float) and free:
            text = str(value)
            return MASK if self._pattern.search(text) else value
        if cls is dict or (isinstance(value, Mapping) and field_names(value) is None):
            items = [(self.value(k) if type(k) is str else k, self.value(v, free)) for k, v in value.items()]
            if all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, value.items())):
                return value
            return dict(items)
        if cls is list or cls is tuple:
            masked = [self.value(v, free) for v in value]
            if all(m is v for m, v in zip(masked, value)):
                return value
            return cls(masked)
        names = field_names(value)
        if names is not None:
            changes = {}
            for name in names:
                old = getattr(value, name)
                new = self.value(old, name in _FREE_FIELDS)
                if new is not old:
                    changes[name] = new
            return replace(value, **changes) if changes else value
        return value
