"""``dedupe``: fold the duplicate names a MEGA account collects (uploads from several clients, interrupted
syncs) back into one object per path, the way rclone's dedupe does.

Duplicate directories are merged first (their contents end up in one directory, which may make new file
duplicates); then, for every path held by several files, the identical ones are removed without asking
(identical: same size and same content, by a hash the backend keeps or, failing that, by reading both), and
what remains is settled by the mode. Deleted duplicates go where the backend's ``remove`` sends them (MEGA:
the Rubbish Bin), so a wrong choice can be undone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO

from backends import Backend, Entry
from backends import paths as rpaths
from backends.base import BLOCK_SIZE, HashType
from backends.errors import BackendError, DirNotFound, NotFound

from .runtime import Runtime

__all__ = ["DedupeMode", "DedupeOptions", "Prompt", "dedupe", "run_dedupe"]

log = logging.getLogger("syncer")


class DedupeMode(StrEnum):
    """rclone's dedupe modes."""

    INTERACTIVE = "interactive"
    SKIP = "skip"
    FIRST = "first"
    NEWEST = "newest"
    OLDEST = "oldest"
    LARGEST = "largest"
    SMALLEST = "smallest"
    RENAME = "rename"
    LIST = "list"


#: Asks the user one question and returns the answer line (EOFError at the end of input).
Prompt = Callable[[str], str]


@dataclass(frozen=True)
class DedupeOptions:
    mode: DedupeMode = DedupeMode.INTERACTIVE
    #: Where the listing of each group goes (``list`` and ``interactive``).
    out: TextIO | None = None


class _Quit(Exception):
    """The user chose to stop (interactive ``q``)."""


def run_dedupe(rt: Runtime, spec: str, options: DedupeOptions, prompt: Prompt | None = None) -> None:
    """``dedupe`` of the location ``spec``."""
    dedupe(rt, rt.open(spec), options, prompt)


def dedupe(rt: Runtime, backend: Backend, options: DedupeOptions, prompt: Prompt | None = None) -> None:
    """Merge duplicate directories, then settle duplicate files below the backend's root as ``options.mode``
    says.

    ``prompt`` is required for the interactive mode. Per-object failures are counted in ``rt.stats`` (the exit
    code reports them); the run goes on with the next group.
    """
    if options.mode is DedupeMode.INTERACTIVE and prompt is None:
        raise ValueError("the interactive mode needs a prompt")
    if options.mode is not DedupeMode.LIST:
        rt.writable(backend)  # a public link: one line now, not one error per duplicate
    with rt.located(backend):
        try:
            root = backend.stat("")
        except NotFound as exc:
            raise DirNotFound(path=backend.describe()) from exc
    if not root.is_dir:
        raise DirNotFound("not a directory", path=backend.describe())
    log.info("%s: Looking for duplicates using %s mode.", backend.describe(), options.mode)
    if options.mode is not DedupeMode.LIST:
        _merge_duplicate_dirs(rt, backend)
    try:
        for path, entries in _duplicate_files(rt, backend, options):
            _settle(rt, backend, path, entries, options, prompt)
    except _Quit:
        log.warning("%s: dedupe stopped at the user's request", backend.describe())


# -- finding -----------------------------------------------------------------------------------------------


def _groups(backend: Backend, want_dirs: bool) -> dict[str, list[Entry]]:
    """Every path held by more than one object of the kind asked for, in walk order."""
    by_path: dict[str, list[Entry]] = {}
    for entry in backend.walk(""):
        if entry.is_dir == want_dirs:
            by_path.setdefault(entry.path, []).append(entry)
    return {path: group for path, group in sorted(by_path.items()) if len(group) > 1}


def _merge_duplicate_dirs(rt: Runtime, backend: Backend) -> None:
    """Merge each set of same-named directories into its first, parents before children (a parent's merge
    is what puts its children's duplicates side by side)."""
    groups = _groups(backend, want_dirs=True)
    if groups and not backend.features.merge_dirs:
        raise BackendError(f"{backend.type_name} cannot merge duplicate directories")
    for path, dirs in groups.items():
        where = backend.describe(path)
        if rt.skip(f"merging {len(dirs)} duplicate directories", where):
            continue
        try:
            backend.merge_dirs(dirs)
        except BackendError as exc:
            rt.stats.error(exc, f"{where}: failed to merge duplicate directories")
            continue
        log.info("%s: Merged %d duplicate directories", where, len(dirs))


def _duplicate_files(
    rt: Runtime, backend: Backend, options: DedupeOptions
) -> Iterator[tuple[str, list[Entry]]]:
    """Paths held by several files (``list`` shows the duplicate directories first: nothing was merged)."""
    if options.mode is DedupeMode.LIST:
        for path, group in _groups(backend, want_dirs=True).items():
            _show(rt, backend, path, group, "directories", options.out)
    yield from _groups(backend, want_dirs=False).items()


# -- settling ----------------------------------------------------------------------------------------------


def _settle(
    rt: Runtime,
    backend: Backend,
    path: str,
    entries: list[Entry],
    options: DedupeOptions,
    prompt: Prompt | None,
) -> None:
    where = backend.describe(path)
    log.warning("%s: Found %d files with duplicate names", where, len(entries))
    mode = options.mode
    if mode is DedupeMode.LIST:
        _show(rt, backend, path, entries, "files", options.out)
        return
    entries = _remove_identical(rt, backend, where, entries)
    if len(entries) <= 1:
        log.warning("%s: All duplicates removed", where)
        return
    if mode is DedupeMode.SKIP:
        log.warning("%s: Skipping %d files with duplicate names", where, len(entries))
    elif mode is DedupeMode.RENAME:
        _rename_all(rt, backend, path, entries)
    elif mode is DedupeMode.INTERACTIVE:
        assert prompt is not None
        _ask(rt, backend, path, entries, options, prompt)
    else:
        _keep_one(rt, backend, where, entries, _chosen(mode, entries))


def _chosen(mode: DedupeMode, entries: list[Entry]) -> int:
    """The index of the file to keep; ties go to the first listed."""
    indexes = range(len(entries))
    if mode is DedupeMode.FIRST:
        return 0
    if mode in (DedupeMode.NEWEST, DedupeMode.OLDEST):
        stamps = [e.mtime_ns if e.mtime_ns is not None else 0 for e in entries]
        pick = max if mode is DedupeMode.NEWEST else min
        best = pick(stamps)
        return next(i for i in indexes if stamps[i] == best)
    sizes = [e.size for e in entries]
    best = max(sizes) if mode is DedupeMode.LARGEST else min(sizes)
    return next(i for i in indexes if sizes[i] == best)


def _delete(rt: Runtime, backend: Backend, where: str, entry: Entry, why: str) -> bool:
    if rt.skip(f"deleting {why} (size {entry.size})", where):
        return True
    try:
        backend.remove(entry)
    except BackendError as exc:
        rt.stats.error(exc, f"{where}: failed to delete {why}")
        return False
    rt.stats.count(deletes=1)
    log.info("%s: Deleted %s (size %d)", where, why, entry.size)
    return True


def _keep_one(rt: Runtime, backend: Backend, where: str, entries: list[Entry], keep: int) -> None:
    for i, entry in enumerate(entries):
        if i != keep:
            _delete(rt, backend, where, entry, "duplicate")
    log.info("%s: Kept the file of size %d", where, entries[keep].size)


def _remove_identical(rt: Runtime, backend: Backend, where: str, entries: list[Entry]) -> list[Entry]:
    """Remove every file identical to an earlier one of the group; the files that remain, in order.

    Only files of equal size are compared, so contents are read only where they might match."""
    kept: list[int] = []
    digests: dict[int, str] = {}

    def digest(i: int) -> str:
        if i not in digests:
            digests[i] = _digest(backend, entries[i])
        return digests[i]

    for i, entry in enumerate(entries):
        try:
            same = any(digest(j) == digest(i) for j in kept if entries[j].size == entry.size)
        except BackendError as exc:
            rt.stats.error(exc, f"{where}: could not compare duplicates")
            same = False
        if not same or not _delete(rt, backend, where, entry, "identical duplicate"):
            kept.append(i)
    return [entries[i] for i in kept]


def _digest(backend: Backend, entry: Entry) -> str:
    """A content hash: one the backend keeps when it is cheap, else SHA-256 of the bytes read (a MEGA read
    verifies the file's MAC on the way)."""
    features = backend.features
    if features.hashes and not features.slow_hash:
        kind = min(features.hashes)
        known = entry.hashes.get(kind)
        return f"{kind}:{known if known is not None else backend.hash(entry, kind)}"
    digest = HashType.SHA256.new()
    with backend.open_read(entry) as stream:
        while block := stream.read(BLOCK_SIZE):
            digest.update(block)
    return f"read-sha256:{digest.hexdigest()}"


def _rename_all(rt: Runtime, backend: Backend, path: str, entries: list[Entry]) -> None:
    """Rename every file of the group to ``name-N.ext``, N counting from 1 and skipping names in use."""
    directory, name = rpaths.parent(path), rpaths.basename(path)
    stem, ext = _split_ext(name)
    number = 1
    for entry in entries:
        while True:
            candidate = rpaths.join(directory, f"{stem}-{number}{ext}")
            number += 1
            try:
                if not backend.exists(candidate):
                    break
            except BackendError:  # AmbiguousPath: several objects there, so the name is in use
                continue
        where = backend.describe(path)
        if rt.skip(f"renaming to {rpaths.basename(candidate)}", where):
            continue
        try:
            backend.move(entry, candidate)
        except BackendError as exc:
            rt.stats.error(exc, f"{where}: failed to rename")
            continue
        rt.stats.count(renames=1)
        log.info("%s: Renamed to %s", where, backend.describe(candidate))


def _split_ext(name: str) -> tuple[str, str]:
    """``photo.jpg`` -> (``photo``, ``.jpg``); a leading dot is not an extension (``.profile``)."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


# -- showing and asking ------------------------------------------------------------------------------------


def _show(
    rt: Runtime, backend: Backend, path: str, entries: list[Entry], kind: str, out: TextIO | None = None
) -> None:
    stream = out if out is not None else rt.out
    stream.write(f"{backend.describe(path)}: {len(entries)} {kind} with this name\n")
    for number, entry in enumerate(entries, 1):
        stream.write(f"  {number}: {_describe_entry(entry)}\n")
    stream.flush()


def _describe_entry(entry: Entry) -> str:
    from .listing import LocalTime

    when = LocalTime().nanos(entry.mtime_ns)
    if entry.is_dir:
        return f"directory, {when}, id {entry.id}"
    kind = min(entry.hashes, default=None)
    extra = f", {kind} {entry.hashes[kind]}" if kind is not None else ""
    return f"{entry.size:>12} bytes, {when}{extra}, id {entry.id}"


_MENU = "s) skip and do nothing, k) keep just one (choose which next), r) rename all to be different, q) quit"


def _ask(
    rt: Runtime, backend: Backend, path: str, entries: list[Entry], options: DedupeOptions, prompt: Prompt
) -> None:
    _show(rt, backend, path, entries, "files", options.out)
    where = backend.describe(path)
    while True:
        answer = _answer(prompt, f"{_MENU}\ns/k/r/q> ")
        if answer == "s":
            log.warning("%s: Skipping %d files with duplicate names", where, len(entries))
            return
        if answer == "r":
            _rename_all(rt, backend, path, entries)
            return
        if answer == "q":
            raise _Quit
        if answer == "k":
            keep = _number(prompt, len(entries))
            _keep_one(rt, backend, where, entries, keep - 1)
            return


def _number(prompt: Prompt, count: int) -> int:
    while True:
        answer = _answer(prompt, f"Enter the number of the file to keep (1-{count})> ")
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)


def _answer(prompt: Prompt, question: str) -> str:
    try:
        return prompt(question).strip().lower()
    except EOFError:
        raise _Quit from None
