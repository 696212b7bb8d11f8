"""Listing a tree level by level, in a stable order: each directory's entries sorted by name, shallower levels
first (rclone's order for ``ls -R``).

An error listing the starting directory ends the walk (the user named it); an error listing a directory below
it is counted and logged, and the walk goes on.

Directories are listed one after another: every backend so far lists from the disk or from a cached tree,
where threads only contend for the interpreter (measured: 8 threads made a 10,000-file walk 40% slower).
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

from backends import Backend, Entry
from backends.errors import BackendError

from .accounting import Stats

__all__ = ["walk"]

_by_path = attrgetter("path")


def walk(backend: Backend, root: str = "", *, stats: Stats, max_depth: int | None = None) -> Iterator[Entry]:
    """Every entry below ``root`` down to ``max_depth`` levels (None: all; 1: the children of ``root``).

    Raises the backend's error (DirNotFound, NotADirectory, ...) if ``root`` itself cannot be listed.
    """
    level = [sorted(backend.list(root), key=_by_path)]
    depth = 1
    while level:
        descend = max_depth is None or depth < max_depth
        subdirs: list[str] = []
        for entries in level:
            yield from entries
            if descend:
                subdirs.extend(entry.path for entry in entries if entry.is_dir)
        level = []
        for directory in subdirs:
            try:
                level.append(sorted(backend.list(directory), key=_by_path))
            except BackendError as exc:
                stats.error(exc, f"{backend.describe(directory)}: error listing")
        depth += 1
