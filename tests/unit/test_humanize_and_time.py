"""rclone's number and time formats, checked against values rclone prints."""

from __future__ import annotations

import time

import pytest

from syncer.humanize import count_suffix, size_suffix
from syncer.listing import LocalTime


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (5, "5 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (3009, "2.938 KiB"),
        (1 << 20, "1 MiB"),
        (3465000, "3.304 MiB"),
        (5 << 40, "5 TiB"),
    ],
)
def test_size_suffix(value: int, text: str) -> None:
    assert size_suffix(value) == text


@pytest.mark.parametrize(("value", "text"), [(0, "0"), (889, "889"), (1235, "1.235k"), (10000, "10k")])
def test_count_suffix(value: int, text: str) -> None:
    assert count_suffix(value) == text


def test_local_time_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        clock = LocalTime()
        ns = 1_600_000_000_000_000_123
        assert clock.seconds(ns) == "2020-09-13 12:26:40"
        assert clock.nanos(ns) == "2020-09-13 12:26:40.000000123"
        assert clock.rfc3339(ns) == "2020-09-13T12:26:40.000000123Z"
        monkeypatch.setenv("TZ", "CET-1")
        time.tzset()
        assert LocalTime().rfc3339(ns) == "2020-09-13T13:26:40.000000123+01:00"
        # before 1970: divmod keeps the nanoseconds positive
        assert LocalTime().nanos(-1) == "1970-01-01 00:59:59.999999999"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
