"""Whether a destination file already matches its source, decided from listings alone where possible.

Pure: hashes, when a decision needs them, are fetched by the caller and passed back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from backends import Entry, Features, HashType

__all__ = [
    "CompareOptions",
    "Verdict",
    "common_hash",
    "decide",
    "decide_with_hashes",
    "effective_window",
    "modify_window_ns",
]


@dataclass(frozen=True)
class CompareOptions:
    """rclone's comparison flags."""

    size_only: bool = False
    checksum: bool = False
    update: bool = False
    ignore_existing: bool = False
    ignore_times: bool = False
    ignore_size: bool = False
    modify_window_ns: int | None = None  # None: the coarser of the two sides' precision


class Verdict(Enum):
    SAME = "same"
    TRANSFER = "transfer"
    SET_MTIME = "set-mtime"  # same content, only the modification time differs
    NEEDS_HASH = "needs-hash"  # sizes match but times do not: the hashes decide
    SKIP_NEWER = "skip-newer"  # --update: the destination is newer
    SKIP_EXISTING = "skip-existing"  # --ignore-existing


def modify_window_ns(a: Features, b: Features) -> int | None:
    """The coarser of the two sides' mtime precision; None when either side keeps no mtime."""
    if a.mtime_precision_ns is None or b.mtime_precision_ns is None:
        return None
    return max(a.mtime_precision_ns, b.mtime_precision_ns)


def effective_window(options: CompareOptions, a: Features, b: Features) -> int | None:
    """``--modify-window`` if given, else the coarser precision of the two sides."""
    return options.modify_window_ns if options.modify_window_ns is not None else modify_window_ns(a, b)


def common_hash(a: Features, b: Features, *, cheap_only: bool = False) -> HashType | None:
    """A hash both sides can give (the strongest), or None. ``cheap_only``: only if neither side must read
    the data to compute it."""
    if cheap_only and (a.slow_hash or b.slow_hash):
        return None
    shared = a.hashes & b.hashes
    for kind in (HashType.SHA256, HashType.SHA1, HashType.MD5):
        if kind in shared:
            return kind
    return None


def _same_time(a: int, b: int, window_ns: int) -> bool:
    """rclone's rule: the difference is strictly inside the window (a window of 0 or 1 ns: identical)."""
    return abs(a - b) < window_ns if window_ns > 1 else a == b


def decide(
    src: Entry, dst: Entry, options: CompareOptions, window_ns: int | None, hash_kind: HashType | None
) -> Verdict:
    """What to do with a file present on both sides (rclone's ``NeedTransfer``).

    ``window_ns`` is the modify window; ``hash_kind`` a hash both sides offer (None: none).
    """
    if options.ignore_existing:
        return Verdict.SKIP_EXISTING
    if options.ignore_times:
        return Verdict.TRANSFER
    if options.update and src.mtime_ns is not None and dst.mtime_ns is not None:
        same_time = _same_time(src.mtime_ns, dst.mtime_ns, window_ns or 0)
        if not same_time and dst.mtime_ns > src.mtime_ns:
            return Verdict.SKIP_NEWER
        if not (options.size_only or options.checksum):
            # rclone's --update: an older destination is updated if the sizes differ, else if the hash
            # differs or there is none; equal times with equal sizes are the same file.
            if src.size != dst.size:
                return Verdict.TRANSFER
            if same_time:
                return Verdict.SAME
            return Verdict.NEEDS_HASH if hash_kind is not None else Verdict.TRANSFER
    if not options.ignore_size and src.size >= 0 and dst.size >= 0 and src.size != dst.size:
        return Verdict.TRANSFER
    if options.checksum:
        return Verdict.NEEDS_HASH if hash_kind is not None else Verdict.TRANSFER
    if options.size_only:
        return Verdict.SAME
    if window_ns is None or src.mtime_ns is None or dst.mtime_ns is None:
        return Verdict.SAME  # no times to compare: equal sizes are all we can check
    if _same_time(src.mtime_ns, dst.mtime_ns, window_ns):
        return Verdict.SAME
    return Verdict.NEEDS_HASH if hash_kind is not None else Verdict.TRANSFER


def decide_with_hashes(
    src: Entry, dst: Entry, options: CompareOptions, window_ns: int | None, src_hash: str, dst_hash: str
) -> Verdict:
    """The verdict once the hashes a NEEDS_HASH verdict asked for are known."""
    if not src_hash or not dst_hash or src_hash != dst_hash:
        return Verdict.TRANSFER
    if options.checksum or window_ns is None or src.mtime_ns is None or dst.mtime_ns is None:
        return Verdict.SAME
    if _same_time(src.mtime_ns, dst.mtime_ns, window_ns):
        return Verdict.SAME
    return Verdict.SET_MTIME
