"""Whether two files are the same, without reading them: rclone's default size + modification time rule."""

from __future__ import annotations

from backends import Entry, Features

__all__ = ["modify_window_ns", "same_size_and_time"]


def modify_window_ns(a: Features, b: Features) -> int | None:
    """The coarser of the two sides' mtime precision; None when either side keeps no mtime."""
    if a.mtime_precision_ns is None or b.mtime_precision_ns is None:
        return None
    return max(a.mtime_precision_ns, b.mtime_precision_ns)


def same_size_and_time(src: Entry, dst: Entry, window_ns: int | None) -> bool:
    """Equal sizes, and mtimes within ``window_ns`` (sizes only when a side keeps no mtime)."""
    if src.size != dst.size:
        return False
    if window_ns is None or src.mtime_ns is None or dst.mtime_ns is None:
        return True
    return abs(src.mtime_ns - dst.mtime_ns) <= window_ns
