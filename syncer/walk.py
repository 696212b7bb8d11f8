"""Listing a tree: level by level, the directories of a level listed in parallel, output in a stable order.

Each directory's entries come out sorted by name, shallower levels first (rclone's order for ``ls -R``). An
error listing the starting directory ends the walk (the user named it); an error listing a directory below it
is counted and logged, and the walk goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from backends import Backend, Entry
from backends.errors import BackendError

from .accounting import Stats

__all__ = ["walk"]


def _by_path(entry: Entry) -> str:
    return entry.path


def walk(
    backend: Backend,
    root: str = "",
    *,
    stats: Stats,
    max_depth: int | None = None,
    checkers: int = 8,
) -> Iterator[Entry]:
    """Every entry below ``root`` down to ``max_depth`` levels (None: all; 1: the children of ``root``).

    Raises the backend's error (DirNotFound, NotADirectory, ...) if ``root`` itself cannot be listed.
    """

    def list_below(directory: str) -> list[Entry] | None:
        try:
            return backend.list(directory)
        except BackendError as exc:
            stats.error(exc, f"{backend.describe(directory)}: error listing")
            return None

    first = backend.list(root)
    first.sort(key=_by_path)
    level: list[tuple[str, list[Entry] | None]] = [(root, first)]
    depth = 1
    with ThreadPoolExecutor(max_workers=max(1, checkers)) as pool:
        while level:
            subdirs: list[str] = []
            descend = max_depth is None or depth < max_depth
            for _, entries in level:
                if entries is None:
                    continue
                for entry in entries:
                    yield entry
                    if descend and entry.is_dir:
                        subdirs.append(entry.path)
            if not subdirs:
                break
            listed = pool.map(list_below, subdirs) if len(subdirs) > 1 else map(list_below, subdirs)
            level = []
            for directory, entries in zip(subdirs, listed, strict=True):
                if entries is not None:
                    entries.sort(key=_by_path)
                level.append((directory, entries))
            depth += 1
