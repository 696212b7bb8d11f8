"""syncer.compare against rclone's ``NeedTransfer``/``equal`` (fs/operations/operations.go) and its docs.

What rclone does, which each row below restates:

* ``--ignore-existing`` skips any file present on the destination; it wins over everything else.
* ``--ignore-times`` transfers unconditionally.
* Default: sizes differ -> transfer. Sizes equal and ``|dst - src| < modify window`` -> same (the window is
  exclusive: ``dt < window && dt > -window``). Times differ -> the hashes decide (equal: only the mtime is
  updated; differ or no hash: transfer). A side that keeps no mtime -> sizes alone.
* ``--size-only``: sizes alone. ``--checksum``: sizes, then hashes, never times.
* ``--ignore-size``: sizes are not compared (nor are unknown sizes, -1).
* ``--update`` (docs): "skip any files which exist on the destination and have a modified time that is newer
  than the source file"; "If an existing destination file has a modification time older than the source
  file's, it will be updated if the sizes are different. If the sizes are the same, it will be updated if the
  checksum is different or not available. If an existing destination file has a modification time equal
  (within the computed modify window) to the source file's, it will be updated if the sizes are different."
  In code: ``dt >= window`` -> skip (the destination is newer).
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from backends import Entry, Features, HashType
from syncer.compare import (
    CompareOptions,
    Verdict,
    common_hash,
    decide,
    decide_with_hashes,
    modify_window_ns,
)

T = 1_700_000_000_123_456_789  # a source mtime, in ns
S = 10**9  # one second in ns
NS = 1  # local disks and the memory backend keep nanoseconds: their window is 1 ns
MD5 = HashType.MD5


def entry(size: int, mtime_ns: int | None, path: str = "f.txt") -> Entry:
    return Entry(path, False, size, mtime_ns)


class Row(NamedTuple):
    options: CompareOptions
    src: Entry
    dst: Entry
    window_ns: int | None
    hash_kind: HashType | None
    expected: Verdict


DEFAULT = CompareOptions()
SIZE_ONLY = CompareOptions(size_only=True)
CHECKSUM = CompareOptions(checksum=True)
UPDATE = CompareOptions(update=True)
IGNORE_EXISTING = CompareOptions(ignore_existing=True)
IGNORE_TIMES = CompareOptions(ignore_times=True)
IGNORE_SIZE = CompareOptions(ignore_size=True)

DECIDE: dict[str, Row] = {
    # -- default: size, then mtime within the window, then the hash --------------------------------------
    "default/identical": Row(DEFAULT, entry(10, T), entry(10, T), NS, MD5, Verdict.SAME),
    "default/sizes-differ": Row(DEFAULT, entry(10, T), entry(11, T), NS, MD5, Verdict.TRANSFER),
    "default/sizes-differ-no-hash": Row(DEFAULT, entry(10, T), entry(11, T), NS, None, Verdict.TRANSFER),
    "default/times-differ-hash-decides": Row(
        DEFAULT, entry(10, T), entry(10, T + 5 * S), NS, MD5, Verdict.NEEDS_HASH
    ),
    "default/times-differ-dst-older-hash-decides": Row(
        DEFAULT, entry(10, T), entry(10, T - 5 * S), NS, MD5, Verdict.NEEDS_HASH
    ),
    "default/times-differ-no-hash-transfers": Row(
        DEFAULT, entry(10, T), entry(10, T + 5 * S), NS, None, Verdict.TRANSFER
    ),
    "default/within-a-2s-window": Row(DEFAULT, entry(10, T), entry(10, T + S), 2 * S, MD5, Verdict.SAME),
    "default/within-a-2s-window-dst-older": Row(
        DEFAULT, entry(10, T), entry(10, T - S - S // 2), 2 * S, MD5, Verdict.SAME
    ),
    "default/beyond-a-2s-window": Row(
        DEFAULT, entry(10, T), entry(10, T + 3 * S), 2 * S, MD5, Verdict.NEEDS_HASH
    ),
    # rclone: equal only if dt < window and dt > -window; one tick of the precision apart is a difference
    "default/one-ns-apart-at-1ns-precision-differ": Row(
        DEFAULT, entry(10, T), entry(10, T + 1), NS, MD5, Verdict.NEEDS_HASH
    ),
    "default/exactly-one-window-apart-differ": Row(
        DEFAULT, entry(10, T), entry(10, T - 2 * S), 2 * S, None, Verdict.TRANSFER
    ),
    "default/no-mtime-kept-sizes-equal": Row(
        DEFAULT, entry(10, T), entry(10, T + 99 * S), None, MD5, Verdict.SAME
    ),
    "default/no-mtime-kept-sizes-differ": Row(
        DEFAULT, entry(10, T), entry(12, T + 99 * S), None, MD5, Verdict.TRANSFER
    ),
    "default/src-entry-without-mtime": Row(DEFAULT, entry(10, None), entry(10, T), NS, MD5, Verdict.SAME),
    "default/dst-entry-without-mtime": Row(DEFAULT, entry(10, T), entry(10, None), NS, MD5, Verdict.SAME),
    "default/unknown-src-size-is-not-a-difference": Row(
        DEFAULT, entry(-1, T), entry(10, T), NS, MD5, Verdict.SAME
    ),
    "default/unknown-dst-size-is-not-a-difference": Row(
        DEFAULT, entry(10, T), entry(-1, T), NS, MD5, Verdict.SAME
    ),
    # -- --size-only -----------------------------------------------------------------------------------------
    "size-only/same-size-times-differ": Row(
        SIZE_ONLY, entry(10, T), entry(10, T + 7 * S), NS, MD5, Verdict.SAME
    ),
    "size-only/same-size-no-hash": Row(SIZE_ONLY, entry(10, T), entry(10, T - 7 * S), NS, None, Verdict.SAME),
    "size-only/sizes-differ": Row(SIZE_ONLY, entry(10, T), entry(9, T), NS, MD5, Verdict.TRANSFER),
    # -- --checksum: sizes, then hashes; times never matter -------------------------------------------------
    "checksum/same-size-same-time-still-hashed": Row(
        CHECKSUM, entry(10, T), entry(10, T), NS, MD5, Verdict.NEEDS_HASH
    ),
    "checksum/same-size-times-differ": Row(
        CHECKSUM, entry(10, T), entry(10, T + 9 * S), NS, MD5, Verdict.NEEDS_HASH
    ),
    "checksum/sizes-differ-no-hash-needed": Row(
        CHECKSUM, entry(10, T), entry(11, T), NS, MD5, Verdict.TRANSFER
    ),
    "checksum/no-mtime-kept": Row(CHECKSUM, entry(10, T), entry(10, T), None, MD5, Verdict.NEEDS_HASH),
    # -- --ignore-size ---------------------------------------------------------------------------------------
    "ignore-size/sizes-differ-times-equal": Row(
        IGNORE_SIZE, entry(10, T), entry(99, T), NS, MD5, Verdict.SAME
    ),
    "ignore-size/sizes-differ-times-differ": Row(
        IGNORE_SIZE, entry(10, T), entry(99, T + S), NS, MD5, Verdict.NEEDS_HASH
    ),
    "ignore-size/sizes-differ-times-differ-no-hash": Row(
        IGNORE_SIZE, entry(10, T), entry(99, T + S), NS, None, Verdict.TRANSFER
    ),
    # -- --ignore-times --------------------------------------------------------------------------------------
    "ignore-times/identical-still-transferred": Row(
        IGNORE_TIMES, entry(10, T), entry(10, T), NS, MD5, Verdict.TRANSFER
    ),
    "ignore-times/no-mtime-kept": Row(IGNORE_TIMES, entry(10, T), entry(10, T), None, None, Verdict.TRANSFER),
    # -- --ignore-existing: wins over everything ------------------------------------------------------------
    "ignore-existing/differs": Row(
        IGNORE_EXISTING, entry(10, T), entry(3, T - S), NS, MD5, Verdict.SKIP_EXISTING
    ),
    "ignore-existing/identical": Row(
        IGNORE_EXISTING, entry(10, T), entry(10, T), NS, MD5, Verdict.SKIP_EXISTING
    ),
    "ignore-existing/over-ignore-times": Row(
        CompareOptions(ignore_existing=True, ignore_times=True),
        entry(10, T),
        entry(10, T),
        NS,
        MD5,
        Verdict.SKIP_EXISTING,
    ),
    "ignore-existing/over-update": Row(
        CompareOptions(ignore_existing=True, update=True),
        entry(10, T + S),
        entry(11, T),
        NS,
        MD5,
        Verdict.SKIP_EXISTING,
    ),
    # -- --update --------------------------------------------------------------------------------------------
    "update/dst-newer-sizes-differ": Row(
        UPDATE, entry(10, T), entry(11, T + 10 * S), NS, MD5, Verdict.SKIP_NEWER
    ),
    "update/dst-newer-same-size": Row(
        UPDATE, entry(10, T), entry(10, T + 10 * S), NS, MD5, Verdict.SKIP_NEWER
    ),
    "update/dst-newer-no-hash": Row(
        UPDATE, entry(10, T), entry(10, T + 10 * S), NS, None, Verdict.SKIP_NEWER
    ),
    # rclone: dt >= modify window -> skip; one window newer is newer
    "update/dst-newer-by-exactly-the-window": Row(
        UPDATE, entry(10, T), entry(11, T + 1), NS, MD5, Verdict.SKIP_NEWER
    ),
    "update/dst-newer-by-exactly-a-2s-window": Row(
        UPDATE, entry(10, T), entry(11, T + 2 * S), 2 * S, MD5, Verdict.SKIP_NEWER
    ),
    "update/dst-older-sizes-differ": Row(
        UPDATE, entry(10, T), entry(11, T - 10 * S), NS, MD5, Verdict.TRANSFER
    ),
    # docs: "If the sizes are the same, it will be updated if the checksum is different or not available"
    "update/dst-older-same-size-checksum-decides": Row(
        UPDATE, entry(10, T), entry(10, T - 10 * S), NS, MD5, Verdict.NEEDS_HASH
    ),
    "update/dst-older-same-size-no-hash": Row(
        UPDATE, entry(10, T), entry(10, T - 10 * S), NS, None, Verdict.TRANSFER
    ),
    "update/same-time-same-size": Row(UPDATE, entry(10, T), entry(10, T), NS, MD5, Verdict.SAME),
    "update/same-time-sizes-differ": Row(UPDATE, entry(10, T), entry(12, T), NS, MD5, Verdict.TRANSFER),
    "update/dst-newer-within-window-sizes-differ": Row(
        UPDATE, entry(10, T), entry(12, T + S), 2 * S, MD5, Verdict.TRANSFER
    ),
    "update/dst-newer-within-window-same-size": Row(
        UPDATE, entry(10, T), entry(10, T + S), 2 * S, MD5, Verdict.SAME
    ),
    "update/dst-older-within-window-same-size": Row(
        UPDATE, entry(10, T), entry(10, T - S), 2 * S, MD5, Verdict.SAME
    ),
    # docs: "The checksum will not be checked in this case unless the --checksum flag is provided"
    "update+checksum/same-time-same-size": Row(
        CompareOptions(update=True, checksum=True), entry(10, T), entry(10, T), NS, MD5, Verdict.NEEDS_HASH
    ),
    "update+checksum/dst-newer": Row(
        CompareOptions(update=True, checksum=True),
        entry(10, T),
        entry(10, T + S),
        NS,
        MD5,
        Verdict.SKIP_NEWER,
    ),
    "update+size-only/dst-older-same-size": Row(
        CompareOptions(update=True, size_only=True), entry(10, T), entry(10, T - S), NS, MD5, Verdict.SAME
    ),
    "update/no-dst-mtime-falls-back-to-sizes": Row(
        UPDATE, entry(10, T), entry(10, None), NS, MD5, Verdict.SAME
    ),
    "update/no-dst-mtime-sizes-differ": Row(UPDATE, entry(10, T), entry(11, None), NS, MD5, Verdict.TRANSFER),
    "update/no-mtime-kept-sizes-equal": Row(
        UPDATE, entry(10, None), entry(10, None), None, None, Verdict.SAME
    ),
    # -- an explicit --modify-window (CompareOptions.modify_window_ns is passed as the window) -------------
    "modify-window/1h-within": Row(
        DEFAULT, entry(10, T), entry(10, T + 3599 * S), 3600 * S, MD5, Verdict.SAME
    ),
    "modify-window/1h-beyond": Row(
        DEFAULT, entry(10, T), entry(10, T + 3601 * S), 3600 * S, MD5, Verdict.NEEDS_HASH
    ),
}


@pytest.mark.parametrize("row", DECIDE.values(), ids=DECIDE.keys())
def test_decide(row: Row) -> None:
    verdict = decide(row.src, row.dst, row.options, row.window_ns, row.hash_kind)
    assert verdict is row.expected


class HashRow(NamedTuple):
    options: CompareOptions
    src: Entry
    dst: Entry
    window_ns: int | None
    src_hash: str
    dst_hash: str
    expected: Verdict


H1, H2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"

DECIDE_WITH_HASHES: dict[str, HashRow] = {
    # times differ, content equal: only the modification time is put right (rclone: SetModTime)
    "default/equal-hashes-times-differ": HashRow(
        DEFAULT, entry(10, T), entry(10, T + 5 * S), NS, H1, H1, Verdict.SET_MTIME
    ),
    "default/equal-hashes-dst-older": HashRow(
        DEFAULT, entry(10, T), entry(10, T - 5 * S), NS, H1, H1, Verdict.SET_MTIME
    ),
    "default/hashes-differ": HashRow(
        DEFAULT, entry(10, T), entry(10, T + 5 * S), NS, H1, H2, Verdict.TRANSFER
    ),
    # rclone: a hash that cannot be had makes the files "differ" (outside --checksum)
    "default/no-src-hash": HashRow(DEFAULT, entry(10, T), entry(10, T + 5 * S), NS, "", H1, Verdict.TRANSFER),
    "default/no-dst-hash": HashRow(DEFAULT, entry(10, T), entry(10, T + 5 * S), NS, H1, "", Verdict.TRANSFER),
    "default/equal-hashes-times-within-window": HashRow(
        DEFAULT, entry(10, T), entry(10, T + S), 2 * S, H1, H1, Verdict.SAME
    ),
    # --checksum never looks at times, so equal hashes are simply the same file
    "checksum/equal-hashes-times-differ": HashRow(
        CHECKSUM, entry(10, T), entry(10, T + 5 * S), NS, H1, H1, Verdict.SAME
    ),
    "checksum/equal-hashes-same-time": HashRow(
        CHECKSUM, entry(10, T), entry(10, T), NS, H1, H1, Verdict.SAME
    ),
    "checksum/hashes-differ": HashRow(CHECKSUM, entry(10, T), entry(10, T), NS, H1, H2, Verdict.TRANSFER),
    "ignore-size/equal-hashes": HashRow(
        IGNORE_SIZE, entry(10, T), entry(99, T + S), NS, H1, H1, Verdict.SET_MTIME
    ),
    # --update with an older destination of equal content: rclone updates the mtime only
    "update/dst-older-equal-hashes": HashRow(
        UPDATE, entry(10, T), entry(10, T - 10 * S), NS, H1, H1, Verdict.SET_MTIME
    ),
    "update/dst-older-hashes-differ": HashRow(
        UPDATE, entry(10, T), entry(10, T - 10 * S), NS, H1, H2, Verdict.TRANSFER
    ),
    "no-mtime-on-a-side/equal-hashes": HashRow(
        DEFAULT, entry(10, T), entry(10, None), NS, H1, H1, Verdict.SAME
    ),
}


@pytest.mark.parametrize("row", DECIDE_WITH_HASHES.values(), ids=DECIDE_WITH_HASHES.keys())
def test_decide_with_hashes(row: HashRow) -> None:
    verdict = decide_with_hashes(row.src, row.dst, row.options, row.window_ns, row.src_hash, row.dst_hash)
    assert verdict is row.expected


# -- the helpers the planner's inputs come from ------------------------------------------------------------

LOCAL_LIKE = Features(hashes=frozenset(HashType), slow_hash=True, mtime_precision_ns=1)
FAT_LIKE = Features(hashes=frozenset(), mtime_precision_ns=2 * S)
NO_MTIME = Features(hashes=frozenset({HashType.MD5}), mtime_precision_ns=None)
SHA1_ONLY = Features(hashes=frozenset({HashType.SHA1}), mtime_precision_ns=S)
CHEAP_ALL = Features(hashes=frozenset(HashType), slow_hash=False, mtime_precision_ns=1)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (LOCAL_LIKE, LOCAL_LIKE, 1),
        (LOCAL_LIKE, FAT_LIKE, 2 * S),
        (FAT_LIKE, LOCAL_LIKE, 2 * S),
        (SHA1_ONLY, LOCAL_LIKE, S),
        (LOCAL_LIKE, NO_MTIME, None),
        (NO_MTIME, LOCAL_LIKE, None),
    ],
    ids=["ns-ns", "ns-2s", "2s-ns", "1s-ns", "ns-none", "none-ns"],
)
def test_modify_window_is_the_coarser_precision(a: Features, b: Features, expected: int | None) -> None:
    assert modify_window_ns(a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "cheap_only", "expected"),
    [
        (LOCAL_LIKE, LOCAL_LIKE, False, HashType.SHA256),
        (LOCAL_LIKE, NO_MTIME, False, HashType.MD5),
        (SHA1_ONLY, LOCAL_LIKE, False, HashType.SHA1),
        (SHA1_ONLY, NO_MTIME, False, None),
        (LOCAL_LIKE, FAT_LIKE, False, None),
        (LOCAL_LIKE, CHEAP_ALL, True, None),
        (CHEAP_ALL, CHEAP_ALL, True, HashType.SHA256),
    ],
    ids=["all-all", "all-md5", "sha1-all", "sha1-md5", "all-none", "slow-cheap", "cheap-cheap"],
)
def test_common_hash(a: Features, b: Features, cheap_only: bool, expected: HashType | None) -> None:
    assert common_hash(a, b, cheap_only=cheap_only) == expected
