"""``syncer bisync PATH1 PATH2``: lock the pair, list both sides, find each side's changes since the last
agreement, check the safety gates, reconcile, and carry the plan out while recording it.

Unlike rclone bisync, nothing here ever demands a ``--resync`` after a failure: an aborted run changed
nothing, an interrupted one recorded exactly what it did, and either way the next run starts from there.
Only the very first run of a pair needs ``--resync``, because without a past agreement a file missing on
one side cannot be told apart from a file deleted there.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from backends import Backend, Entry, HashType
from backends.errors import BackendError

from ..bwlimit import BandwidthLimit
from ..compare import CompareOptions, common_hash, effective_window
from ..debris import Disposal, DisposalMode
from ..errors import SafetyAbort, UsageError
from ..interrupts import interrupt_sets
from ..operations import overlaps, same_bytes
from ..progress import Reporter
from ..runtime import Runtime
from .deltas import CompareSpec, renames, side_deltas
from .listing import SideListing, add_hashes, list_side
from .propagate import Propagation, propagate
from .reconcile import ConflictOptions, Plan, content_candidates, reconcile, resync_plan
from .safety import access_problem, safety_problems
from .state import PairState
from .watch import Watcher, WatchTiming

__all__ = ["BisyncOptions", "run_bisync"]

log = logging.getLogger("syncer.bisync")


@dataclass(frozen=True)
class BisyncOptions:
    """Everything bisync takes besides its two paths; built by the CLI."""

    state_dir: str
    resync: bool = False
    dry_run: bool = False
    force: bool = False
    max_delete_percent: int = 50
    check_access: bool = False
    check_filename: str = "RCLONE_TEST"
    conflicts: ConflictOptions = field(default_factory=ConflictOptions)
    compare: CompareSpec = field(default_factory=CompareSpec)
    modify_window_ns: int | None = None
    transfers: int = 4
    checkers: int = 8
    low_level_retries: int = 10
    bwlimit: float | None = None
    progress: bool = False
    watch: bool = False
    watch_timing: WatchTiming = field(default_factory=WatchTiming)


def _identity(backend: Backend) -> str:
    """How the pair's state names a side: the remote and path, or the absolute local path."""
    return backend.describe() if backend.name else os.path.abspath(backend.describe())


def _hash_kind(backend: Backend, other: Backend) -> HashType | None:
    """The hash a side is compared with under ``--compare checksum``: one both sides share, else its own
    strongest."""
    return common_hash(backend.features, other.features) or common_hash(backend.features, backend.features)


def _list_both(rt: Runtime, sides: dict[int, Backend], options: BisyncOptions) -> dict[int, SideListing]:
    def one(side: int) -> SideListing:
        backend = sides[side]
        with rt.located(backend):
            listing = list_side(backend, rules=rt.rules, stats=rt.stats, side=f"path{side}")
        if options.compare.checksum:
            kind = _hash_kind(backend, sides[3 - side])
            if kind is None:
                log.warning(
                    "%s: no hash to compare with; --compare checksum ignored there", backend.describe()
                )
            else:
                add_hashes(backend, listing, kind, rt.stats, rt.workers(options.checkers, backend))
        return listing

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.submit(one, 1), pool.submit(one, 2)
        return {1: first.result(), 2: second.result()}


def _same_bytes(one: Backend, first: Entry, two: Backend, second: Entry) -> bool:
    """Whether two files hold the same bytes: a hash both sides give, else both read and compared."""
    kind = common_hash(one.features, two.features)
    if kind is not None:
        hash1, hash2 = one.hash(first, kind), two.hash(second, kind)
        if hash1 and hash2:
            return hash1 == hash2
    return same_bytes(one, first, two, second)


def _same_content(
    sides: dict[int, Backend], listings: dict[int, SideListing], paths: list[str], checkers: int
) -> set[str]:
    """The ``paths`` whose two files hold the same bytes (an error reading one counts as different: the
    conflict that follows keeps both)."""

    def same(path: str) -> bool:
        try:
            return _same_bytes(sides[1], listings[1].entries[path], sides[2], listings[2].entries[path])
        except BackendError as exc:
            log.debug("%s: could not compare the two versions: %s", path, exc)
            return False

    if not paths:
        return set()
    with ThreadPoolExecutor(max_workers=max(1, min(checkers, len(paths)))) as pool:
        return {path for path, equal in zip(paths, pool.map(same, paths), strict=True) if equal}


def _describe(plan: Plan, sides: dict[int, Backend]) -> list[str]:
    from .reconcile import Conflict, CopyFile, DeleteFile, MakeDir, RemoveDir, RenameFile

    lines = []
    for action in plan.actions:
        if isinstance(action, CopyFile):
            target = sides[3 - action.source].describe(action.path)
            lines.append(f"{target}: copy from path{action.source} ({action.why})")
        elif isinstance(action, DeleteFile):
            lines.append(
                f"{sides[action.side].describe(action.path)}: delete (deleted on path{3 - action.side})"
            )
        elif isinstance(action, RenameFile):
            lines.append(f"{sides[action.side].describe(action.old)}: rename to {action.new}")
        elif isinstance(action, MakeDir):
            lines.append(f"{sides[action.side].describe(action.path)}: make directory")
        elif isinstance(action, RemoveDir):
            lines.append(f"{sides[action.side].describe(action.path)}: remove directory")
        elif isinstance(action, Conflict):
            lines.append(f"{action.path}: conflict ({action.why})")
    return lines


def run_bisync(rt: Runtime, path1: str, path2: str, options: BisyncOptions) -> int:
    """The bisync command; returns its exit code (errors were logged as they happened)."""
    sides = {1: rt.writable(rt.open(path1)), 2: rt.writable(rt.open(path2))}
    if overlaps(sides[1], sides[2]):
        raise UsageError(
            f"{sides[1].describe()} and {sides[2].describe()} overlap: bisync needs two separate trees"
        )
    state = PairState(options.state_dir, _identity(sides[1]), _identity(sides[2]))
    state.lock()
    try:
        if not options.resync and not state.exists:
            first = f"{sides[1].describe()} and {sides[2].describe()}"
            raise UsageError(f"no earlier bisync of {first}: run it once with --resync")
        if options.watch and not options.dry_run:
            return _watch(rt, sides, state, options)
        _one_pass(rt, sides, state, options, resync=options.resync)
    finally:
        state.close()
    if not options.dry_run:
        log.info("%s", rt.stats.summary())
    return rt.stats.exit_code()


def _one_pass(
    rt: Runtime,
    sides: dict[int, Backend],
    state: PairState,
    options: BisyncOptions,
    *,
    resync: bool,
    cancel: threading.Event | None = None,
) -> None:
    """List, check, reconcile and propagate once; SafetyAbort (nothing changed) when a gate objects."""
    agreed = {} if resync else state.load()
    listings = _list_both(rt, sides, options)
    if options.check_access:
        problem = access_problem(listings[1], listings[2], options.check_filename)
        if problem is not None:
            raise SafetyAbort(f"{problem}; nothing was changed")
    window = effective_window(
        CompareOptions(modify_window_ns=options.modify_window_ns), sides[1].features, sides[2].features
    )
    if resync:
        candidates = content_candidates(None, None, listings[1], listings[2], window)
        same = _same_content(sides, listings, candidates, options.checkers)
        plan = resync_plan(listings[1], listings[2], window, same)
    else:
        deltas = {s: side_deltas(agreed, s, listings[s], options.compare) for s in (1, 2)}
        moved = {s: renames(deltas[s], s, listings[s]) for s in (1, 2)}
        if not options.force:
            problems = safety_problems(
                agreed,
                {s: (listings[s], deltas[s]) for s in (1, 2)},
                max_delete_percent=options.max_delete_percent,
                renamed={s: set(moved[s].values()) for s in (1, 2)},
            )
            if problems:
                raise SafetyAbort(f"{'; '.join(problems)}; nothing was changed (--force to go ahead)")
        candidates = content_candidates(deltas[1], deltas[2], listings[1], listings[2], window)
        plan = reconcile(
            deltas[1],
            deltas[2],
            listings[1],
            listings[2],
            renames1=moved[1],
            renames2=moved[2],
            conflicts=options.conflicts,
            window_ns=window,
            same_content=_same_content(sides, listings, candidates, options.checkers),
        )
    if options.dry_run:
        for line in _describe(plan, sides):
            log.warning("%s: Skipped as --dry-run is set", line)
        return
    if resync:
        state.start_resync()
    propagation = Propagation(
        transfers=rt.workers(options.transfers, sides[1], sides[2]),
        low_level_retries=options.low_level_retries,
        disposal=Disposal(DisposalMode.DEBRIS, day=Disposal.today()),
        limit=BandwidthLimit(options.bwlimit) if options.bwlimit else None,
        cancel=cancel,
    )
    with Reporter(rt.stats, progress=options.progress and not options.watch):
        propagate(plan, sides, listings, state, propagation, rt.stats)


def _watch(rt: Runtime, sides: dict[int, Backend], state: PairState, options: BisyncOptions) -> int:
    """Pass after pass, each after a settled burst of changes, until Ctrl-C (see ``watch``). A pass that
    fails or is stopped by a safety gate is reported and the watching goes on; the exit code is that of the
    last pass."""
    stop = threading.Event()
    restore = interrupt_sets(stop)
    watcher = Watcher(sides, options.watch_timing, stop)
    say = log.warning if options.progress else log.info
    try:
        watcher.start()
        resync = options.resync
        while not stop.is_set():
            rt.stats.reset_errors()
            before = (rt.stats.transfers, rt.stats.deletes, rt.stats.renames)
            try:
                _one_pass(rt, sides, state, options, resync=resync, cancel=stop)
                resync = False
            except BackendError as exc:
                rt.stats.error(exc, "bisync pass")
            after = (rt.stats.transfers, rt.stats.deletes, rt.stats.renames)
            done = [
                f"{b - a} {what}"
                for a, b, what in zip(before, after, ("copied", "deleted", "renamed"), strict=True)
                if b > a
            ]
            say(
                "Pass done: %s%s",
                ", ".join(done) or "nothing to do",
                f", {rt.stats.errors} errors" if rt.stats.errors else "",
            )
            say("Watching %s and %s for changes (Ctrl-C to stop)", sides[1].describe(), sides[2].describe())
            changed = watcher.settled()
            if changed is None:
                break
            say("Changes on %s: syncing", " and ".join(f"path{s}" for s in sorted(changed)))
    finally:
        stop.set()
        restore()
        watcher.join()
    log.warning("Stopped watching")
    return rt.stats.exit_code()
