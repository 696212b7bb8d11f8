"""syncer.bisync.reconcile: from both sides' deltas to a plan (pure, no I/O), rule by rule, both sides."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from backends import Entry
from syncer.bisync.deltas import CompareSpec, renames, side_deltas
from syncer.bisync.listing import SideListing
from syncer.bisync.reconcile import (
    Conflict,
    ConflictLoser,
    ConflictOptions,
    ConflictResolve,
    CopyFile,
    DeleteFile,
    MakeDir,
    Plan,
    RemoveDir,
    RenameFile,
    identical,
    reconcile,
    resync_plan,
)
from syncer.bisync.state import Agreed, Seen

SEC = 10**9
T0 = 1_700_000_000 * SEC
T1 = T0 + 60 * SEC
T2 = T0 + 120 * SEC
WINDOW = SEC
SIDES = pytest.mark.parametrize("me", [1, 2], ids=["path1", "path2"])


# -- helpers -------------------------------------------------------------------------------------------------


def f(path: str, size: int = 10, mtime: int | None = T0) -> Entry:
    return Entry(path, False, size, mtime)


def d(path: str) -> Entry:
    return Entry(path, True)


def row(path: str, size: int = 10, mtime: int | None = T0, hash: str = "") -> Agreed:
    return Agreed(path, False, Seen(size, mtime, hash), Seen(size, mtime, hash))


def drow(path: str) -> Agreed:
    return Agreed(path, True, Seen(), Seen())


def side(*entries: Entry, hidden: Iterable[str] = (), hashes: dict[str, str] | None = None) -> SideListing:
    return SideListing(entries={e.path: e for e in entries}, hidden=set(hidden), hashes=dict(hashes or {}))


def pair(me: int, mine: SideListing, theirs: SideListing) -> tuple[SideListing, SideListing]:
    """(listing1, listing2) with ``mine`` on side ``me``."""
    return (mine, theirs) if me == 1 else (theirs, mine)


def plan_of(
    agreed: Iterable[Agreed],
    listing1: SideListing,
    listing2: SideListing,
    *,
    conflicts: ConflictOptions | None = None,
    window: int | None = WINDOW,
    spec: CompareSpec | None = None,
) -> Plan:
    """The plan of a normal run, deltas and renames detected from the listings as the command does."""
    state = {a.path: a for a in agreed}
    spec = spec or CompareSpec()
    d1, d2 = side_deltas(state, 1, listing1, spec), side_deltas(state, 2, listing2, spec)
    return reconcile(
        d1,
        d2,
        listing1,
        listing2,
        renames1=renames(d1, 1, listing1),
        renames2=renames(d2, 2, listing2),
        conflicts=conflicts or ConflictOptions(),
        window_ns=window,
    )


def plan_for(
    me: int,
    agreed: Iterable[Agreed],
    mine: SideListing,
    theirs: SideListing,
    *,
    conflicts: ConflictOptions | None = None,
    window: int | None = WINDOW,
) -> Plan:
    """``plan_of`` with ``mine`` on side ``me`` and ``theirs`` on the other."""
    return plan_of(agreed, *pair(me, mine, theirs), conflicts=conflicts, window=window)


def is_empty(plan: Plan) -> bool:
    return not (plan.actions or plan.agree or plan.forget or plan.skipped)


# -- changed on one side only --------------------------------------------------------------------------------


@SIDES
@pytest.mark.parametrize(
    ("now", "why"),
    [
        (f("a", size=20), "size changed"),
        (f("a", mtime=T1), "newer"),
        (f("a", mtime=T0 - SEC), "older"),
        (f("a", size=20, mtime=T1), "size changed"),
    ],
)
def test_change_on_one_side_is_copied_over_the_other(me: int, now: Entry, why: str) -> None:
    plan = plan_for(me, [row("a")], side(now), side(f("a")))
    assert plan.actions == [CopyFile(me, "a", now, f("a"), why)]
    assert not (plan.agree or plan.forget or plan.skipped)


@SIDES
def test_new_file_on_one_side_is_copied(me: int) -> None:
    plan = plan_for(me, [], side(f("dir/a", 3)), side())
    # a new file in a new directory: the directory is made, the file copied
    plan2 = plan_for(me, [], side(d("dir"), f("dir/a", 3)), side())
    assert plan.actions == [CopyFile(me, "dir/a", f("dir/a", 3), None, "new")]
    assert plan2.actions == [MakeDir(3 - me, "dir"), CopyFile(me, "dir/a", f("dir/a", 3), None, "new")]


@SIDES
def test_new_directory_is_made(me: int) -> None:
    plan = plan_for(me, [], side(d("dir"), d("dir/sub")), side())
    assert plan.actions == [MakeDir(3 - me, "dir"), MakeDir(3 - me, "dir/sub")]


@SIDES
def test_delete_on_one_side_deletes_on_the_other(me: int) -> None:
    plan = plan_for(me, [row("a"), row("b", 1)], side(f("b", 1)), side(f("a"), f("b", 1)))
    assert plan.actions == [DeleteFile(3 - me, "a", f("a"))]
    assert plan.deletes(3 - me) == 1
    assert plan.deletes(me) == 0


@SIDES
def test_deleted_directory_is_removed_on_the_other(me: int) -> None:
    agreed = [drow("dir"), row("dir/a")]
    plan = plan_for(me, agreed, side(), side(d("dir"), f("dir/a")))
    assert plan.actions == [RemoveDir(3 - me, "dir"), DeleteFile(3 - me, "dir/a", f("dir/a"))]


@SIDES
def test_delete_of_a_path_unknown_on_the_other_side_is_left_alone(me: int) -> None:
    # gone here, hidden there: neither deleted there nor forgotten
    l1, l2 = pair(me, side(), side(hidden=["a"]))
    plan = plan_of([row("a")], l1, l2)
    assert is_empty(plan)  # unknown on one side: left alone, not even forgotten


def test_unchanged_pair_plans_nothing() -> None:
    agreed = [row("a"), drow("dir"), row("dir/b", 3)]
    listing = side(f("a"), d("dir"), f("dir/b", 3))
    assert is_empty(plan_of(agreed, listing, side(f("a"), d("dir"), f("dir/b", 3))))


@SIDES
def test_paths_unknown_on_the_other_side_are_left_alone(me: int) -> None:
    # new here but hidden there; deleted here but hidden there; changed here but its directory hidden there
    agreed = [row("gone"), drow("dir"), row("dir/c")]
    mine = side(f("new"), d("dir"), f("dir/c", size=99))
    theirs = side(hidden=["new", "gone", "dir"])
    assert is_empty(plan_for(me, agreed, mine, theirs))


# -- changed on both sides -----------------------------------------------------------------------------------


def test_deleted_on_both_sides_is_forgotten() -> None:
    plan = plan_of([row("a"), drow("dir"), row("dir/b")], side(), side())
    assert plan.forget == {"a", "dir", "dir/b"}
    assert plan.actions == []


@SIDES
@pytest.mark.parametrize(("now", "why"), [(f("a", size=20), "size changed"), (f("a", mtime=T1), "newer")])
def test_deleted_against_changed_the_change_wins(me: int, now: Entry, why: str) -> None:
    # ``me`` changed the file, the other side deleted it
    plan = plan_for(me, [row("a")], side(now), side())
    assert plan.actions == [
        CopyFile(me, "a", now, None, f"deleted on path{3 - me}, {why} on path{me}: the change wins")
    ]


@SIDES
def test_deleted_against_file_turned_directory_makes_the_directory(me: int) -> None:
    plan = plan_for(me, [row("a")], side(d("a")), side())
    assert plan.actions == [MakeDir(3 - me, "a")]


@pytest.mark.parametrize(
    ("agreed", "one", "two", "hashes1", "hashes2"),
    [
        # same size, times within the window
        ([row("a")], f("a", 20, T1), f("a", 20, T1), {}, {}),
        ([row("a")], f("a", 20, T1), f("a", 20, T1 + WINDOW - 1), {}, {}),
        ([row("a")], f("a", 20, T1 + WINDOW - 1), f("a", 20, T1), {}, {}),
        # same hashes, times far apart
        ([row("a")], f("a", 20, T1), f("a", 20, T2), {"a": "h"}, {"a": "h"}),
        # new on both sides and identical
        ([], f("a", 20, T1), f("a", 20, T1), {}, {}),
    ],
)
def test_changed_identically_is_agreed(
    agreed: list[Agreed], one: Entry, two: Entry, hashes1: dict[str, str], hashes2: dict[str, str]
) -> None:
    plan = plan_of(agreed, side(one, hashes=hashes1), side(two, hashes=hashes2))
    assert plan.agree == {"a": (one, two)}
    assert plan.actions == []


def test_directories_new_on_both_sides_are_agreed() -> None:
    plan = plan_of([], side(d("dir")), side(d("dir")))
    assert plan.agree == {"dir": (d("dir"), d("dir"))}
    assert plan.actions == []


@pytest.mark.parametrize(
    ("agreed", "one", "two", "hashes1", "hashes2", "why"),
    [
        ([row("a")], f("a", 20, T1), f("a", 30, T1), {}, {}, "size changed on path1, size changed on path2"),
        ([row("a")], f("a", 10, T1), f("a", 10, T2), {}, {}, "newer on path1, newer on path2"),
        ([row("a")], f("a", 10, T1), f("a", 10, T1 + WINDOW), {}, {}, "newer on path1, newer on path2"),
        # the same time, but the hashes differ
        (
            [row("a")],
            f("a", 20, T1),
            f("a", 20, T1),
            {"a": "h1"},
            {"a": "h2"},
            "size changed on path1, size changed on path2",
        ),
        # new on both sides, different
        ([], f("a", 10, T1), f("a", 11, T1), {}, {}, "new on path1, new on path2"),
    ],
)
def test_changed_differently_is_a_conflict(
    agreed: list[Agreed],
    one: Entry,
    two: Entry,
    hashes1: dict[str, str],
    hashes2: dict[str, str],
    why: str,
) -> None:
    plan = plan_of(agreed, side(one, hashes=hashes1), side(two, hashes=hashes2))
    assert plan.actions == [Conflict("a", one, two, None, ("a.conflict1", "a.conflict2"), False, why)]
    assert not plan.agree


def test_without_times_or_hashes_both_changed_is_a_conflict() -> None:
    # no window (the sides share no time precision) and no hashes: equal sizes are not enough
    plan = plan_of([row("a")], side(f("a", 20, T1)), side(f("a", 20, T1)), window=None)
    assert [type(a) for a in plan.actions] == [Conflict]


@SIDES
@pytest.mark.parametrize("agreed", [[], [row("x")]], ids=["new", "changed"])
def test_file_against_directory_is_skipped(me: int, agreed: list[Agreed]) -> None:
    mine, theirs = side(f("x", 20, T1)), side(d("x"))
    plan = plan_for(me, agreed, mine, theirs)
    assert plan.actions == []
    assert [path for path, _ in plan.skipped] == ["x"]


@SIDES
def test_directory_against_unchanged_file_is_skipped(me: int) -> None:
    plan = plan_for(me, [row("x")], side(d("x")), side(f("x")))
    assert plan.actions == []
    assert [path for path, _ in plan.skipped] == ["x"]


# -- renames -------------------------------------------------------------------------------------------------


@SIDES
def test_rename_on_one_side_is_a_rename_on_the_other(me: int) -> None:
    plan = plan_for(me, [row("a"), row("z", 1)], side(f("b"), f("z", 1)), side(f("a"), f("z", 1)))
    assert plan.actions == [RenameFile(3 - me, "a", "b", f("a"), f("b"))]
    assert not (plan.agree or plan.forget or plan.skipped)


@SIDES
def test_rename_into_a_new_directory(me: int) -> None:
    plan = plan_for(me, [row("a")], side(d("dir"), f("dir/a")), side(f("a")))
    assert RenameFile(3 - me, "a", "dir/a", f("a"), f("dir/a")) in plan.actions
    assert MakeDir(3 - me, "dir") in plan.actions
    assert not plan.of(CopyFile) and not plan.of(DeleteFile)


@SIDES
def test_no_rename_when_the_other_side_changed_the_old_path(me: int) -> None:
    changed = f("a", 20, T1)
    plan = plan_for(me, [row("a")], side(f("b")), side(changed))
    assert not plan.of(RenameFile)
    assert sorted(plan.actions, key=repr) == sorted(
        [
            CopyFile(
                3 - me,
                "a",
                changed,
                None,
                f"deleted on path{me}, size changed on path{3 - me}: the change wins",
            ),
            CopyFile(me, "b", f("b"), None, "new"),
        ],
        key=repr,
    )


@SIDES
def test_no_rename_when_the_other_side_deleted_the_old_path(me: int) -> None:
    plan = plan_for(me, [row("a")], side(f("b")), side())
    assert plan.actions == [CopyFile(me, "b", f("b"), None, "new")]
    assert plan.forget == {"a"}


@SIDES
def test_no_rename_when_the_other_side_already_has_the_new_path(me: int) -> None:
    theirs_b = f("b", 5, T1)
    plan = plan_for(me, [row("a")], side(f("b")), side(f("a"), theirs_b))
    assert not plan.of(RenameFile)
    mine_b = f("b")
    one, two = (mine_b, theirs_b) if me == 1 else (theirs_b, mine_b)
    assert plan.actions == [
        DeleteFile(3 - me, "a", f("a")),
        Conflict("b", one, two, None, ("b.conflict1", "b.conflict2"), False, "new on path1, new on path2"),
    ]


@SIDES
def test_no_rename_when_the_other_side_has_the_new_path_identical(me: int) -> None:
    plan = plan_for(me, [row("a")], side(f("b")), side(f("a"), f("b")))
    assert not plan.of(RenameFile)
    assert plan.actions == [DeleteFile(3 - me, "a", f("a"))]
    assert plan.agree == {"b": (f("b"), f("b"))}


@SIDES
def test_no_rename_when_the_new_path_is_hidden_on_the_other_side(me: int) -> None:
    plan = plan_for(me, [row("a")], side(f("b")), side(f("a"), hidden=["b"]))
    assert plan.actions == [DeleteFile(3 - me, "a", f("a"))]


def test_a_rename_never_lands_on_a_path_the_other_side_holds() -> None:
    # reconcile itself refuses, whatever rename detection hands it: "b" is agreed and unchanged on path2, so
    # moving path2's "a" onto it would replace it outside the debris
    agreed = {"a": row("a"), "b": row("b", 5)}
    one, two = side(f("b")), side(f("a"), f("b", 5))
    spec = CompareSpec()
    plan = reconcile(
        side_deltas(agreed, 1, one, spec),
        side_deltas(agreed, 2, two, spec),
        one,
        two,
        renames1={"b": "a"},
        renames2={},
        conflicts=ConflictOptions(),
        window_ns=WINDOW,
    )
    assert plan.actions == [DeleteFile(2, "a", f("a")), CopyFile(1, "b", f("b"), f("b", 5), "size changed")]


def test_same_rename_on_both_sides_is_agreed() -> None:
    plan = plan_of([row("a")], side(f("b")), side(f("b")))
    assert not plan.of(RenameFile)
    assert plan.forget == {"a"}
    assert plan.agree == {"b": (f("b"), f("b"))}


def test_different_renames_on_both_sides_copy_both_names() -> None:
    plan = plan_of([row("a")], side(f("b")), side(f("c")))
    assert plan.actions == [CopyFile(1, "b", f("b"), None, "new"), CopyFile(2, "c", f("c"), None, "new")]
    assert plan.forget == {"a"}


# -- conflicts: who wins -------------------------------------------------------------------------------------


def conflict_of(
    one: Entry,
    two: Entry,
    options: ConflictOptions,
    also1: Iterable[Entry] = (),
    also2: Iterable[Entry] = (),
    window: int | None = WINDOW,
) -> Conflict:
    """The conflict of "f" changed to ``one`` on path1 and ``two`` on path2 (``also``: other files there)."""
    plan = plan_of(
        [row("f", 1, T0 - SEC)], side(one, *also1), side(two, *also2), conflicts=options, window=window
    )
    found = plan.of(Conflict)
    assert len(found) == 1
    conflict = found[0]
    assert isinstance(conflict, Conflict)
    assert (conflict.path, conflict.one, conflict.two) == ("f", one, two)
    return conflict


R = ConflictResolve


@pytest.mark.parametrize(
    ("resolve", "one", "two", "winner"),
    [
        (R.NONE, f("f", 10, T1), f("f", 20, T2), None),
        (R.NEWER, f("f", 10, T2), f("f", 20, T1), 1),
        (R.NEWER, f("f", 10, T1), f("f", 20, T2), 2),
        (R.NEWER, f("f", 10, T1), f("f", 20, T1), None),  # equal times
        (R.NEWER, f("f", 10, None), f("f", 20, T1), None),  # no time to compare
        (R.OLDER, f("f", 10, T2), f("f", 20, T1), 2),
        (R.OLDER, f("f", 10, T1), f("f", 20, T2), 1),
        (R.OLDER, f("f", 10, T1), f("f", 20, T1), None),
        (R.OLDER, f("f", 10, T1), f("f", 20, None), None),
        (R.LARGER, f("f", 20, T1), f("f", 10, T2), 1),
        (R.LARGER, f("f", 10, T1), f("f", 20, T2), 2),
        (R.LARGER, f("f", 10, T1), f("f", 10, T2), None),  # equal sizes
        (R.SMALLER, f("f", 20, T1), f("f", 10, T2), 2),
        (R.SMALLER, f("f", 10, T1), f("f", 20, T2), 1),
        (R.SMALLER, f("f", 10, T1), f("f", 10, T2), None),
        (R.PATH1, f("f", 10, T1), f("f", 20, T2), 1),
        (R.PATH1, f("f", 20, T2), f("f", 10, T1), 1),
        (R.PATH2, f("f", 10, T1), f("f", 20, T2), 2),
        (R.PATH2, f("f", 20, T2), f("f", 10, T1), 2),
    ],
)
def test_conflict_resolve(resolve: ConflictResolve, one: Entry, two: Entry, winner: int | None) -> None:
    conflict = conflict_of(one, two, ConflictOptions(resolve=resolve))
    assert conflict.winner == winner
    assert conflict.replace_loser is False
    expected = {None: ("f.conflict1", "f.conflict2"), 1: (None, "f.conflict1"), 2: ("f.conflict1", None)}
    assert conflict.renames == expected[winner]


# -- conflicts: what happens to the loser --------------------------------------------------------------------

NUM, PATHNAME, DELETE = ConflictLoser.NUM, ConflictLoser.PATHNAME, ConflictLoser.DELETE
SHARED = ("conflict", "conflict")
OWN = ("local", "cloud")
ONE, TWO = f("f", 10, T1), f("f", 20, T2)  # path2's is newer and larger


@pytest.mark.parametrize(
    ("loser", "suffixes", "resolve", "winner", "renamed", "replace"),
    [
        (NUM, SHARED, R.NONE, None, ("f.conflict1", "f.conflict2"), False),
        (NUM, SHARED, R.NEWER, 2, ("f.conflict1", None), False),
        (NUM, SHARED, R.OLDER, 1, (None, "f.conflict1"), False),
        (NUM, OWN, R.NONE, None, ("f.local1", "f.cloud1"), False),
        (NUM, OWN, R.PATH1, 1, (None, "f.cloud1"), False),
        (PATHNAME, SHARED, R.NONE, None, ("f.conflict1", "f.conflict2"), False),
        (PATHNAME, SHARED, R.NEWER, 2, ("f.conflict1", None), False),
        (PATHNAME, SHARED, R.OLDER, 1, (None, "f.conflict2"), False),
        (PATHNAME, OWN, R.NONE, None, ("f.local", "f.cloud"), False),
        (PATHNAME, OWN, R.LARGER, 2, ("f.local", None), False),
        (PATHNAME, OWN, R.SMALLER, 1, (None, "f.cloud"), False),
        (DELETE, SHARED, R.NEWER, 2, (None, None), True),
        (DELETE, SHARED, R.PATH1, 1, (None, None), True),
        (DELETE, OWN, R.SMALLER, 1, (None, None), True),
        # no winner: both are kept, renamed as with num
        (DELETE, SHARED, R.NONE, None, ("f.conflict1", "f.conflict2"), False),
        (DELETE, OWN, R.NONE, None, ("f.local1", "f.cloud1"), False),
    ],
)
def test_conflict_loser(
    loser: ConflictLoser,
    suffixes: tuple[str, str],
    resolve: ConflictResolve,
    winner: int | None,
    renamed: tuple[str | None, str | None],
    replace: bool,
) -> None:
    conflict = conflict_of(ONE, TWO, ConflictOptions(resolve=resolve, loser=loser, suffixes=suffixes))
    assert (conflict.winner, conflict.renames, conflict.replace_loser) == (winner, renamed, replace)


def test_delete_loser_falls_back_to_renaming_both_on_a_tie() -> None:
    options = ConflictOptions(resolve=R.NEWER, loser=DELETE)
    conflict = conflict_of(f("f", 10, T1), f("f", 20, T1), options)  # equal times: no winner
    assert (conflict.winner, conflict.renames, conflict.replace_loser) == (
        None,
        ("f.conflict1", "f.conflict2"),
        False,
    )


@pytest.mark.parametrize(
    ("loser", "suffixes", "also1", "also2", "renamed"),
    [
        # num skips names used on either side
        (NUM, SHARED, [f("f.conflict1", 1)], [], ("f.conflict2", "f.conflict3")),
        (NUM, SHARED, [], [f("f.conflict1", 1)], ("f.conflict2", "f.conflict3")),
        (NUM, SHARED, [f("f.conflict1", 1)], [f("f.conflict2", 1)], ("f.conflict3", "f.conflict4")),
        (NUM, SHARED, [f("f.conflict2", 1)], [], ("f.conflict1", "f.conflict3")),
        (NUM, OWN, [], [f("f.local1", 1), f("f.local2", 1)], ("f.local3", "f.cloud1")),
        # a directory holds the name as much as a file does
        (NUM, SHARED, [d("f.conflict1")], [], ("f.conflict2", "f.conflict3")),
        # pathname too never reuses a name
        (PATHNAME, SHARED, [f("f.conflict1", 1)], [], ("f.conflict1-2", "f.conflict2")),
        (PATHNAME, OWN, [], [f("f.local", 1)], ("f.local-2", "f.cloud")),
        (PATHNAME, OWN, [f("f.cloud", 1)], [], ("f.local", "f.cloud-2")),
    ],
)
def test_conflict_names_skip_names_in_use(
    loser: ConflictLoser,
    suffixes: tuple[str, str],
    also1: list[Entry],
    also2: list[Entry],
    renamed: tuple[str, str],
) -> None:
    conflict = conflict_of(ONE, TWO, ConflictOptions(loser=loser, suffixes=suffixes), also1, also2)
    assert conflict.renames == renamed
    in_use = {e.path for e in [*also1, *also2]}
    assert not in_use & set(renamed)


@pytest.mark.parametrize("hidden_on", [1, 2])
@pytest.mark.parametrize("loser", [NUM, PATHNAME])
def test_conflict_names_skip_names_the_filter_hides(hidden_on: int, loser: ConflictLoser) -> None:
    # a hidden f.conflict1 / f.conflict2 would be overwritten unseen by the renamed version
    hidden = ["f.conflict1", "f.conflict2"]
    listings = {s: side(ONE if s == 1 else TWO, hidden=hidden if s == hidden_on else ()) for s in (1, 2)}
    plan = plan_of([row("f", 1, T0 - SEC)], listings[1], listings[2], conflicts=ConflictOptions(loser=loser))
    (conflict,) = plan.of(Conflict)
    assert isinstance(conflict, Conflict)
    assert not set(conflict.renames) & set(hidden)
    assert all(conflict.renames)


def test_conflict_names_are_unique_within_a_plan() -> None:
    # "f" and "f.conflict1" both conflict: the second's names must not clash with the first's
    agreed = [row("f", 1), row("f.conflict1", 1), row("g.conflict", 1), row("g", 1)]
    one = [f("f", 2), f("f.conflict1", 2), f("g", 2), f("g.conflict", 2)]
    two = [f("f", 3), f("f.conflict1", 3), f("g", 3), f("g.conflict", 3)]
    for options in (
        ConflictOptions(),
        ConflictOptions(loser=PATHNAME),
        ConflictOptions(loser=PATHNAME, suffixes=OWN),
    ):
        plan = plan_of(agreed, side(*one), side(*two), conflicts=options)
        conflicts = [a for a in plan.actions if isinstance(a, Conflict)]
        assert [c.path for c in conflicts] == ["f", "f.conflict1", "g", "g.conflict"]
        names = [n for c in conflicts for n in c.renames if n is not None]
        assert len(names) == 8
        assert len(set(names)) == len(names)
        assert not set(names) & {e.path for e in one}


# -- resync --------------------------------------------------------------------------------------------------


@SIDES
def test_resync_copies_what_is_only_on_one_side(me: int) -> None:
    plan = resync_plan(*pair(me, side(f("a"), d("dir"), f("dir/b", 2)), side()), WINDOW)
    assert plan.actions == [
        CopyFile(me, "a", f("a"), None, f"only on path{me}"),
        MakeDir(3 - me, "dir"),
        CopyFile(me, "dir/b", f("dir/b", 2), None, f"only on path{me}"),
    ]
    assert not (plan.agree or plan.forget or plan.skipped)


@pytest.mark.parametrize(
    ("one", "two", "hashes1", "hashes2"),
    [
        (f("a", 5, T1), f("a", 5, T1), {}, {}),
        (f("a", 5, T1), f("a", 5, T1 + WINDOW - 1), {}, {}),
        (f("a", 5, T1), f("a", 5, T2), {"a": "h"}, {"a": "h"}),
        (d("a"), d("a"), {}, {}),
    ],
)
def test_resync_agrees_identical_paths(
    one: Entry, two: Entry, hashes1: dict[str, str], hashes2: dict[str, str]
) -> None:
    plan = resync_plan(side(one, hashes=hashes1), side(two, hashes=hashes2), WINDOW)
    assert plan.agree == {"a": (one, two)}
    assert plan.actions == []


@pytest.mark.parametrize(
    ("one", "two", "hashes1", "hashes2", "winner"),
    [
        (f("a", 5, T2), f("a", 6, T1), {}, {}, 1),
        (f("a", 5, T1), f("a", 6, T2), {}, {}, 2),
        (f("a", 5, T1), f("a", 5, T1 + WINDOW), {}, {}, 2),  # just outside the window
        (f("a", 5, T1), f("a", 6, T1), {}, {}, 1),  # equal times: path1 wins
        (f("a", 5, T1), f("a", 5, T1), {"a": "h1"}, {"a": "h2"}, 1),
        (f("a", 5, None), f("a", 6, T1), {}, {}, 2),  # no time counts as the oldest
        (f("a", 5, None), f("a", 6, None), {}, {}, 1),
    ],
)
def test_resync_clash_the_newer_wins(
    one: Entry, two: Entry, hashes1: dict[str, str], hashes2: dict[str, str], winner: int
) -> None:
    plan = resync_plan(side(one, hashes=hashes1), side(two, hashes=hashes2), WINDOW)
    won, lost = (one, two) if winner == 1 else (two, one)
    assert plan.actions == [CopyFile(winner, "a", won, lost, f"resync: newer on path{winner}")]
    assert not plan.agree


@SIDES
def test_resync_file_against_directory_is_skipped(me: int) -> None:
    plan = resync_plan(*pair(me, side(f("a")), side(d("a"))), WINDOW)
    assert plan.actions == []
    assert [path for path, _ in plan.skipped] == ["a"]


@SIDES
def test_resync_leaves_unknown_paths_alone(me: int) -> None:
    plan = resync_plan(*pair(me, side(f("a"), f("dir/b")), side(hidden=["a", "dir"])), WINDOW)
    assert plan.actions == [] and not plan.agree


def test_resync_never_deletes_or_forgets() -> None:
    plan = resync_plan(side(f("a"), f("b", 5, T2)), side(f("b", 6, T1), f("c")), WINDOW)
    assert not plan.of(DeleteFile) and not plan.of(RemoveDir) and not plan.forget
    assert [(type(a), a.path) for a in plan.actions if isinstance(a, CopyFile)] == [
        (CopyFile, "a"),
        (CopyFile, "b"),
        (CopyFile, "c"),
    ]


# -- identical -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "two", "hash1", "hash2", "window", "expected"),
    [
        # no times and no hash: never taken as equal
        (f("a", 5, None), f("a", 5, None), "", "", WINDOW, False),
        (f("a", 5, T1), f("a", 5, None), "", "", WINDOW, False),
        (f("a", 5, T1), f("a", 5, T1), "", "", None, False),
        # times within the window (strictly)
        (f("a", 5, T1), f("a", 5, T1), "", "", WINDOW, True),
        (f("a", 5, T1), f("a", 5, T1 + WINDOW - 1), "", "", WINDOW, True),
        (f("a", 5, T1 + WINDOW - 1), f("a", 5, T1), "", "", WINDOW, True),
        (f("a", 5, T1), f("a", 5, T1 + WINDOW), "", "", WINDOW, False),
        (f("a", 5, T1), f("a", 5, T1), "", "", 0, True),  # a zero window still takes equal times
        (f("a", 5, T1), f("a", 5, T1 + 1), "", "", 0, False),
        # one hash only: the times decide
        (f("a", 5, T1), f("a", 5, T1), "h", "", WINDOW, True),
        (f("a", 5, T1), f("a", 5, T2), "", "h", WINDOW, False),
        # both hashes: they decide, whatever the times
        (f("a", 5, T1), f("a", 5, T2), "h", "h", WINDOW, True),
        (f("a", 5, None), f("a", 5, None), "h", "h", None, True),
        (f("a", 5, T1), f("a", 5, T1), "h1", "h2", WINDOW, False),
        # sizes must be known and equal
        (f("a", 5, T1), f("a", 6, T1), "h", "h", WINDOW, False),
        (f("a", -1, T1), f("a", -1, T1), "h", "h", WINDOW, False),
        # directories are never "identical files"
        (d("a"), d("a"), "", "", WINDOW, False),
        (d("a"), f("a", -1, None), "", "", WINDOW, False),
    ],
)
def test_identical(
    one: Entry, two: Entry, hash1: str, hash2: str, window: int | None, expected: bool
) -> None:
    assert identical(one, two, hash1, hash2, window) is expected
    assert identical(two, one, hash2, hash1, window) is expected  # symmetric
