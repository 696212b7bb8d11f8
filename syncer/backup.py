"""``syncer backup SRC DST --keep N``: dated snapshots of SRC under DST, the newest N kept (MEGA's backups:
a period and a count, without a daemon to babysit).

Each run builds ``DST/<name>_bk_<YYYYMMDDhhmmss>`` (UTC):

1. in a working folder ``<name>_bk_<stamp>.incomplete`` (an interrupted run leaves it; the next run picks it
   up where it stopped, and ``backup list`` shows it as incomplete, never as one of the N);
2. files unchanged since the newest complete snapshot are copied from it server-side where the backend can
   (a MEGA backup uploads only what changed), then a sync from SRC brings the working folder to SRC's
   state (uploads the rest, drops what SRC no longer has: those are still in the older snapshot);
3. the working folder is renamed to its final name, which is what marks it complete;
4. complete snapshots beyond the newest N go to the trash (MEGA's Rubbish Bin) or, where the backend has
   none, to DST's debris folder; so do working folders left by older interrupted runs.
"""

from __future__ import annotations

import calendar
import dataclasses
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from backends import Backend, Entry
from backends import paths as rpaths
from backends.errors import BackendError, DirNotFound, NotFound

from .compare import CompareOptions, Verdict, decide, effective_window
from .debris import DEBRIS_DIR, Disposal
from .errors import UsageError
from .options import SyncOptions
from .plan import Mode
from .runtime import Runtime
from .walk import walk

__all__ = ["BackupOptions", "Snapshot", "list_snapshots", "run_backup", "snapshots_of"]

log = logging.getLogger("syncer.backup")

_STAMP = "%Y%m%d%H%M%S"
_INCOMPLETE = ".incomplete"


@dataclass(frozen=True)
class BackupOptions:
    """``keep``: how many complete snapshots stay; ``name``: their name (SRC's folder name by default);
    ``sync``: the comparison, transfer and retry options of the sync into the working folder."""

    keep: int
    name: str = ""
    sync: SyncOptions = field(default_factory=SyncOptions)


@dataclass(frozen=True)
class Snapshot:
    """One snapshot folder: ``path`` under DST, its ``stamp`` (YYYYMMDDhhmmss) and whether it is complete."""

    path: str
    stamp: str
    complete: bool


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(name)}_bk_(\d{{14}})({re.escape(_INCOMPLETE)})?")


def snapshots_of(entries: Sequence[Entry], name: str) -> list[Snapshot]:
    """The snapshots of ``name`` among DST's entries, oldest first."""
    pattern = _pattern(name)
    found = []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if entry.is_dir and match:
            found.append(Snapshot(entry.path, match.group(1), match.group(2) is None))
    return sorted(found, key=lambda s: (s.stamp, s.complete))


def _name_of(src: Backend, options: BackupOptions) -> str:
    name = options.name or rpaths.basename(src.root.rstrip("/")) or src.name or "backup"
    if not re.fullmatch(r"[^/\x00]+", name) or name in (".", ".."):
        raise UsageError(f"cannot name snapshots after {name!r}: use --name")
    return name


def _listing(backend: Backend, directory: str = "") -> list[Entry]:
    try:
        return backend.list(directory)
    except NotFound:
        return []


def _retire(dst: Backend, path: str, rt: Runtime) -> None:
    """A snapshot (or working folder) no longer kept: to the trash, or to DST's debris folder."""
    try:
        if dst.features.trash:
            dst.purge(path)  # a trash-keeping backend's purge goes to its trash
            where = "the trash"
        else:
            target = f"{DEBRIS_DIR}/{Disposal.today()}/{path}"
            dst.mkdir(rpaths.parent(target))
            dst.move_dir(path, target)
            where = dst.describe(target)
    except BackendError as exc:
        rt.stats.error(exc, f"{dst.describe(path)}: could not remove the old snapshot")
        return
    log.warning("%s: old snapshot moved to %s", dst.describe(path), where)


def _seed_from(
    dst: Backend, src: Backend, base: Snapshot, work: str, rt: Runtime, options: BackupOptions
) -> int:
    """Copy into ``work`` (server-side) the files of snapshot ``base`` that SRC still has unchanged."""
    if not dst.features.server_side_copy:
        return 0
    window = effective_window(options.sync.compare, src.features, dst.features)
    have = {e.path[len(work) + 1 :] for e in dst.walk(work) if not e.is_dir} if dst.exists(work) else set()
    copied = 0
    wanted = {e.path: e for e in walk(src, stats=rt.stats, rules=rt.rules) if not e.is_dir}
    for entry in dst.walk(base.path):
        if entry.is_dir:
            continue
        relative = entry.path[len(base.path) + 1 :]
        source = wanted.get(relative)
        if source is None or relative in have:
            continue
        rebased = entry._replace(path=relative)
        if decide(source, rebased, CompareOptions(), window, None) is not Verdict.SAME:
            continue
        try:
            dst.copy(entry, f"{work}/{relative}")
            copied += 1
        except BackendError as exc:
            log.debug("%s: not copied from the last snapshot (%s); it will be uploaded", relative, exc)
    return copied


def run_backup(rt: Runtime, src_spec: str, dst_spec: str, options: BackupOptions) -> int:
    """One backup run; returns the exit code."""
    if options.keep < 1:
        raise UsageError(f"--keep must be at least 1, got {options.keep}")
    src = rt.open(src_spec)
    dst = rt.writable(rt.open(dst_spec))
    name = _name_of(src, options)
    try:
        with rt.located(src):
            if not src.stat("").is_dir:
                raise UsageError(f"{src.describe()} is not a directory")
    except NotFound as exc:
        raise DirNotFound(path=src.describe()) from exc
    dst.mkdir("")
    existing = snapshots_of(_listing(dst), name)
    complete = [s for s in existing if s.complete]
    unfinished = [s for s in existing if not s.complete]
    work = (
        unfinished[-1].path
        if unfinished
        else f"{name}_bk_{time.strftime(_STAMP, time.gmtime())}{_INCOMPLETE}"
    )
    if options.sync.dry_run:
        log.warning("%s: Skipped making a snapshot as --dry-run is set", dst.describe(work))
        return 0
    if unfinished:
        log.warning("%s: going on with an interrupted snapshot", dst.describe(work))
    dst.mkdir(work)
    if complete:
        seeded = _seed_from(dst, src, complete[-1], work, rt, options)
        if seeded:
            log.info("%d unchanged files copied from %s", seeded, dst.describe(complete[-1].path))
    code = _sync_into(rt, src, dst, work, options.sync)
    if code != 0:
        log.error(
            "%s: snapshot incomplete (exit code %d); the next run goes on with it", dst.describe(work), code
        )
        return code
    # named after now, but always after the newest snapshot (runs within one second, a clock set back):
    # the names' order is the snapshots' order, which decides what is kept
    now = int(time.time())
    if complete:
        newest = calendar.timegm(time.strptime(complete[-1].stamp, _STAMP))
        now = max(now, newest + 1)
    final = f"{name}_bk_{time.strftime(_STAMP, time.gmtime(now))}"
    while dst.exists(final):
        now += 1
        final = f"{name}_bk_{time.strftime(_STAMP, time.gmtime(now))}"
    dst.move_dir(work, final)
    log.warning("%s: snapshot complete", dst.describe(final))
    kept = [*complete, Snapshot(final, final.rsplit("_", 1)[1], True)]
    for old in kept[: -options.keep]:
        _retire(dst, old.path, rt)
    for stale in unfinished[:-1]:
        _retire(dst, stale.path, rt)
    return rt.stats.exit_code()


def _sync_into(rt: Runtime, src: Backend, dst: Backend, work: str, options: SyncOptions) -> int:
    """A sync of SRC into the working folder, as ``syncer sync`` does it (retries, progress), except that
    what it removes or replaces there is gone for good: an older snapshot holds it, so nothing goes to a
    debris or backup folder, and a sync that copied nothing (all taken from the last snapshot) succeeded."""
    from .sync_commands import transfer

    target = dst.with_root(rpaths.join(dst.root, work) if dst.root else work)
    inside = dataclasses.replace(
        options, hard_delete=True, backup_dir=None, suffix="", debris_keep_s=None, error_on_no_transfer=False
    )
    return transfer(rt, src, target, Mode.SYNC, inside)


def list_snapshots(rt: Runtime, dst_spec: str, name: str) -> list[tuple[Snapshot, int, int]]:
    """(snapshot, files, bytes) of every snapshot under DST (of ``name``, or of any name), oldest first."""
    dst = rt.open(dst_spec)
    with rt.located(dst):
        entries = dst.list("")
    pattern = re.compile(r"(.+)_bk_(\d{14})(\.incomplete)?") if not name else _pattern(name)
    found = []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if entry.is_dir and match:
            complete = match.groups()[-1] is None
            stamp = match.group(2) if not name else match.group(1)
            snapshot = Snapshot(entry.path, stamp, complete)
            files = size = 0
            for item in dst.walk(entry.path):
                if not item.is_dir:
                    files += 1
                    size += max(0, item.size)
            found.append((snapshot, files, size))
    return sorted(found, key=lambda f: (f[0].path.rsplit("_bk_", 1)[0], f[0].stamp))
