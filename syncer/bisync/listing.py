"""One side of a bisync pair as it is now: every file and directory the filter lets through, and what it hid.

What the filter hid matters as much as what it showed: a path in the agreed state that is now hidden (the
filter changed, or an ignore file appeared) must count as "not looked at", never as "deleted". rclone
bisync demands a --resync whenever its filters change; keeping the hidden paths apart makes that unneeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backends import Backend, Entry, HashType
from backends.errors import BackendError, DirNotFound, NotFound

from ..accounting import Stats
from ..debris import DEBRIS_DIR
from ..walk import enter, reader_for

if TYPE_CHECKING:
    from filters import Filter

__all__ = ["SideListing", "list_side"]


@dataclass
class SideListing:
    """``entries`` by path; ``hidden``: paths the filter excluded (directories are not descended);
    ``unlisted``: directories that could not be listed (their contents are unknown, not gone);
    ``duplicates``: paths held by several objects (MEGA), left alone like hidden ones; ``hashes`` by path
    when the comparison uses them."""

    entries: dict[str, Entry] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    unlisted: set[str] = field(default_factory=set)
    duplicates: set[str] = field(default_factory=set)
    hashes: dict[str, str] = field(default_factory=dict)
    hash_kind: HashType | None = None

    def files(self) -> int:
        return sum(1 for e in self.entries.values() if not e.is_dir)

    def unknown(self, path: str) -> bool:
        """Whether ``path`` was not looked at: hidden, a duplicate, or below such a directory or one that
        could not be listed."""
        if path in self.hidden or path in self.duplicates:
            return True
        parent = path
        while "/" in parent:
            parent = parent.rpartition("/")[0]
            if parent in self.hidden or parent in self.unlisted or parent in self.duplicates:
                return True
        return False


def list_side(
    backend: Backend,
    *,
    rules: Filter | None,
    stats: Stats,
    side: str,
) -> SideListing:
    """The listing of ``backend``'s whole tree (but its debris folder). The root must exist (DirNotFound
    else, from the backend); errors below it are counted in ``stats`` and their directories marked
    ``unlisted``."""
    listing = SideListing()
    pending: list[tuple[str, Filter | None]] = [("", rules)]
    while pending:
        directory, outer = pending.pop()
        try:
            entries = backend.list(directory)
        except BackendError as exc:
            if not directory:
                if isinstance(exc, NotFound) and not isinstance(exc, DirNotFound):
                    raise DirNotFound(path=backend.describe()) from exc
                raise
            if isinstance(exc, NotFound):  # removed while we walked: nothing there to agree on
                continue
            stats.error(exc, f"{backend.describe(directory)}: error listing {side}")
            listing.unlisted.add(directory)
            continue
        cut = len(directory) + 1 if directory else 0
        names = {e.path[cut:] for e in entries}
        inner, excluded = enter(outer, directory, lambda: names, reader_for(backend, directory))  # noqa: B023
        if excluded:
            listing.hidden.add(directory)
            continue
        seen: set[str] = set()
        for entry in entries:
            path = entry.path
            if not directory and path == DEBRIS_DIR:
                continue
            if path in seen:
                listing.duplicates.add(path)
                stats.error(
                    BackendError(f"duplicate name on {side} (run dedupe); left alone", path=path),
                    backend.describe(path),
                )
                continue
            seen.add(path)
            if inner is not None and inner.active:
                kept = (
                    inner.include_dir(path)
                    if entry.is_dir
                    else inner.include(path, size=entry.size, mtime_ns=entry.mtime_ns)
                )
                if not kept:
                    listing.hidden.add(path)
                    continue
            listing.entries[path] = entry
            if entry.is_dir:
                pending.append((path, inner))
    for path in listing.duplicates:
        listing.entries.pop(path, None)
    return listing


def add_hashes(backend: Backend, listing: SideListing, kind: HashType, stats: Stats, workers: int) -> None:
    """Fill ``listing.hashes`` for every file (in parallel: a local hash reads the whole file)."""
    from concurrent.futures import ThreadPoolExecutor

    files = [e for e in listing.entries.values() if not e.is_dir]
    listing.hash_kind = kind

    def one(entry: Entry) -> tuple[str, str]:
        known = entry.hashes.get(kind)
        if known:
            return entry.path, known
        try:
            return entry.path, backend.hash(entry, kind)
        except BackendError as exc:
            stats.error(exc, f"{backend.describe(entry.path)}: failed to hash")
            return entry.path, ""

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        listing.hashes.update(pool.map(one, files))
