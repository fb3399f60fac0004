from __future__ import annotations

import pytest

from orchestrator.plan.units import parse_duration, parse_size


@pytest.mark.parametrize("value, seconds", [
    (30, 30.0), (1.5, 1.5), (0, 0.0), ("250ms", 0.25), ("5s", 5.0), ("1.5s", 1.5), ("2m", 120.0),
    ("1h", 3600.0), (" 10s ", 10.0), ("30", 30.0),
])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value, message", [
    ("5 minutes", "invalid duration '5 minutes': use seconds (30) or a string like 250ms, 5s, 2m, 1h"),
    ("", "invalid duration '': use seconds (30) or a string like 250ms, 5s, 2m, 1h"),
    (True, "invalid duration true: use seconds (30) or a string like 250ms, 5s, 2m, 1h"),
    (-1, "invalid duration -1: must be >= 0; use seconds (30) or a string like 250ms, 5s, 2m, 1h"),
    ([1], "invalid duration [1]: use seconds (30) or a string like 250ms, 5s, 2m, 1h"),
])
def test_bad_durations(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


@pytest.mark.parametrize("value, size", [
    (1024, 1024), ("512MiB", 512 * 2**20), ("2GiB", 2 * 2**30), ("500MB", 500 * 10**6), ("10KB", 10_000),
    ("1KiB", 1024), ("1.5GiB", 3 * 2**29), ("100B", 100), ("7", 7),
])
def test_sizes(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value, message", [
    ("2 gigs", "invalid size '2 gigs': use bytes (1048576) or a string like 512MiB, 2GiB, 500MB"),
    ("2gib", "invalid size '2gib': use bytes (1048576) or a string like 512MiB, 2GiB, 500MB"),
    (-5, "invalid size -5: must be >= 0; use bytes (1048576) or a string like 512MiB, 2GiB, 500MB"),
])
def test_bad_sizes(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(value)
    assert str(caught.value) == message
