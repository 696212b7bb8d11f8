"""From both sides' deltas to what to do: pure, table-tested (Unison's ``recon``).

The rules, per path:

- changed on one side only: carried to the other (a copy, a new directory, a delete, a rename);
- changed on both sides identically, or new on both sides and identical: agreed, nothing moves;
- deleted on both: forgotten;
- deleted on one side, changed on the other: the change wins and is copied back;
- changed on both sides differently: a conflict (``--conflict-resolve`` picks a winner or none;
  ``--conflict-loser`` renames the loser, or both when there is no winner, or replaces the loser);
- a file on one side where the other has a directory: reported and left alone.

Nothing here destroys: what a copy replaces and what a delete removes go to the side's debris (propagation
does that); a conflict keeps both versions unless ``--conflict-loser delete`` asks otherwise (and then the
loser still goes to the debris).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from backends import Entry

from .deltas import Change, Delta
from .listing import SideListing

__all__ = [
    "Conflict",
    "ConflictLoser",
    "ConflictOptions",
    "ConflictResolve",
    "CopyFile",
    "DeleteFile",
    "MakeDir",
    "Plan",
    "RemoveDir",
    "RenameFile",
    "content_candidates",
    "identical",
    "reconcile",
    "resync_plan",
]


class ConflictResolve(Enum):
    NONE = "none"
    NEWER = "newer"
    OLDER = "older"
    LARGER = "larger"
    SMALLER = "smaller"
    PATH1 = "path1"
    PATH2 = "path2"


class ConflictLoser(Enum):
    NUM = "num"
    PATHNAME = "pathname"
    DELETE = "delete"


@dataclass(frozen=True)
class ConflictOptions:
    resolve: ConflictResolve = ConflictResolve.NONE
    loser: ConflictLoser = ConflictLoser.NUM
    #: one suffix for both sides, or one per side (``--conflict-suffix local,cloud``)
    suffixes: tuple[str, str] = ("conflict", "conflict")

    @property
    def shared_suffix(self) -> bool:
        return self.suffixes[0] == self.suffixes[1]


@dataclass(frozen=True, slots=True)
class CopyFile:
    """Copy side ``source``'s file to the other side at the same path (``replaces``: what it holds there)."""

    source: int
    path: str
    entry: Entry
    replaces: Entry | None
    why: str


@dataclass(frozen=True, slots=True)
class DeleteFile:
    """Remove side ``side``'s file (into its debris): it was deleted on the other side."""

    side: int
    path: str
    entry: Entry


@dataclass(frozen=True, slots=True)
class RenameFile:
    """Move side ``side``'s file from ``old`` to ``new``: the other side renamed it (``moved`` is the other
    side's file at ``new``)."""

    side: int
    old: str
    new: str
    entry: Entry
    moved: Entry


@dataclass(frozen=True, slots=True)
class MakeDir:
    side: int
    path: str


@dataclass(frozen=True, slots=True)
class RemoveDir:
    """Remove side ``side``'s directory if it ends up empty (deleted on the other side)."""

    side: int
    path: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """Both sides changed ``path`` differently. ``winner`` (1, 2 or None) keeps the name; ``renames`` holds
    the new name per side of each version renamed aside (None: not renamed); with ``replace_loser`` the
    loser is replaced by the winner (and goes to the debris) instead of being renamed."""

    path: str
    one: Entry
    two: Entry
    winner: int | None
    renames: tuple[str | None, str | None]
    replace_loser: bool
    why: str


Action = CopyFile | DeleteFile | RenameFile | MakeDir | RemoveDir | Conflict


@dataclass
class Plan:
    """What a run does: actions, plus what is already agreed (``agree``: path -> both entries) or gone on
    both sides (``forget``), and paths left alone with the reason (``skipped``)."""

    actions: list[Action] = field(default_factory=list)
    agree: dict[str, tuple[Entry, Entry]] = field(default_factory=dict)
    forget: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: paths that are a file on one side and a directory on the other (in ``skipped``, with their subtrees)
    clashes: set[str] = field(default_factory=set)

    def of(self, kind: type) -> list[Action]:
        return [a for a in self.actions if isinstance(a, kind)]

    def deletes(self, side: int) -> int:
        """Files this plan removes from ``side`` because they were deleted on the other."""
        return sum(1 for a in self.actions if isinstance(a, DeleteFile) and a.side == side)


def content_candidates(
    deltas1: Mapping[str, Delta] | None,
    deltas2: Mapping[str, Delta] | None,
    listing1: SideListing,
    listing2: SideListing,
    window_ns: int | None,
) -> list[str]:
    """Paths whose two files would be a conflict (or, for a resync (no deltas), a clash) although they may
    hold the same bytes: both files, equal sizes, not already ``identical``. The caller compares their
    contents and passes the equal ones to ``reconcile``/``resync_plan`` as ``same_content``: the same edit
    made on two machines has two modification times, and is no conflict."""
    if deltas1 is None or deltas2 is None:
        paths = set(listing1.entries) & set(listing2.entries)
    else:
        paths = {
            p
            for p in set(deltas1) & set(deltas2)
            if deltas1[p].change is not Change.DELETED and deltas2[p].change is not Change.DELETED
        }
    found = []
    for path in sorted(paths):
        one, two = listing1.entries.get(path), listing2.entries.get(path)
        if one is None or two is None or one.is_dir or two.is_dir or one.size != two.size or one.size < 0:
            continue
        hash1, hash2 = listing1.hashes.get(path, ""), listing2.hashes.get(path, "")
        if not (hash1 and hash2) and not identical(one, two, hash1, hash2, window_ns):
            found.append(path)
    return found


def identical(one: Entry, two: Entry, hash1: str, hash2: str, window_ns: int | None) -> bool:
    """Whether two files are the same version: equal sizes and equal hashes when both are known, else
    equal times within ``window_ns``. Without a hash or times to compare, they are not taken as equal
    (a conflict keeps both; calling them equal could lose one)."""
    if one.is_dir or two.is_dir or one.size != two.size or one.size < 0:
        return False
    if hash1 and hash2:
        return hash1 == hash2
    if window_ns is None or one.mtime_ns is None or two.mtime_ns is None:
        return False
    return abs(one.mtime_ns - two.mtime_ns) < max(window_ns, 1)


class _Names:
    """Conflict names not used on either side, not hidden from this run on either side (a hidden file there
    would be overwritten unseen), and not taken by an earlier conflict of this plan."""

    def __init__(self, listings: Iterable[SideListing]) -> None:
        self.listings = list(listings)
        self.taken = {path for listing in self.listings for path in listing.entries}

    def _free(self, name: str) -> bool:
        return name not in self.taken and not any(listing.unknown(name) for listing in self.listings)

    def free(self, base: str, numbered: bool) -> str:
        """``base`` itself when not ``numbered`` and free, else ``base1``, ``base2``... (numbered) or
        ``base-2``, ``base-3``... (a fixed name already in use)."""
        if not numbered and self._free(base):
            self.taken.add(base)
            return base
        number = 1 if numbered else 2
        while not self._free(name := f"{base}{number}" if numbered else f"{base}-{number}"):
            number += 1
        self.taken.add(name)
        return name


def _winner(one: Entry, two: Entry, resolve: ConflictResolve) -> int | None:
    if resolve is ConflictResolve.PATH1:
        return 1
    if resolve is ConflictResolve.PATH2:
        return 2
    if resolve in (ConflictResolve.NEWER, ConflictResolve.OLDER):
        if one.mtime_ns is None or two.mtime_ns is None or one.mtime_ns == two.mtime_ns:
            return None
        newer = 1 if one.mtime_ns > two.mtime_ns else 2
        return newer if resolve is ConflictResolve.NEWER else 3 - newer
    if resolve in (ConflictResolve.LARGER, ConflictResolve.SMALLER):
        if one.size == two.size:
            return None
        larger = 1 if one.size > two.size else 2
        return larger if resolve is ConflictResolve.LARGER else 3 - larger
    return None


def _conflict(
    path: str, one: Entry, two: Entry, options: ConflictOptions, names: _Names, why: str
) -> Conflict:
    winner = _winner(one, two, options.resolve)
    if winner is not None and options.loser is ConflictLoser.DELETE:
        return Conflict(path, one, two, winner, (None, None), True, why)
    pathname = options.loser is ConflictLoser.PATHNAME

    def name(side: int) -> str:
        suffix = options.suffixes[side - 1]
        if pathname:
            base = f"{path}.{suffix}{side}" if options.shared_suffix else f"{path}.{suffix}"
            return names.free(base, numbered=False)
        return names.free(f"{path}.{suffix}", numbered=True)

    if winner is None:
        return Conflict(path, one, two, None, (name(1), name(2)), False, why)
    loser = 3 - winner
    renamed = (name(1), None) if loser == 1 else (None, name(2))
    return Conflict(path, one, two, winner, renamed, False, why)


def reconcile(
    deltas1: Mapping[str, Delta],
    deltas2: Mapping[str, Delta],
    listing1: SideListing,
    listing2: SideListing,
    *,
    renames1: Mapping[str, str],
    renames2: Mapping[str, str],
    conflicts: ConflictOptions,
    window_ns: int | None,
    same_content: Collection[str] = frozenset(),
) -> Plan:
    """The plan of a normal run (see the module's rules); ``same_content``: paths whose two files were
    found to hold the same bytes (see ``content_candidates``)."""
    plan = Plan()
    names = _Names([listing1, listing2])
    listings = {1: listing1, 2: listing2}
    deltas = {1: deltas1, 2: deltas2}
    done: set[str] = set()

    for side, moved in ((1, renames1), (2, renames2)):
        other = 3 - side
        theirs, their_deltas = listings[other].entries, deltas[other]
        for new, old in sorted(moved.items()):
            if old in done or new in done:
                continue
            target = theirs.get(old)
            if (
                target is None
                or target.is_dir
                or old in their_deltas
                or new in their_deltas
                or new in theirs
                or listings[other].unknown(new)
            ):
                continue  # not a clean rename there: handled below as a delete and a new file
            plan.actions.append(RenameFile(other, old, new, target, listings[side].entries[new]))
            done.update((old, new))

    for path in sorted(set(deltas1) | set(deltas2)):
        if path in done or listing1.unknown(path) or listing2.unknown(path):
            continue
        if _below_a_clash(plan, path):
            continue
        _one_path(
            plan,
            path,
            deltas1.get(path),
            deltas2.get(path),
            listings,
            conflicts,
            names,
            window_ns,
            same_content,
        )
    return plan


def _clash(plan: Plan, path: str) -> None:
    plan.skipped.append((path, "a file on one side, a directory on the other"))
    plan.clashes.add(path)


def _below_a_clash(plan: Plan, path: str) -> bool:
    """Whether ``path`` is inside a path left alone as a file on one side and a directory on the other
    (what is below it cannot be carried across: a file is in the way)."""
    clashes = plan.clashes
    if not clashes:
        return False
    parent = path
    while "/" in parent:
        parent = parent.rpartition("/")[0]
        if parent in clashes:
            return True
    return False


def _one_path(
    plan: Plan,
    path: str,
    d1: Delta | None,
    d2: Delta | None,
    listings: Mapping[int, SideListing],
    conflicts: ConflictOptions,
    names: _Names,
    window_ns: int | None,
    same_content: Collection[str],
) -> None:
    e1, e2 = listings[1].entries.get(path), listings[2].entries.get(path)
    if d1 is None or d2 is None:
        changed, side = (d1, 1) if d1 is not None else (d2, 2)
        assert changed is not None
        other = 3 - side
        theirs = e2 if side == 1 else e1
        if changed.change is Change.DELETED:
            if theirs is None:
                plan.forget.add(path)
            elif theirs.is_dir:
                plan.actions.append(RemoveDir(other, path))
            else:
                plan.actions.append(DeleteFile(other, path, theirs))
            return
        mine = changed.entry
        assert mine is not None
        if theirs is not None and theirs.is_dir != mine.is_dir:
            _clash(plan, path)
        elif mine.is_dir:
            if theirs is None:
                plan.actions.append(MakeDir(other, path))
            else:
                assert e1 is not None and e2 is not None
                plan.agree[path] = (e1, e2)
        else:
            plan.actions.append(CopyFile(side, path, mine, theirs, changed.why))
        return
    if d1.change is Change.DELETED and d2.change is Change.DELETED:
        plan.forget.add(path)
        return
    if d1.change is Change.DELETED or d2.change is Change.DELETED:
        survivor, side = (d2, 2) if d1.change is Change.DELETED else (d1, 1)
        entry = survivor.entry
        assert entry is not None
        if entry.is_dir:
            plan.actions.append(MakeDir(3 - side, path))
        else:
            why = f"deleted on path{3 - side}, {survivor.why} on path{side}: the change wins"
            plan.actions.append(CopyFile(side, path, entry, None, why))
        return
    assert e1 is not None and e2 is not None
    if e1.is_dir and e2.is_dir:
        plan.agree[path] = (e1, e2)
    elif e1.is_dir != e2.is_dir:
        _clash(plan, path)
    elif path in same_content or identical(
        e1, e2, listings[1].hashes.get(path, ""), listings[2].hashes.get(path, ""), window_ns
    ):
        plan.agree[path] = (e1, e2)
    else:
        why = f"{d1.why} on path1, {d2.why} on path2"
        plan.actions.append(_conflict(path, e1, e2, conflicts, names, why))


def resync_plan(
    listing1: SideListing,
    listing2: SideListing,
    window_ns: int | None,
    same_content: Collection[str] = frozenset(),
) -> Plan:
    """``--resync``: the union of both sides; on a clash the newer file wins (path1 on a tie) and the older
    goes to the debris; files with the same bytes are agreed as they are; nothing is deleted."""
    plan = Plan()
    e1s, e2s = listing1.entries, listing2.entries
    for path in sorted(set(e1s) | set(e2s)):
        if listing1.unknown(path) or listing2.unknown(path) or _below_a_clash(plan, path):
            continue
        e1, e2 = e1s.get(path), e2s.get(path)
        if e1 is None or e2 is None:
            only, side = (e1, 1) if e1 is not None else (e2, 2)
            assert only is not None
            if only.is_dir:
                plan.actions.append(MakeDir(3 - side, path))
            else:
                plan.actions.append(CopyFile(side, path, only, None, f"only on path{side}"))
        elif e1.is_dir and e2.is_dir:
            plan.agree[path] = (e1, e2)
        elif e1.is_dir != e2.is_dir:
            _clash(plan, path)
        elif path in same_content or identical(
            e1, e2, listing1.hashes.get(path, ""), listing2.hashes.get(path, ""), window_ns
        ):
            plan.agree[path] = (e1, e2)
        else:
            newer = 2 if (e2.mtime_ns or 0) > (e1.mtime_ns or 0) else 1
            winner, loser = (e1, e2) if newer == 1 else (e2, e1)
            plan.actions.append(CopyFile(newer, path, winner, loser, f"resync: newer on path{newer}"))
    return plan
