"""Reading the JUnit XML file a test runner wrote (an `exec` step's `junit:`) into InnerTests.

pytest (`--junitxml`), JUnit/Surefire, go-junit-report and most runners write the same shape:
`<testcase classname name time [file line]>` with a `<failure>`, `<error>` or `<skipped>` child.
Where the file gives no `file`/`line` (pytest's default xunit2 family), the test's module is
found from its classname and the line from its `def`; pytest's own `line` is 0-based.
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from orchestrator.records import record
from orchestrator.result.model import AssertionResult, InnerTest, Status

MAX_DETAILS = 16 * 1024  # characters of one test's failure text kept in results.json
FILE_DETAILS_BUDGET = 1024 * 1024  # ... and of all of one file's: a suite of 10,000 failures stays small
_OUTCOMES = (("failure", Status.FAILED), ("error", Status.ERROR), ("skipped", Status.SKIPPED))


class JUnitInputError(Exception):
    """The file is missing, was not written by this step, or is not JUnit XML."""


@record
class Where:
    """Where to look for test files and how to show their paths."""

    cwd: Path  # the process's working directory: runners write paths relative to it or its parents
    relative_to: Path | None  # show paths relative to this folder; None: absolute


def read_junit(path: Path, where: Where) -> tuple[InnerTest, ...]:
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise JUnitInputError(f"no JUnit file at {path}: the command did not write it") from None
    except (ET.ParseError, OSError, ValueError) as exc:
        raise JUnitInputError(f"{path} is not readable JUnit XML: {exc}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitInputError(f"{path} is not JUnit XML: its root is <{root.tag}>")
    tests: list[InnerTest] = []
    budget = FILE_DETAILS_BUDGET
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        zero_based = suite.get("name") == "pytest"
        for case in suite.findall("testcase"):
            test = _test(case, where, zero_based)
            if len(test.details) > budget:
                test = replace(test, details=test.details[:budget] + "\n[... cut: the file's failure texts "
                                                                    "exceeded 1 MiB]" if budget else "")
            budget = max(0, budget - len(test.details))
            tests.append(test)
    return tuple(tests)


def _test(case: ET.Element, where: Where, zero_based: bool) -> InnerTest:
    name, classname = case.get("name", ""), case.get("classname", "")
    status, message, details = Status.PASSED, "", ""
    for tag, outcome in _OUTCOMES:
        child = case.find(tag)
        if child is not None:
            status = outcome
            text = (child.text or "").strip()
            message = (child.get("message") or text).strip()
            details = text if message.splitlines()[:1] == text.splitlines()[:1] else f"{message}\n{text}".strip()
            break
    found = _source(case.get("file"), classname, where.cwd)
    line = _line(case.get("line"), zero_based) if case.get("line") else None
    if line is None and found is not None:
        line = _def_line(found, name)
    return InnerTest(name=_display_name(name, classname, found), status=status,
                     duration_s=_float(case.get("time")), classname=classname,
                     file=_shown(found, where) if found else (case.get("file") or ""), line=line,
                     message=message.splitlines()[0] if message else "", details=details[-MAX_DETAILS:])


def _display_name(name: str, classname: str, source: Path | None) -> str:
    """`TestUpper::test_x[1]`: the class path inside the module, then the test, as pytest ids do."""
    parts = [p for p in classname.split(".") if p]
    stem = source.stem if source is not None else None
    if stem is not None and stem in parts:
        inside = parts[len(parts) - parts[::-1].index(stem):]
    else:  # by convention modules are lower case and classes CapWords
        inside = []
        for part in reversed(parts):
            if not part[:1].isupper():
                break
            inside.insert(0, part)
    return "::".join([*inside, name]) if name else "::".join(inside) or classname


def _source(file: str | None, classname: str, cwd: Path) -> Path | None:
    """The test's file: as written (relative to the cwd or one of its parents: runners write it
    relative to their root folder), else the module its classname names."""
    candidates: list[str] = []
    if file:
        candidates.append(file)
    parts = [p for p in classname.split(".") if p]
    candidates.extend(os.path.join(*parts[:n]) + ".py" for n in range(len(parts), 0, -1))
    for candidate in candidates:
        if os.path.isabs(candidate):
            if os.path.isfile(candidate):
                return Path(candidate)
            continue
        for folder in (cwd, *cwd.parents):
            target = folder / candidate
            if target.is_file():
                return target.resolve()
    return None


def _shown(path: Path, where: Where) -> str:
    if where.relative_to is None or not path.is_relative_to(where.relative_to):
        return str(path)
    return os.path.relpath(path, where.relative_to)


def _line(value: str | None, zero_based: bool) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number + 1 if zero_based else number if number > 0 else None


def _def_line(path: Path, name: str) -> int | None:
    function = re.escape(name.split("[", 1)[0])
    pattern = re.compile(rf"^\s*(?:async\s+)?def\s+{function}\s*\(")
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, 1):
                if pattern.match(text):
                    return number
    except OSError:
        return None
    return None


def _float(value: str | None) -> float:
    try:
        seconds = float((value or "0").replace(",", ""))
    except ValueError:
        return 0.0
    return seconds if seconds >= 0 else 0.0


def summary(tests: tuple[InnerTest, ...]) -> dict[str, int]:
    """The counts an `expr:` reads as `tests.total`, `tests.failed` …"""
    counts = {"total": len(tests), "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for test in tests:
        counts[{Status.FAILED: "failed", Status.ERROR: "errors", Status.SKIPPED: "skipped"}.get(test.status, "passed")] += 1
    return counts


class JUnitFile:
    """An exec's `junit:` file: noted before the command runs, read after, judged as a check."""

    def __init__(self, path: Path, where: Where) -> None:
        self.path, self.where = path, where
        self._before = _stamp(path)  # a file left from an earlier run must not pass for this one

    def collect(self, step_failed: bool) -> tuple[tuple[InnerTest, ...], tuple[AssertionResult, ...], dict[str, int]]:
        """(tests, the step's `junit` check, counts). No check when the step already failed to
        run (timeout, crash): that error explains a missing file better than a second failure."""
        try:
            if self._before is not None and _stamp(self.path) == self._before:
                raise JUnitInputError(f"{self.path} was not rewritten by the command (it is left from before)")
            tests = read_junit(self.path, self.where)
        except JUnitInputError as exc:
            if step_failed:
                return (), (), summary(())
            return (), (self._check(False, str(exc), None),), summary(())
        counts = summary(tests)
        bad = [t for t in tests if t.status in (Status.FAILED, Status.ERROR)]
        if not tests:
            return tests, (self._check(False, f"{self.path} reports no tests", counts),), counts
        if not bad:
            return tests, (self._check(True, "", counts),), counts
        first = bad[0]
        where = f" ({first.file}:{first.line})" if first.file and first.line else ""
        message = (f"{len(bad)} of {len(tests)} tests {'failed' if counts['errors'] == 0 else 'failed or errored'}: "
                   f"{first.name}{where}" + (f" — {first.message}" if first.message else "")
                   + (f" (and {', '.join(t.name for t in bad[1:4])}{' …' if len(bad) > 4 else ''})" if len(bad) > 1 else ""))
        return tests, (self._check(False, message, counts),), counts

    def _check(self, passed: bool, message: str, counts: dict[str, int] | None) -> AssertionResult:
        return AssertionResult(kind="junit", passed=passed, expected={"failed": 0, "errors": 0, "total": ">= 1"},
                               actual=counts, on="tests", message=message)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
