"""Marching two trees in step: each directory listed on both sides, names paired up, nothing transferred.

Directory by directory, so memory holds one directory's listings at a time rather than two whole trees, and
sub-directories present on only one side are still walked (all their entries are one-sided). Duplicate names
(MEGA allows them) are reported and left alone: syncing one of them at random would be a silent choice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backends import Backend, Entry
from backends import paths as rpaths
from backends.errors import BackendError, DirNotFound, NotADirectory, NotFound

from .accounting import Stats
from .walk import enter, keep, reader_for

if TYPE_CHECKING:
    from filters import Filter

__all__ = ["Match", "march"]

log = logging.getLogger("syncer.march")


@dataclass(frozen=True, slots=True)
class Match:
    """One path and what each side has there (None: nothing)."""

    path: str
    src: Entry | None
    dst: Entry | None


def _index(
    entries: list[Entry], side: str, backend: Backend, stats: Stats
) -> tuple[dict[str, Entry], set[str]]:
    """Entries by name, and the names held by several objects (reported; the caller leaves them alone on
    both sides: a sync must neither copy onto a duplicate nor delete what a duplicate stands for)."""
    index: dict[str, Entry] = {}
    duplicates: set[str] = set()
    for entry in entries:
        name = entry.name
        if name in index:
            duplicates.add(name)
        else:
            index[name] = entry
    for name in sorted(duplicates):
        path = index[name].path
        stats.error(
            BackendError(f"duplicate name on the {side} (run dedupe); skipped", path=path),
            backend.describe(path),
        )
    return index, duplicates


def _list(backend: Backend, directory: str, side: str, stats: Stats) -> list[Entry] | None:
    try:
        return backend.list(directory)
    except BackendError as exc:
        stats.error(exc, f"{backend.describe(directory)}: error listing {side}")
        return None


def march(
    src: Backend,
    dst: Backend,
    *,
    stats: Stats,
    rules: Filter | None = None,
    delete_excluded: bool = False,
    skip_root_names: frozenset[str] = frozenset(),
    on_hidden: Callable[[str], None] | None = None,
) -> Iterator[Match]:
    """Every path under either root, each directory's names in sorted order, parents before children.

    ``rules`` filters entries on both sides: an excluded entry is never yielded, so never touched, unless
    ``delete_excluded`` (then excluded destination entries come out as destination-only, to be deleted).
    Ignore files are read from the side that has them (the source first). ``skip_root_names`` are names at
    the top level that belong to the engine (the debris folder). ``on_hidden(directory)`` is told of each
    destination directory that keeps entries the filter hid (it will never be empty). The source root must
    exist (DirNotFound); a missing destination root is an empty one.
    """
    try:
        root = src.stat("")
    except NotFound as exc:
        raise DirNotFound(path=src.describe()) from exc
    if not root.is_dir:
        raise NotADirectory(path=src.describe())
    # (directory, on src, on dst, its filter, doomed: an excluded destination subtree being deleted)
    pending: list[tuple[str, bool, bool, Filter | None, bool]] = [("", True, True, rules, False)]
    while pending:
        directory, on_src, on_dst, outer, doomed = pending.pop()
        src_entries: list[Entry] = []
        dst_entries: list[Entry] = []
        if on_src:
            listed = _list(src, directory, "source", stats)
            if listed is None:
                continue  # never act on a directory whose source side could not be read
            src_entries = listed
        if on_dst:
            try:
                dst_entries = dst.list(directory)
            except NotFound:
                dst_entries = []
            except BackendError as exc:
                stats.error(exc, f"{dst.describe(directory)}: error listing destination")
                continue
        if not directory and skip_root_names:
            src_entries = [e for e in src_entries if e.name not in skip_root_names]
            dst_entries = [e for e in dst_entries if e.name not in skip_root_names]
        inner = outer
        subdirs: list[tuple[str, bool, bool, Filter | None, bool]] = []
        if doomed:
            dst_entries, excluded = dst_entries, []
        else:
            source_names = {e.name for e in src_entries}

            def read(name: str, directory: str = directory, on_src: set[str] = source_names) -> bytes:
                return reader_for(src if name in on_src else dst, directory)(name)

            def names(on_src: set[str] = source_names, on_dst: list[Entry] = dst_entries) -> set[str]:
                return on_src | {e.name for e in on_dst}

            inner, whole = enter(outer, directory, names, read)
            if whole:
                continue  # --exclude-if-present: the directory is left alone on both sides
            src_entries = keep(src_entries, inner)
            kept = keep(dst_entries, inner)
            excluded = (
                [] if len(kept) == len(dst_entries) or not delete_excluded else _missing(dst_entries, kept)
            )
            if len(kept) < len(dst_entries) and not delete_excluded and on_hidden is not None:
                on_hidden(directory)
            dst_entries = kept
        for entry in excluded:
            yield Match(entry.path, None, entry)
            if entry.is_dir:
                subdirs.append((entry.path, False, True, None, True))
        src_index, src_duplicates = _index(src_entries, "source", src, stats)
        dst_index, dst_duplicates = _index(dst_entries, "destination", dst, stats)
        for name in sorted((src_index.keys() | dst_index.keys()) - src_duplicates - dst_duplicates):
            s = src_index.get(name)
            d = dst_index.get(name)
            path = rpaths.join(directory, name)
            if s is not None and d is not None and s.is_dir != d.is_dir:
                kind = "directory" if s.is_dir else "file"
                stats.error(
                    BackendError(f"is a {kind} on the source but not on the destination; skipped", path=path),
                    dst.describe(path),
                )
                continue
            yield Match(path, s, d)
            if (s is not None and s.is_dir) or (d is not None and d.is_dir):
                subdirs.append((path, s is not None, d is not None, inner, doomed))
        pending.extend(reversed(subdirs))


def _missing(entries: list[Entry], kept: list[Entry]) -> list[Entry]:
    """The entries a filter left out."""
    kept_paths = {e.path for e in kept}
    return [e for e in entries if e.path not in kept_paths]
