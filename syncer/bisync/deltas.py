"""What changed on one side since the agreed state: pure, from the state and the side's listing only.

Unison's update detection: each side is compared with its own record of the last agreement, never with the
other side. A file is "changed" when one of the compared properties differs from that record (``--compare``:
size, modification time, and the hash where the side offers one); a directory only appears or disappears.
A deleted file and a new file with the same size, time and (if known) hash, each the only one of its kind,
are a rename: propagating it as a rename moves the file on the other side instead of copying it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from backends import Entry

from .listing import SideListing
from .state import Agreed, Seen

__all__ = ["Change", "CompareSpec", "Delta", "renames", "seen_of", "side_deltas"]


class Change(Enum):
    NEW = "new"
    CHANGED = "changed"
    DELETED = "deleted"


@dataclass(frozen=True)
class CompareSpec:
    """``--compare``: which properties make a file "changed" (rclone bisync's default: size and modtime)."""

    size: bool = True
    modtime: bool = True
    checksum: bool = False

    @classmethod
    def parse(cls, text: str) -> CompareSpec:
        """From ``size,modtime,checksum`` (any non-empty subset); ValueError names a wrong word."""
        words = {w.strip().lower() for w in text.split(",") if w.strip()}
        unknown = sorted(words - {"size", "modtime", "checksum"})
        if unknown:
            raise ValueError(f"--compare: unknown {unknown[0]!r} (size, modtime and/or checksum)")
        if not words:
            raise ValueError("--compare needs size, modtime and/or checksum")
        return cls("size" in words, "modtime" in words, "checksum" in words)


@dataclass(frozen=True, slots=True)
class Delta:
    """One path's change on one side: ``entry`` is what the side holds now (None when deleted), ``prior``
    the side's record of the agreed version (None when new), ``why`` a short reason for the log."""

    path: str
    change: Change
    entry: Entry | None
    prior: Agreed | None
    why: str


def seen_of(entry: Entry, hash: str = "") -> Seen:
    return Seen(entry.size, entry.mtime_ns, hash, entry.id)


def _difference(prior: Seen, now: Entry, now_hash: str, spec: CompareSpec) -> str | None:
    """Why a file no longer matches the side's own record of it, or None."""
    if spec.size and prior.size >= 0 and now.size >= 0 and prior.size != now.size:
        return "size changed"
    # the same side, so the same precision: times are compared exactly
    if spec.modtime and None not in (prior.mtime_ns, now.mtime_ns) and prior.mtime_ns != now.mtime_ns:
        return "newer" if (now.mtime_ns or 0) > (prior.mtime_ns or 0) else "older"
    if spec.checksum and prior.hash and now_hash and prior.hash != now_hash:
        return "hash changed"
    return None


def side_deltas(
    agreed: Mapping[str, Agreed], side: int, listing: SideListing, spec: CompareSpec
) -> dict[str, Delta]:
    """The changes of side ``side`` (1 or 2). Paths the listing did not look at (hidden, duplicates,
    below a directory that failed to list) are neither new nor deleted."""
    deltas: dict[str, Delta] = {}
    entries = listing.entries
    for path, record in agreed.items():
        entry = entries.get(path)
        if entry is None:
            if not listing.unknown(path):
                deltas[path] = Delta(path, Change.DELETED, None, record, "deleted")
            continue
        if entry.is_dir != record.is_dir:
            kind = "a directory" if entry.is_dir else "a file"
            deltas[path] = Delta(path, Change.CHANGED, entry, record, f"now {kind}")
        elif not entry.is_dir:
            why = _difference(record.side(side), entry, listing.hashes.get(path, ""), spec)
            if why is not None:
                deltas[path] = Delta(path, Change.CHANGED, entry, record, why)
    for path, entry in entries.items():
        if path not in agreed:
            deltas[path] = Delta(path, Change.NEW, entry, None, "new")
    return deltas


def renames(deltas: Mapping[str, Delta], side: int, listing: SideListing) -> dict[str, str]:
    """New path -> old path, for the files of one side that were moved: the deleted and the new file share
    size, time and (when both are known) hash, and no other deleted or new file shares them."""

    def key(size: int, mtime_ns: int | None) -> tuple[int, int | None] | None:
        return (size, mtime_ns) if size > 0 and mtime_ns is not None else None

    gone: dict[tuple[int, int | None], list[Delta]] = {}
    came: dict[tuple[int, int | None], list[Delta]] = {}
    for delta in deltas.values():
        if delta.change is Change.DELETED and delta.prior is not None and not delta.prior.is_dir:
            seen = delta.prior.side(side)
            k = key(seen.size, seen.mtime_ns)
            if k is not None:
                gone.setdefault(k, []).append(delta)
        elif delta.change is Change.NEW and delta.entry is not None and not delta.entry.is_dir:
            k = key(delta.entry.size, delta.entry.mtime_ns)
            if k is not None:
                came.setdefault(k, []).append(delta)
    moved: dict[str, str] = {}
    for k, old in gone.items():
        new = came.get(k)
        if len(old) != 1 or new is None or len(new) != 1:
            continue  # ambiguous: copies and deletes are safe, a wrong rename is not
        before = old[0].prior
        assert before is not None
        old_hash, new_hash = before.side(side).hash, listing.hashes.get(new[0].path, "")
        if old_hash and new_hash and old_hash != new_hash:
            continue
        moved[new[0].path] = old[0].path
    return moved
