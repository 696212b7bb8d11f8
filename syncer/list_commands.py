"""The listing commands: ls, lsl, lsd, lsf, lsjson, tree, size.

Each takes a location that names a directory (listed) or a file (listed alone, as rclone does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from backends import Backend, Entry, HashType
from backends.errors import BackendError

from .listing import (
    LocalTime,
    LsfFormat,
    TreeStyle,
    lsd_line,
    lsjson_document,
    lsjson_item,
    size_text,
    tree_lines,
)
from .runtime import Runtime
from .walk import walk

__all__ = ["ListScope", "cmd_ls", "cmd_lsd", "cmd_lsf", "cmd_lsjson", "cmd_lsl", "cmd_size", "cmd_tree"]


@dataclass(frozen=True)
class ListScope:
    """Which entries a listing command shows."""

    max_depth: int | None = None
    files_only: bool = False
    dirs_only: bool = False


def entries(rt: Runtime, spec: str, scope: ListScope) -> Iterator[Entry]:
    """The entries a listing command shows, in walk order."""
    return listed(rt, *rt.open_tree(spec), scope)


def listed(rt: Runtime, backend: Backend, single: Entry | None, scope: ListScope) -> Iterator[Entry]:
    """The entries of an opened listing (see ``open_listing``)."""
    if single is not None:
        if not scope.dirs_only:
            yield single
        return
    with rt.located(backend):
        for entry in walk(backend, "", stats=rt.stats, max_depth=scope.max_depth, rules=rt.rules):
            if entry.is_dir:
                if not scope.files_only:
                    yield entry
            elif not scope.dirs_only:
                yield entry


def _hash_or_empty(backend: Backend, entry: Entry, kind: HashType, rt: Runtime) -> str:
    if kind not in backend.features.hashes:
        return ""
    try:
        return backend.hash(entry, kind)
    except BackendError as exc:
        rt.stats.error(exc, f"{backend.describe(entry.path)}: failed to hash")
        return ""


def _write_lines(rt: Runtime, lines: Iterable[str]) -> None:
    """Write lines in batches: one write call per line costs more than formatting it."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 1024:
            rt.out.write("".join(batch))
            batch.clear()
    rt.out.write("".join(batch))


def cmd_ls(rt: Runtime, spec: str, max_depth: int | None) -> None:
    scope = ListScope(max_depth=max_depth, files_only=True)
    _write_lines(rt, (f"{e.size:9d} {e.path}\n" for e in entries(rt, spec, scope)))


def cmd_lsl(rt: Runtime, spec: str, max_depth: int | None) -> None:
    nanos = LocalTime().nanos
    scope = ListScope(max_depth=max_depth, files_only=True)
    _write_lines(rt, (f"{e.size:9d} {nanos(e.mtime_ns)} {e.path}\n" for e in entries(rt, spec, scope)))


def cmd_lsd(rt: Runtime, spec: str, max_depth: int | None) -> None:
    clock = LocalTime()
    scope = ListScope(max_depth=max_depth, dirs_only=True)
    _write_lines(rt, (lsd_line(entry, clock) for entry in entries(rt, spec, scope)))


def cmd_lsf(rt: Runtime, spec: str, scope: ListScope, style: LsfFormat) -> None:
    backend, single = rt.open_tree(spec)

    def hash_of(entry: Entry, kind: HashType) -> str:
        return _hash_or_empty(backend, entry, kind, rt)

    lookup = hash_of if style.wants_hash else None
    _write_lines(rt, (style.line(entry, lookup) for entry in listed(rt, backend, single, scope)))


def cmd_lsjson(
    rt: Runtime,
    spec: str,
    scope: ListScope,
    *,
    hashes: list[HashType] | None,
    modtime: bool,
    mimetype: bool,
    stat: bool,
) -> None:
    clock = LocalTime()
    backend, single = rt.open_tree(spec)

    def item(entry: Entry, path: str | None = None) -> dict[str, object]:
        found = None
        if hashes is not None and not entry.is_dir:
            found = {k.value: h for k in hashes if (h := _hash_or_empty(backend, entry, k, rt))}
        return lsjson_item(entry, clock, hashes=found, modtime=modtime, mimetype=mimetype, path=path)

    if stat:
        entry = single if single is not None else backend.stat("")
        import json

        rt.out.write(json.dumps(item(entry, path=entry.name), ensure_ascii=False, indent="\t") + "\n")
        return
    _write_lines(rt, lsjson_document(item(e) for e in listed(rt, backend, single, scope)))


def cmd_tree(rt: Runtime, spec: str, max_depth: int | None, style: TreeStyle) -> None:
    _write_lines(rt, tree_lines(entries(rt, spec, ListScope(max_depth=max_depth)), style))


def cmd_size(rt: Runtime, spec: str, max_depth: int | None, as_json: bool) -> None:
    count = total = sizeless = 0
    for entry in entries(rt, spec, ListScope(max_depth=max_depth, files_only=True)):
        count += 1
        if entry.size >= 0:
            total += entry.size
        else:
            sizeless += 1
    if as_json:
        import json

        figures = {"count": count, "bytes": total, "sizeless": sizeless}
        rt.out.write(json.dumps(figures, separators=(",", ":")) + "\n")
    else:
        rt.out.write(size_text(count, total, sizeless))
