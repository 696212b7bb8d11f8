"""FilterOptions, rclone's size and age syntax, size/age limits, --files-from, --exclude-if-present, and the
Filter's walker-facing API. Sizes, ages and dump texts were checked against rclone v1.75.2."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from filters import (
    Filter,
    FilterError,
    FilterOptions,
    format_size,
    parse_duration,
    parse_files_from,
    parse_size,
)

KiB, MiB, GiB = 1024, 1024**2, 1024**3

# (text, bytes or None for "off"): rclone's SizeSuffix - a plain number is KiB
SIZES = [
    ("0", 0),
    ("0b", 0),
    ("1023b", 1023),
    ("1025b", 1025),
    ("100", 100 * KiB),
    ("1.5", 1536),
    ("100k", 100 * KiB),
    ("100K", 100 * KiB),
    ("1M", MiB),
    ("1.5M", 1536 * KiB),
    ("1.5G", 1536 * MiB),
    ("5G", 5 * GiB),
    ("1T", 1024**4),
    ("1P", 1024**5),
    ("1E", 1024**6),
    ("1KiB", KiB),
    ("1Kib", KiB),
    ("1ki", KiB),
    ("1Mi", MiB),
    ("1B", 1),
    ("1b", 1),
    (".5k", 512),
    ("1e3", 1000 * KiB),
    ("1_000", 1000 * KiB),
    ("+5", 5 * KiB),
    ("1.0000001k", KiB),
    ("3.7b", 3),
    ("off", None),
    ("OFF", None),
]


@pytest.mark.parametrize(("text", "expected"), SIZES)
def test_parse_size(text: str, expected: int | None) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty string"),
        ("-1", "negative"),
        ("1kb", "not a number"),
        ("1i", "bad suffix '1'"),
        ("1x", "bad suffix 'x'"),
        (" 1k", "not a number"),
        ("1k5", "not a number"),
        ("inf", "bad suffix 'f'"),
        ("NaN", "bad suffix 'N'"),
        ("0x10", "not a number"),
        ("1 k", "not a number"),
    ],
)
def test_parse_size_errors(text: str, reason: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_size(text)
    assert str(info.value).startswith(f'invalid size "{text}"') and reason in str(info.value)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1025, "1.001 KiB"),
        (100 * KiB, "100 KiB"),
        (1536 * KiB, "1.500 MiB"),
        (5 * GiB, "5 GiB"),
        (1024**4, "1 TiB"),
        (1024**5, "1 PiB"),
        (1024**6, "1 EiB"),
    ],
)
def test_format_size_is_rclones_dump(size: int, text: str) -> None:
    assert format_size(size) == text


# (text, seconds or None): rclone's fs.Duration
DURATIONS = [
    ("90s", 90.0),
    ("90", 90.0),
    ("1.5", 1.5),
    ("1e2", 100.0),
    ("-5", -5.0),
    ("+5s", 5.0),
    ("100ms", 0.1),
    ("1us", 1e-6),
    ("1\u00b5s", 1e-6),
    ("1ns", 1e-9),
    ("0", 0.0),
    ("1m", 60.0),
    ("5m0s", 300.0),
    ("1h30m", 5400.0),
    ("-1h", -3600.0),
    ("30d", 30 * 86400.0),
    ("1.5d", 1.5 * 86400),
    ("2w", 14 * 86400.0),
    ("1M", 30 * 86400.0),
    ("1y", 365 * 86400.0),
    ("off", None),
]


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_parse_duration(text: str, seconds: float | None) -> None:
    result = parse_duration(text, now=0.0)
    if seconds is None:
        assert result is None
    else:
        assert result == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1d12h", " 5", "1h-5m", "1D", "1W", "1Y", "1mo", "d", "1.5.5h", "infd"])
def test_parse_duration_errors(text: str) -> None:
    with pytest.raises(FilterError, match=f'invalid duration "{text}"'):
        parse_duration(text)


@pytest.fixture
def utc() -> Iterator[None]:
    """Run in UTC, so dates and dumps do not depend on the machine's zone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2020-01-02", "2020-01-02T00:00:00+00:00"),
        ("2020-01-02 15:04:05", "2020-01-02T15:04:05+00:00"),
        ("2020-01-02T15:04:05", "2020-01-02T15:04:05+00:00"),
        ("2020-01-02T15:04:05Z", "2020-01-02T15:04:05+00:00"),
        ("2020-01-02T15:04:05+02:00", "2020-01-02T13:04:05+00:00"),
        ("2020-01-02T15:04:05.5Z", "2020-01-02T15:04:05.5+00:00"),
    ],
)
def test_parse_duration_dates(text: str, instant: str) -> None:
    now = datetime.fromisoformat("2021-01-01T00:00:00+00:00").timestamp()
    age = parse_duration(text, now=now)
    assert age == pytest.approx(now - datetime.fromisoformat(instant).timestamp())


# --- size and age limits --------------------------------------------------------------------------------

NOW = 1_700_000_000.0
NOW_NS = int(NOW) * 1_000_000_000


def test_size_limits_are_inclusive_and_files_only() -> None:
    filt = Filter(FilterOptions(min_size=100, max_size=200))
    assert filt.active
    assert not filt.include("a", size=99)
    assert filt.include("a", size=100)
    assert filt.include("a", size=200)
    assert not filt.include("a", size=201)
    assert filt.include("d", is_dir=True, size=0)
    assert filt.include_dir("d")


def test_unknown_size_fails_min_size_like_rclones_minus_one() -> None:
    assert not Filter(FilterOptions(min_size=0)).include("a", size=None)
    assert not Filter(FilterOptions(min_size=0)).include("a", size=-1)
    assert Filter(FilterOptions(max_size=0)).include("a", size=None)


def test_age_limits_with_fixed_now() -> None:
    hour = 3600 * 1_000_000_000
    filt = Filter(FilterOptions(min_age=3600, max_age=7200), now=NOW)
    assert not filt.include("a", size=1, mtime_ns=NOW_NS)  # too young
    assert filt.include("a", size=1, mtime_ns=NOW_NS - hour)  # exactly min_age old: kept
    assert filt.include("a", size=1, mtime_ns=NOW_NS - 2 * hour)  # exactly max_age old: kept
    assert not filt.include("a", size=1, mtime_ns=NOW_NS - 2 * hour - 1)  # too old
    assert filt.include("a", size=1, mtime_ns=None)  # unknown time is not judged
    assert filt.include_dir("d")


def test_min_age_above_max_age_is_refused() -> None:
    with pytest.raises(FilterError, match="can't be larger than --max-age"):
        Filter(FilterOptions(min_age=7200, max_age=3600))


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(FilterError, match="min_size can't be negative"):
        FilterOptions(min_size=-1)


@pytest.mark.usefixtures("utc")
def test_dump_with_limits() -> None:
    filt = Filter(
        FilterOptions(
            min_size=100 * KiB, max_size=1536 * KiB, min_age=1800, max_age=3600.5, exclude=("*.tmp",)
        ),
        now=NOW,
    )
    assert filt.dump().split("\n") == [
        "--- start filters ---",
        "Last-modified date must be equal or greater than: 2023-11-14 21:13:19.5 +0000 UTC",
        "Last-modified date must be equal or less than: 2023-11-14 21:43:20 +0000 UTC",
        "Minimum size is: 100 KiB",
        "Maximum size is: 1.500 MiB",
        "--- File filter rules ---",
        r"- (^|/)[^/]*\.tmp$",
        "--- Directory filter rules ---",
        "--- end filters ---",
    ]


# --- --files-from -----------------------------------------------------------------------------------


def test_parse_files_from() -> None:
    text = "# list\n/a/b.txt\n  c.txt  \n;x\n\nd/\na/b.txt\n"
    assert parse_files_from(text) == ["a/b.txt", "c.txt", "d"]


def test_files_from_includes_exactly_the_listed_files(tmp_path: Path) -> None:
    listing = tmp_path / "files"
    listing.write_text("/a/b/c.txt\nroot.txt\n# not/this\n")
    filt = Filter(FilterOptions(files_from=(str(listing),)))
    assert filt.files_from == ("a/b/c.txt", "root.txt")
    assert filt.include("a/b/c.txt") and filt.include("root.txt")
    assert not filt.include("a/b/other.txt") and not filt.include("not/this") and not filt.include("c.txt")
    assert filt.include_dir("a") and filt.include_dir("a/b")
    assert not filt.include_dir("a/b/c.txt") and not filt.include_dir("x") and not filt.include_dir("not")
    # size limits would be refused with --files-from (rclone), so sizes are not judged
    assert filt.include("root.txt", size=10**12)


def test_empty_files_from_includes_nothing(tmp_path: Path) -> None:
    listing = tmp_path / "files"
    listing.write_text("# nothing\n")
    filt = Filter(FilterOptions(files_from=(str(listing),)))
    assert filt.files_from == () and filt.active
    assert not filt.include("a") and not filt.include_dir("a")


@pytest.mark.parametrize(
    "extra",
    [
        {"include": ("x",)},
        {"filter_rules": ("- y",)},
        {"min_size": 1},
        {"max_age": 60.0},
        {"exclude_if_present": ("m",)},
    ],
)
def test_files_from_refuses_other_filters(tmp_path: Path, extra: dict[str, object]) -> None:
    listing = tmp_path / "files"
    listing.write_text("a\n")
    with pytest.raises(FilterError, match="--files-from overrides all other filters"):
        Filter(FilterOptions(files_from=(str(listing),), **extra))  # type: ignore[arg-type]


def test_files_from_after_cleared_rules_is_allowed(tmp_path: Path) -> None:
    listing = tmp_path / "files"
    listing.write_text("a\n")
    filt = Filter(FilterOptions(files_from=(str(listing),), filter_rules=("+ x", "!")))
    assert filt.include("a") and not filt.include("x")


def test_several_files_from_are_merged(tmp_path: Path) -> None:
    (tmp_path / "one").write_text("a\nb\n")
    (tmp_path / "two").write_text("b\nc/d\n")
    filt = Filter(FilterOptions(files_from=(str(tmp_path / "one"), str(tmp_path / "two"))))
    assert filt.files_from == ("a", "b", "c/d")


# --- --exclude-if-present and enter() ---------------------------------------------------------------


def _no_read(name: str) -> bytes:
    raise AssertionError(f"read({name!r}) called")


def test_exclude_if_present() -> None:
    filt = Filter(FilterOptions(exclude_if_present=(".nobackup", "CACHEDIR.TAG")))
    assert filt.active and filt.needs_enter
    assert filt.exclude_if_present == {".nobackup", "CACHEDIR.TAG"}
    assert filt.enter("a", {"x", ".nobackup"}, _no_read) is None
    assert filt.enter("", ["CACHEDIR.TAG"], _no_read) is None  # the root too, as rclone does
    assert filt.enter("a", {"x", ".NOBACKUP"}, _no_read) is filt  # exact names only
    assert filt.include("a/x") and filt.include_dir("a")


def test_enter_without_ignore_files_is_self_and_reads_nothing() -> None:
    filt = Filter(FilterOptions(exclude=("*.tmp",)))
    assert filt.enter("a", {"x", "y.tmp"}, _no_read) is filt


def test_inactive_filter() -> None:
    filt = Filter()
    assert not filt.active
    assert filt.needs_enter  # .syncignore and .megaignore are looked for by default
    assert filt.ignore_file_names == {".syncignore", ".megaignore"}
    assert filt.include("anything", size=0) and filt.include_dir("any/dir")
    assert filt.files_from is None and not filt.delete_excluded
    bare = Filter(FilterOptions(ignore_files=(), megaignore=False))
    assert not bare.active and not bare.needs_enter and bare.ignore_file_names == frozenset()


def test_options_accept_lists_and_expose_flags() -> None:
    options = FilterOptions(include=["a"], delete_excluded=True)  # type: ignore[arg-type]
    assert options.include == ("a",)
    hash(options)
    filt = Filter(options)
    assert filt.delete_excluded and filt.options is options


def test_include_dispatches_directories_to_include_dir() -> None:
    filt = Filter(FilterOptions(include=("/keep/**",)))
    assert filt.include("keep", is_dir=True) and not filt.include("other", is_dir=True)
    assert filt.include("", is_dir=True)


def test_inactive_filter_is_cheap() -> None:
    filt = Filter(FilterOptions(ignore_files=(), megaignore=False))
    include = filt.include
    start = time.perf_counter()
    for _ in range(100_000):
        include("some/dir/file.txt", size=1, mtime_ns=1)
    assert time.perf_counter() - start < 0.5


def test_public_api_is_sorted_and_complete() -> None:
    import filters

    names = filters.__all__
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert len(set(names)) == len(names)
    assert all(hasattr(filters, name) for name in names)


def test_filters_import_neither_syncer_nor_backends() -> None:
    import subprocess
    import sys

    code = (
        "import sys, filters; print(sorted({m.split('.')[0] for m in sys.modules} & {'syncer', 'backends'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
