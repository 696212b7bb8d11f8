"""Commands that change or read objects directly: mkdir, rmdir, rmdirs, delete, purge, cat, copyto, moveto,
about, link.

Commands that touch many objects go on after a per-object failure, count it, and let the exit code report it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from backends import Backend, Entry, parse_location
from backends import paths as rpaths
from backends.base import BLOCK_SIZE
from backends.errors import BackendError, DirNotFound, IsADirectory, NotFound

from .compare import CompareOptions, Verdict, common_hash, decide, decide_with_hashes, effective_window
from .listing import about_text
from .operations import copy_file, move_file
from .parallel import run_parallel
from .runtime import Runtime
from .walk import walk

__all__ = [
    "CatRange",
    "cmd_about",
    "cmd_cat",
    "cmd_cleanup",
    "cmd_copyto",
    "cmd_delete",
    "cmd_link",
    "cmd_mkdir",
    "cmd_moveto",
    "cmd_purge",
    "cmd_rmdir",
    "cmd_rmdirs",
]

log = logging.getLogger("syncer")


def cmd_mkdir(rt: Runtime, spec: str) -> None:
    backend = rt.writable(rt.open(spec))
    if not rt.skip("make directory", backend.describe()):
        with rt.located(backend):
            backend.mkdir("")


def cmd_rmdir(rt: Runtime, spec: str) -> None:
    backend = rt.writable(rt.open(spec))
    if not rt.skip("remove directory", backend.describe()):
        with rt.located(backend):
            backend.rmdir("")


def cmd_purge(rt: Runtime, spec: str) -> None:
    backend = rt.writable(rt.open(spec))
    if not rt.skip("purge", backend.describe()):
        with rt.located(backend):
            backend.purge("")


def _tree(rt: Runtime, backend: Backend, *, filtered: bool = True) -> list[Entry]:
    try:
        with rt.located(backend):
            return list(walk(backend, "", stats=rt.stats, rules=rt.rules if filtered else None))
    except NotFound as exc:
        raise DirNotFound(path=backend.describe()) from exc


def remove_empty_dirs(rt: Runtime, backend: Backend, tree: list[Entry], *, leave_root: bool) -> None:
    """Remove every directory of ``tree`` with no file below it, deepest first (and the root unless asked)."""
    holds_files: set[str] = set()
    dirs: list[str] = []
    for entry in tree:
        if entry.is_dir:
            dirs.append(entry.path)
            continue
        parent = rpaths.parent(entry.path)
        while parent not in holds_files:
            holds_files.add(parent)
            if not parent:
                break
            parent = rpaths.parent(parent)
    empty = [d for d in dirs if d not in holds_files]
    empty.sort(key=lambda d: d.count("/"), reverse=True)
    if not leave_root and "" not in holds_files:
        empty.append("")
    for directory in empty:
        if rt.skip("remove directory", backend.describe(directory)):
            continue
        try:
            backend.rmdir(directory)
            log.info("%s: Removed directory", backend.describe(directory))
        except BackendError as exc:
            rt.stats.error(exc, f"{backend.describe(directory)}: failed to remove directory")


def cmd_rmdirs(rt: Runtime, spec: str, *, leave_root: bool) -> None:
    backend = rt.writable(rt.open(spec))
    # Unfiltered: a directory holding only excluded files is not empty.
    remove_empty_dirs(rt, backend, _tree(rt, backend, filtered=False), leave_root=leave_root)


def cmd_delete(rt: Runtime, spec: str, *, rmdirs: bool) -> None:
    """Delete the files below ``spec`` (or the file it names), in parallel."""
    backend, single = rt.open_tree(spec)
    rt.writable(backend)
    if single is not None:
        files = [single]
        tree: list[Entry] = []
    else:
        tree = _tree(rt, backend)
        files = [e for e in tree if not e.is_dir]

    def delete(entry: Entry) -> None:
        if rt.skip(f"delete (size {entry.size})", backend.describe(entry.path)):
            return
        try:
            backend.remove(entry)
            log.info("%s: Deleted", backend.describe(entry.path))
        except BackendError as exc:
            rt.stats.error(exc, f"{backend.describe(entry.path)}: failed to delete")

    run_parallel(files, delete, workers=rt.workers(rt.checkers, backend))
    if rmdirs and single is None and not rt.stats.errors:
        remove_empty_dirs(rt, backend, [e for e in tree if e.is_dir], leave_root=True)


@dataclass(frozen=True)
class CatRange:
    """``cat`` flags: ``offset`` (negative: from the end), ``count`` (-1: to the end), ``discard``."""

    offset: int = 0
    count: int = -1
    discard: bool = False


def _cat_one(rt: Runtime, backend: Backend, entry: Entry, span: CatRange) -> None:
    offset = span.offset
    if offset < 0:
        offset = max(0, entry.size + offset)
    length = None if span.count < 0 else span.count
    try:
        with backend.open_read(entry, offset, length) as stream:
            while block := stream.read(BLOCK_SIZE):
                if not span.discard:
                    rt.out_bytes.write(block)
    except BackendError as exc:
        rt.stats.error(exc, f"{backend.describe(entry.path)}: failed to read")


def cmd_cat(rt: Runtime, spec: str, span: CatRange) -> None:
    """Write a file's bytes to stdout, or those of every file below a directory."""
    backend, single = rt.open_tree(spec)
    if single is not None:
        _cat_one(rt, backend, single, span)
    else:
        for entry in _tree(rt, backend):
            if not entry.is_dir:
                _cat_one(rt, backend, entry, span)
    rt.out_bytes.flush()


def _one_file(rt: Runtime, src_spec: str, dst_spec: str) -> tuple[Backend, Entry, Backend, str, Entry | None]:
    """Resolve copyto/moveto's operands: the source file, and the destination with what is there now."""
    src, src_leaf = rt.open_leaf(src_spec)
    with rt.located(src):
        entry = src.stat(src_leaf)
        if entry.is_dir and not src_leaf and parse_location(src_spec).link is not None:
            # a link to one file opens as a folder holding just that file
            files = [e for e in src.list("") if not e.is_dir]
            entry = files[0] if len(files) == 1 else entry
    if entry.is_dir:
        raise IsADirectory(f"{src_spec} is a directory; copyto/moveto handle one file", path="")
    dst, dst_leaf = rt.open_leaf(dst_spec)
    rt.writable(dst)
    if not dst_leaf:
        raise IsADirectory(f"{dst_spec} names a directory; give the destination file name", path="")
    try:
        with rt.located(dst):
            existing: Entry | None = dst.stat(dst_leaf)
    except NotFound:
        existing = None
    if existing is not None and existing.is_dir:
        raise IsADirectory(path=dst.describe(dst_leaf))
    return src, entry, dst, dst_leaf, existing


_SKIPPED = {
    Verdict.SKIP_NEWER: "Destination is newer than source, skipping",
    Verdict.SKIP_EXISTING: "Destination exists, skipping",
}


def _verdict(
    src: Backend, entry: Entry, dst: Backend, existing: Entry | None, options: CompareOptions
) -> Verdict:
    """The engine's decision for one file (hashes fetched when the comparison needs them)."""
    if existing is None:
        return Verdict.TRANSFER
    window = effective_window(options, src.features, dst.features)
    kind = common_hash(src.features, dst.features)
    verdict = decide(entry, existing, options, window, kind)
    if verdict is Verdict.NEEDS_HASH and kind is not None:
        verdict = decide_with_hashes(
            entry, existing, options, window, src.hash(entry, kind), dst.hash(existing, kind)
        )
    if verdict is Verdict.SET_MTIME and not dst.features.can_set_mtime:
        verdict = Verdict.TRANSFER
    return verdict


def cmd_copyto(rt: Runtime, src_spec: str, dst_spec: str, options: CompareOptions) -> None:
    """Copy one file to a destination file name, with copy's comparison (identical files are skipped)."""
    src, entry, dst, dst_leaf, existing = _one_file(rt, src_spec, dst_spec)
    target = dst.describe(dst_leaf)
    verdict = _verdict(src, entry, dst, existing, options)
    if verdict is Verdict.SET_MTIME and existing is not None and entry.mtime_ns is not None:
        if not rt.skip("set modification time", target):
            dst.set_mtime(existing, entry.mtime_ns)
            log.info("%s: Updated modification time in destination", target)
        return
    if verdict is not Verdict.TRANSFER:
        log.debug("%s: %s", target, _SKIPPED.get(verdict, "Unchanged skipping"))
        return
    if rt.skip("copy", target):
        return
    copy_file(src, entry, dst, dst_leaf)
    log.info("%s: Copied (%s)", target, "replaced existing" if existing else "new")


def cmd_moveto(rt: Runtime, src_spec: str, dst_spec: str, options: CompareOptions) -> None:
    """Move one file to a destination file name; as rclone, a destination that needs no transfer (identical,
    or newer with --update) just gets the source deleted, and --ignore-existing leaves both."""
    src, entry, dst, dst_leaf, existing = _one_file(rt, src_spec, dst_spec)
    rt.writable(src)
    target = dst.describe(dst_leaf)
    if src.same_store(dst) and src.describe(entry.path) == target:
        return
    verdict = _verdict(src, entry, dst, existing, options)
    if verdict is Verdict.SKIP_EXISTING:
        log.debug("%s: destination exists, not moving", target)
        return
    if verdict is not Verdict.TRANSFER:
        fix_time = verdict is Verdict.SET_MTIME and existing is not None and entry.mtime_ns is not None
        if (
            fix_time
            and existing is not None
            and entry.mtime_ns is not None
            and not rt.skip("set mtime", target)
        ):
            dst.set_mtime(existing, entry.mtime_ns)
        if not rt.skip("delete", src.describe(entry.path)):
            src.remove(entry)
            log.info("%s: Deleted (no transfer needed)", src.describe(entry.path))
        return
    if rt.skip("move", target):
        return
    move_file(src, entry, dst, dst_leaf)
    log.info("%s: Moved", target)


def cmd_cleanup(rt: Runtime, spec: str, *, older_than_s: float | None) -> None:
    """Empty the debris folder of a sync destination (day folders older than ``older_than_s``), and the
    backend's own trash where it has one."""
    from .debris import cleanup_debris

    backend = rt.writable(rt.open(spec))
    if rt.skip("clean up debris", backend.describe()):
        return
    with rt.located(backend):
        files, days = cleanup_debris(backend, older_than_s=older_than_s)
        if backend.features.trash:
            backend.cleanup(older_than_s=older_than_s)
    log.warning("%s: removed %d debris files in %d day folders", backend.describe(), files, days)


def cmd_logout(rt: Runtime, spec: str) -> None:
    """``syncer mega logout REMOTE:``: the next command on that remote logs in again."""
    backend = rt.open(spec)
    with rt.located(backend):
        backend.logout()
    log.warning("%s: logged out; the cached session is forgotten", backend.describe())


def cmd_link(rt: Runtime, spec: str, *, unlink: bool) -> None:
    """``syncer link REMOTE:PATH``: print a public URL for a file or directory (the same one each time while
    it lives); ``--unlink`` ends it. A missing path is reported as rclone reports a missing location."""
    backend = rt.open(spec)
    if rt.skip("remove the public link" if unlink else "create a public link", backend.describe()):
        return
    try:
        with rt.located(backend):
            url = backend.public_link("", unlink=unlink)
    except NotFound as exc:
        raise DirNotFound("not found", path=backend.describe()) from exc
    if unlink:
        log.warning("%s: public link removed", backend.describe())
    else:
        rt.out.write(url + "\n")


def cmd_about(rt: Runtime, spec: str, *, as_json: bool, full: bool) -> None:
    usage = rt.open(spec).about()
    if as_json:
        figures = {
            k: v
            for k, v in (
                ("total", usage.total),
                ("used", usage.used),
                ("trashed", usage.trashed),
                ("other", usage.other),
                ("free", usage.free),
                ("objects", usage.objects),
            )
            if v is not None
        }
        import json

        rt.out.write(json.dumps(figures, indent="\t") + "\n")
    else:
        rt.out.write(about_text(usage, full=full))
