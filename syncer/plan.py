"""The Plan: what a copy, sync or move will do, as plain actions decided from the march and the comparison.

Pure: the one decision that needs I/O (hashes, when sizes match but times differ, or with ``--checksum``) is
returned as pending, resolved by the caller, and fed back through ``Planner.resolved``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from backends import Entry, HashType

from .compare import CompareOptions, Verdict, decide, decide_with_hashes
from .march import Match

__all__ = [
    "Action",
    "Copy",
    "Delete",
    "DeleteSource",
    "Mkdir",
    "Mode",
    "Plan",
    "Planner",
    "Rmdir",
    "RmdirSource",
    "SetMtime",
]

log = logging.getLogger("syncer.plan")


class Mode(Enum):
    COPY = "copy"
    SYNC = "sync"
    MOVE = "move"


@dataclass(frozen=True, slots=True)
class Copy:
    """Transfer ``src`` to ``path`` on the destination (a move when the plan's mode is MOVE)."""

    path: str
    src: Entry
    replaces: Entry | None
    reason: str


@dataclass(frozen=True, slots=True)
class SetMtime:
    """Same content on both sides: only the destination's modification time is corrected."""

    path: str
    src: Entry
    dst: Entry


@dataclass(frozen=True, slots=True)
class Delete:
    """A destination file the source no longer has (sync)."""

    path: str
    dst: Entry


@dataclass(frozen=True, slots=True)
class DeleteSource:
    """A moved file already identical on the destination: only the source copy goes."""

    path: str
    src: Entry


@dataclass(frozen=True, slots=True)
class Mkdir:
    """An empty source directory made on the destination (``--create-empty-src-dirs``)."""

    path: str


@dataclass(frozen=True, slots=True)
class Rmdir:
    """A destination directory the source no longer has (sync), removed once empty."""

    path: str


@dataclass(frozen=True, slots=True)
class RmdirSource:
    """A source directory emptied by a move (``--delete-empty-src-dirs``)."""

    path: str


Action = Copy | SetMtime | Delete | DeleteSource | Mkdir | Rmdir | RmdirSource


def _size(entry: Entry) -> str:
    return f"size {entry.size}" if entry.size >= 0 else "size unknown"


@dataclass
class Plan:
    """The actions of one run, in the order they were decided (parents before children)."""

    mode: Mode
    actions: list[Action] = field(default_factory=list)
    checks: int = 0

    def of(self, kind: type[Action]) -> list[Action]:
        return [a for a in self.actions if isinstance(a, kind)]

    @property
    def deletes(self) -> int:
        return sum(1 for a in self.actions if isinstance(a, Delete))

    def describe(self) -> Iterator[tuple[str, str, str]]:
        """(path, verb, detail) per action, as ``--dry-run`` reports them."""
        moving = self.mode is Mode.MOVE
        for action in self.actions:
            if isinstance(action, Copy):
                verb = "move" if moving else ("update" if action.replaces else "copy")
                yield action.path, verb, f"{_size(action.src)}, {action.reason}"
            elif isinstance(action, SetMtime):
                yield action.path, "set modification time", _size(action.dst)
            elif isinstance(action, Delete):
                yield action.path, "delete", _size(action.dst)
            elif isinstance(action, DeleteSource):
                yield action.path, "delete from source", "identical on the destination"
            elif isinstance(action, Mkdir):
                yield action.path, "make directory", "empty on the source"
            elif isinstance(action, Rmdir):
                yield action.path, "remove directory", "not on the source"
            else:
                yield action.path, "remove source directory", "emptied by the move"


@dataclass(frozen=True)
class PlanOptions:
    """How matches become actions."""

    mode: Mode
    compare: CompareOptions = field(default_factory=CompareOptions)
    window_ns: int | None = None
    hash_kind: HashType | None = None
    can_set_mtime: bool = False
    create_empty_src_dirs: bool = False
    delete_empty_src_dirs: bool = False


@dataclass(frozen=True, slots=True)
class PendingHash:
    """A pair whose verdict waits for both sides' hashes."""

    match: Match


class Planner:
    """Turns matches into a Plan."""

    def __init__(self, options: PlanOptions) -> None:
        self.options = options
        self.plan = Plan(options.mode)
        self._src_dirs: list[str] = []
        self._held: set[str] = set()

    def hold(self, directory: str) -> None:
        """``directory`` keeps entries the filter hides: neither it nor its parents can be removed."""
        while directory not in self._held:
            self._held.add(directory)
            if not directory:
                break
            directory = directory.rpartition("/")[0]

    def add(self, match: Match) -> PendingHash | None:
        """Plan one match; returns it as pending when its verdict needs hashes."""
        src, dst, path = match.src, match.dst, match.path
        options = self.options
        actions = self.plan.actions
        if (src is not None and src.is_dir) or (dst is not None and dst.is_dir):
            if src is None:
                if options.mode is Mode.SYNC:
                    actions.append(Rmdir(path))
            else:
                self._src_dirs.append(path)
                if dst is None and options.create_empty_src_dirs:
                    actions.append(Mkdir(path))
            return None
        if src is None:
            assert dst is not None
            if options.mode is Mode.SYNC:
                actions.append(Delete(path, dst))
            return None
        if dst is None:
            actions.append(Copy(path, src, None, "new"))
            return None
        self.plan.checks += 1
        verdict = decide(src, dst, options.compare, options.window_ns, options.hash_kind)
        if verdict is Verdict.NEEDS_HASH:
            return PendingHash(match)
        self._apply(path, src, dst, verdict)
        return None

    def resolved(self, pending: PendingHash, src_hash: str, dst_hash: str) -> None:
        """Finish a pending match with the hashes fetched for it ("" when a side could not give one)."""
        src, dst = pending.match.src, pending.match.dst
        assert src is not None and dst is not None
        verdict = decide_with_hashes(
            src, dst, self.options.compare, self.options.window_ns, src_hash, dst_hash
        )
        self._apply(pending.match.path, src, dst, verdict)

    def _apply(self, path: str, src: Entry, dst: Entry, verdict: Verdict) -> None:
        actions = self.plan.actions
        moving = self.options.mode is Mode.MOVE
        if verdict is Verdict.TRANSFER:
            actions.append(Copy(path, src, dst, _reason(src, dst)))
        elif verdict is Verdict.SET_MTIME:
            if self.options.can_set_mtime:
                actions.append(SetMtime(path, src, dst))
                if moving:
                    actions.append(DeleteSource(path, src))
            else:
                actions.append(Copy(path, src, dst, "modification time differs"))
        else:
            if verdict is not Verdict.SAME:
                skipped = "is newer" if verdict is Verdict.SKIP_NEWER else "exists"
                log.debug("%s: destination %s, skipping", path, skipped)
            if moving and verdict is not Verdict.SKIP_EXISTING:
                # rclone's move deletes the source files it did not need to transfer, except those kept
                # by --ignore-existing ("Not removing source file as destination file exists")
                actions.append(DeleteSource(path, src))

    def finish(self) -> Plan:
        """The complete plan (source directory removals of a move come last, deepest first)."""
        if self._held:
            self.plan.actions = [
                a for a in self.plan.actions if not (isinstance(a, Rmdir) and a.path in self._held)
            ]
        if self.options.mode is Mode.MOVE and self.options.delete_empty_src_dirs:
            for path in sorted(self._src_dirs, key=lambda p: p.count("/"), reverse=True):
                self.plan.actions.append(RmdirSource(path))
        return self.plan


def _reason(src: Entry, dst: Entry) -> str:
    if src.size != dst.size:
        return "size differs"
    if src.mtime_ns != dst.mtime_ns:
        return "modification time differs"
    return "content differs"


def plan_all(planner: Planner, matches: Iterable[Match]) -> list[PendingHash]:
    """Feed every match to ``planner``; the pending ones are returned for the caller to hash."""
    pending: list[PendingHash] = []
    for match in matches:
        waiting = planner.add(match)
        if waiting is not None:
            pending.append(waiting)
    return pending
