"""Carrying a bisync plan out, and recording each action in the state as soon as it has happened.

The order keeps every intermediate state safe to stop in: conflicts first (they only rename and copy), then
renames, new directories, copies (in parallel), deletes, and directory removals deepest first. Whatever a
copy replaces or a delete removes goes to that side's debris (or its trash), never straight away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from threading import Event
from typing import TypeVar

from backends import Backend, Entry
from backends import paths as rpaths
from backends.errors import BackendError, DirectoryNotEmpty, NotFound

from ..accounting import Stats
from ..bwlimit import BandwidthLimit
from ..debris import Disposal, dispose
from ..operations import copy_file
from ..parallel import run_parallel
from ..retry import with_retries
from .deltas import seen_of
from .listing import SideListing
from .reconcile import Conflict, CopyFile, DeleteFile, MakeDir, Plan, RemoveDir, RenameFile
from .state import Agreed, PairState, Seen

__all__ = ["Propagation", "propagate"]

log = logging.getLogger("syncer.bisync")

A = TypeVar("A")


@dataclass(frozen=True)
class Propagation:
    """How actions are carried out."""

    transfers: int = 4
    low_level_retries: int = 10
    disposal: Disposal = field(default_factory=Disposal)
    limit: BandwidthLimit | None = None
    #: once set, no further action starts (the ones under way finish and are recorded)
    cancel: Event | None = None


@dataclass
class _Runner:
    """One propagation: the two sides, their listings (for hashes), the state it records into."""

    sides: Mapping[int, Backend]
    listings: Mapping[int, SideListing]
    state: PairState
    options: Propagation
    stats: Stats

    # -- helpers ---------------------------------------------------------------------------------------------

    def _try(self, what: str, operation: Callable[[], object]) -> bool:
        try:
            with_retries(operation, attempts=self.options.low_level_retries, what=what)
        except BackendError as exc:
            self.stats.error(exc, what)
            return False
        return True

    def listed(self, side: int, entry: Entry) -> Seen:
        """A side's record of a file as listed (with its hash when the comparison uses hashes)."""
        return seen_of(entry, self.listings[side].hashes.get(entry.path, ""))

    def written(self, source: int, entry: Entry, result: Entry) -> Seen:
        """The record of ``result``, a copy of side ``source``'s ``entry``: the copy has the source's hash
        when both sides use the same kind, else whatever hash the destination returned with it."""
        kinds = (self.listings[source].hash_kind, self.listings[3 - source].hash_kind)
        known = ""
        if kinds[1] is not None:
            known = result.hashes.get(kinds[1], "")
            if not known and kinds[0] == kinds[1]:
                known = self.listings[source].hashes.get(entry.path, "")
        return seen_of(result, known)

    def _agree(self, path: str, is_dir: bool, seen: Mapping[int, Seen]) -> None:
        self.state.record([Agreed(path, is_dir, seen[1], seen[2])])

    def _dispose(self, side: int, entry: Entry) -> bool:
        backend = self.sides[side]
        where: list[str] = []
        if not self._try(
            f"{backend.describe(entry.path)}: move aside",
            lambda: where.append(dispose(backend, entry, self.options.disposal)),
        ):
            return False
        log.info("%s: Replaced or deleted file %s", backend.describe(entry.path), where[-1])
        return True

    def _copy(self, source: int, entry: Entry, path: str) -> Entry | None:
        """``entry`` of side ``source`` copied to ``path`` on the other side; None (counted) on failure."""
        src, dst = self.sides[source], self.sides[3 - source]
        stats = self.stats
        written: list[Entry] = []

        def flowed(count: int) -> None:
            stats.flowed(path, count)

        def run() -> None:
            stats.end(path, ok=False, size=0)  # a retry starts the count again
            stats.begin(path, entry.size)
            written.append(copy_file(src, entry, dst, path, on_bytes=flowed, limit=self.options.limit))

        ok = self._try(f"{dst.describe(path)}: copy from path{source}", run)
        stats.end(path, ok=ok, size=entry.size)
        return written[-1] if ok else None

    # -- actions ---------------------------------------------------------------------------------------------

    def copy(self, action: CopyFile) -> None:
        target = 3 - action.source
        if action.replaces is not None and not self._dispose(target, action.replaces):
            return
        written = self._copy(action.source, action.entry, action.path)
        if written is None:
            return
        log.info(
            "%s: Copied from path%d (%s)", self.sides[target].describe(action.path), action.source, action.why
        )
        seen = {action.source: self.listed(action.source, action.entry)}
        seen[target] = self.written(action.source, action.entry, written)
        self._agree(action.path, False, seen)

    def delete(self, action: DeleteFile) -> None:
        if self._dispose(action.side, action.entry):
            self.stats.count(deletes=1)
            self.state.record(gone=[action.path])

    def rename(self, action: RenameFile) -> None:
        backend = self.sides[action.side]
        moved: list[Entry] = []
        parent = rpaths.parent(action.new)

        def run() -> None:
            if parent:
                backend.mkdir(parent)
            moved.append(backend.move(action.entry, action.new))

        if not self._try(f"{backend.describe(action.old)}: rename to {action.new}", run):
            return
        self.stats.count(renames=1)
        log.info(
            "%s: Renamed to %s (renamed on path%d)", backend.describe(action.old), action.new, 3 - action.side
        )
        self.state.record(gone=[action.old])
        seen = {3 - action.side: self.listed(3 - action.side, action.moved)}
        # the same file as listed at its old path, so the hash listed there is still its own
        seen[action.side] = seen_of(moved[-1], self.listings[action.side].hashes.get(action.old, ""))
        self._agree(action.new, False, seen)

    def mkdir(self, action: MakeDir) -> None:
        backend = self.sides[action.side]
        if self._try(f"{backend.describe(action.path)}: make directory", lambda: backend.mkdir(action.path)):
            log.info("%s: Made directory", backend.describe(action.path))
            self._agree(action.path, True, {1: Seen(), 2: Seen()})

    def rmdir(self, action: RemoveDir) -> None:
        backend = self.sides[action.side]
        try:
            with_retries(
                lambda: backend.rmdir(action.path), attempts=self.options.low_level_retries, what=action.path
            )
        except DirectoryNotEmpty:
            log.info("%s: Directory kept (not empty)", backend.describe(action.path))
            return
        except NotFound:
            self.state.record(gone=[action.path])  # already gone: nothing left to agree on
            return
        except BackendError as exc:
            self.stats.error(exc, f"{backend.describe(action.path)}: remove directory")
            return
        self.stats.count(dirs_deleted=1)
        log.info("%s: Removed directory (deleted on path%d)", backend.describe(action.path), 3 - action.side)
        self.state.record(gone=[action.path])

    def conflict(self, action: Conflict) -> None:
        path = action.path
        entries = {1: action.one, 2: action.two}
        log.warning(
            "%s: conflict (%s): %s",
            path,
            action.why,
            self._conflict_outcome(action),
        )
        if action.replace_loser:
            assert action.winner is not None
            loser = entries[3 - action.winner]
            self.copy(CopyFile(action.winner, path, entries[action.winner], loser, "conflict winner"))
            return
        for side in (1, 2):
            name = action.renames[side - 1]
            # a failed step stops here: what is left is a conflict again next run, or a plain change
            if name is not None and not self._set_aside(side, entries[side], name):
                return
        if action.winner is None:
            self.state.record(gone=[path])
            return
        winner = entries[action.winner]
        written = self._copy(action.winner, winner, path)
        if written is not None:
            target = self.sides[3 - action.winner].describe(path)
            log.info("%s: Copied from path%d (the conflict's winner)", target, action.winner)
            seen = {action.winner: self.listed(action.winner, winner)}
            seen[3 - action.winner] = self.written(action.winner, winner, written)
            self._agree(path, False, seen)

    def _set_aside(self, side: int, entry: Entry, name: str) -> bool:
        """Rename side ``side``'s version of a conflict to ``name`` and copy it to the other side."""
        backend = self.sides[side]
        moved: list[Entry] = []
        if not self._try(
            f"{backend.describe(entry.path)}: rename to {name}",
            lambda: moved.append(backend.move(entry, name)),
        ):
            return False
        self.stats.count(renames=1)
        log.info("%s: Renamed to %s (a conflict's path%d version)", backend.describe(entry.path), name, side)
        copied = self._copy(side, moved[-1], name)
        if copied is None:
            return False
        log.info(
            "%s: Copied from path%d (a conflict's path%d version)",
            self.sides[3 - side].describe(name),
            side,
            side,
        )
        seen = {side: seen_of(moved[-1], self.listings[side].hashes.get(entry.path, ""))}
        seen[3 - side] = self.written(side, entry, copied)
        self._agree(name, False, seen)
        return True

    @staticmethod
    def _conflict_outcome(action: Conflict) -> str:
        if action.replace_loser:
            return f"path{action.winner}'s version wins, the other goes to the debris"
        kept = ", ".join(
            f"path{s}'s version as {n}" for s, n in ((1, action.renames[0]), (2, action.renames[1])) if n
        )
        if action.winner is None:
            return f"no winner; keeping {kept}"
        return f"path{action.winner}'s version wins; keeping {kept}"


def _unless_cancelled(cancel: Event | None, action: Callable[[A], None]) -> Callable[[A], None]:
    def run(item: A) -> None:
        if cancel is None or not cancel.is_set():
            action(item)

    return run


def propagate(
    plan: Plan,
    sides: Mapping[int, Backend],
    listings: Mapping[int, SideListing],
    state: PairState,
    options: Propagation,
    stats: Stats,
) -> None:
    """Carry ``plan`` out on ``sides``: errors are counted in ``stats``, successes recorded in ``state``."""
    runner = _Runner(sides, listings, state, options, stats)
    cancel = options.cancel
    state.record(
        [
            Agreed(path, one.is_dir, runner.listed(1, one), runner.listed(2, two))
            for path, (one, two) in plan.agree.items()
        ],
        gone=plan.forget,
    )
    for path, why in plan.skipped:
        stats.error(BackendError(f"{why}; left alone", path=path), path)
    stats.count(checks=len(plan.actions) + len(plan.agree))
    for conflict in [a for a in plan.actions if isinstance(a, Conflict)]:
        _unless_cancelled(cancel, runner.conflict)(conflict)
    for rename in [a for a in plan.actions if isinstance(a, RenameFile)]:
        _unless_cancelled(cancel, runner.rename)(rename)
    made = [a for a in plan.actions if isinstance(a, MakeDir)]
    for directory in sorted(made, key=lambda a: a.path.count("/")):
        _unless_cancelled(cancel, runner.mkdir)(directory)
    copies = [a for a in plan.actions if isinstance(a, CopyFile)]
    stats.planned_transfers = stats.transfers + len(copies)
    stats.planned_bytes = stats.bytes + sum(max(0, a.entry.size) for a in copies)
    run_parallel(copies, _unless_cancelled(cancel, runner.copy), workers=options.transfers)
    deletes = [a for a in plan.actions if isinstance(a, DeleteFile)]
    run_parallel(deletes, _unless_cancelled(cancel, runner.delete), workers=options.transfers)
    removals = [a for a in plan.actions if isinstance(a, RemoveDir)]
    for action in sorted(removals, key=lambda a: (a.path.count("/"), a.path), reverse=True):
        _unless_cancelled(cancel, runner.rmdir)(action)
