"""Listing a tree level by level, in a stable order: each directory's entries sorted by name, shallower levels
first (rclone's order for ``ls -R``), through the command's filter.

An error listing the starting directory ends the walk (the user named it); an error listing a directory below
it is counted and logged, and the walk goes on. Excluded directories are never listed (pruned).

Directories are listed one after another: every backend so far lists from the disk or from a cached tree,
where threads only contend for the interpreter (measured: 8 threads made a 10,000-file walk 40% slower).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import TYPE_CHECKING

from backends import Backend, Entry
from backends import paths as rpaths
from backends.base import BLOCK_SIZE
from backends.errors import BackendError

from .accounting import Stats

if TYPE_CHECKING:
    from filters import Filter

__all__ = ["enter", "keep", "reader_for", "walk"]

_by_path = attrgetter("path")


def reader_for(backend: Backend, directory: str) -> Callable[[str], bytes]:
    """What ``Filter.enter`` reads ignore files with: the bytes of a file of ``directory``."""

    def read(name: str) -> bytes:
        chunks = []
        with backend.open_read(rpaths.join(directory, name)) as stream:
            while block := stream.read(BLOCK_SIZE):
                chunks.append(block)
        return b"".join(chunks)

    return read


def enter(
    rules: Filter | None, directory: str, names: Callable[[], set[str]], read: Callable[[str], bytes]
) -> tuple[Filter | None, bool]:
    """The filter for ``directory``'s entries, and whether the directory is excluded whole
    (``--exclude-if-present``). ``names`` gives the names it holds, asked only when the filter watches for
    some (ignore files, markers)."""
    if rules is None or not rules.needs_enter:
        return rules, False
    inner = rules.enter(directory, names(), read)
    return inner, inner is None


def keep(entries: list[Entry], rules: Filter | None) -> list[Entry]:
    """The entries ``rules`` includes (directories by the directory rules, files by everything)."""
    if rules is None or not rules.active:
        return entries
    return [
        e
        for e in entries
        if (
            rules.include_dir(e.path) if e.is_dir else rules.include(e.path, size=e.size, mtime_ns=e.mtime_ns)
        )
    ]


def walk(
    backend: Backend,
    root: str = "",
    *,
    stats: Stats,
    max_depth: int | None = None,
    rules: Filter | None = None,
) -> Iterator[Entry]:
    """Every entry below ``root`` that ``rules`` lets through, down to ``max_depth`` levels (None: all; 1: the
    children of ``root``).

    Raises the backend's error (DirNotFound, NotADirectory, ...) if ``root`` itself cannot be listed, and
    FilterError for a malformed ignore file.
    """
    level = [_directory(backend, root, backend.list(root), rules)]
    depth = 1
    while level:
        descend = max_depth is None or depth < max_depth
        subdirs: list[tuple[str, Filter | None]] = []
        for entries, inner in level:
            yield from entries
            if descend:
                subdirs.extend((entry.path, inner) for entry in entries if entry.is_dir)
        level = []
        for directory, outer in subdirs:
            try:
                level.append(_directory(backend, directory, backend.list(directory), outer))
            except BackendError as exc:
                stats.error(exc, f"{backend.describe(directory)}: error listing")
        depth += 1


def _directory(
    backend: Backend, directory: str, entries: list[Entry], rules: Filter | None
) -> tuple[list[Entry], Filter | None]:
    cut = len(directory) + 1 if directory else 0  # every entry's path is ``directory``/name
    inner, excluded = enter(
        rules, directory, lambda: {e.path[cut:] for e in entries}, reader_for(backend, directory)
    )
    if excluded:
        return [], None
    return sorted(keep(entries, inner), key=_by_path), inner
