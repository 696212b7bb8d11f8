"""syncer.bisync.safety: the gates that stop a bisync before it changes anything (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from backends import Entry
from syncer.bisync.deltas import CompareSpec, side_deltas
from syncer.bisync.listing import SideListing
from syncer.bisync.safety import access_problem, safety_problems
from syncer.bisync.state import Agreed, Seen

SEC = 10**9
T0 = 1_700_000_000 * SEC
T1 = T0 + 3600 * SEC
SIDES = pytest.mark.parametrize("me", [1, 2], ids=["path1", "path2"])
MARKER = "RCLONE_TEST"


# -- helpers -------------------------------------------------------------------------------------------------


def f(path: str, size: int = 10, mtime: int | None = T0) -> Entry:
    return Entry(path, False, size, mtime)


def d(path: str) -> Entry:
    return Entry(path, True)


def row(path: str, size: int = 10, mtime: int | None = T0) -> Agreed:
    return Agreed(path, False, Seen(size, mtime), Seen(size, mtime))


def drow(path: str) -> Agreed:
    return Agreed(path, True, Seen(), Seen())


def side(*entries: Entry, hidden: Iterable[str] = (), unlisted: Iterable[str] = ()) -> SideListing:
    return SideListing(entries={e.path: e for e in entries}, hidden=set(hidden), unlisted=set(unlisted))


def names(count: int, prefix: str = "f") -> list[str]:
    return [f"{prefix}{n:02}" for n in range(count)]


def problems(
    agreed: Iterable[Agreed], listing: SideListing, *, me: int = 1, max_delete: int = 50
) -> list[str]:
    """The problems of one side ``me`` holding ``listing``, the other side being exactly the agreed state."""
    state = {a.path: a for a in agreed}
    untouched = side(
        *(d(a.path) if a.is_dir else f(a.path, a.one.size, a.one.mtime_ns) for a in state.values())
    )
    listings = {me: listing, 3 - me: untouched}
    spec = CompareSpec()
    sides = {n: (listings[n], side_deltas(state, n, listings[n], spec)) for n in (1, 2)}
    return safety_problems(state, sides, max_delete_percent=max_delete)


def files_left(total: int, deleted: int) -> tuple[list[Agreed], SideListing]:
    """``total`` agreed files of which the side lost ``deleted``."""
    all_names = names(total)
    return [row(n) for n in all_names], side(*(f(n) for n in all_names[deleted:]))


# -- --max-delete --------------------------------------------------------------------------------------------


@SIDES
@pytest.mark.parametrize(
    ("total", "deleted", "max_delete", "objects"),
    [
        (10, 5, 50, False),  # exactly at the limit
        (10, 6, 50, True),
        (10, 4, 50, False),
        (4, 2, 50, False),
        (3, 2, 50, True),  # 66.7 %
        (3, 1, 33, True),  # 33.3 % is above 33
        (3, 1, 34, False),
        (10, 0, 0, False),
        (10, 1, 0, True),  # --max-delete 0: no delete at all
        (10, 9, 90, False),
        (10, 9, 89, True),
        (200, 1, 1, False),  # 0.5 %
        (200, 2, 1, False),  # exactly 1 %
        (200, 3, 1, True),
    ],
)
def test_max_delete(me: int, total: int, deleted: int, max_delete: int, objects: bool) -> None:
    agreed, listing = files_left(total, deleted)
    found = problems(agreed, listing, me=me, max_delete=max_delete)
    if objects:
        assert found == [
            f"{deleted} of {total} files were deleted on path{me}, more than --max-delete {max_delete}%"
        ]
    else:
        assert found == []


def test_max_delete_counts_files_not_directories() -> None:
    # two of four files gone (50 %) with three directories: directories neither count as deleted nor as prior
    agreed = [drow("a"), drow("b"), drow("c"), row("a/1"), row("a/2"), row("keep1"), row("keep2")]
    assert problems(agreed, side(f("keep1"), f("keep2")), max_delete=50) == []
    assert problems(agreed, side(f("keep1"), f("keep2")), max_delete=49) == [
        "2 of 4 files were deleted on path1, more than --max-delete 49%"
    ]


def test_max_delete_with_everything_deleted_but_new_files() -> None:
    agreed, _ = files_left(4, 4)
    assert problems(agreed, side(f("new")), max_delete=99) == [
        "4 of 4 files were deleted on path1, more than --max-delete 99%"
    ]
    assert problems(agreed, side(f("new")), max_delete=100) == []


# -- empty side ----------------------------------------------------------------------------------------------


@SIDES
@pytest.mark.parametrize(
    "listing", [side(), side(d("dir"), d("dir/sub"))], ids=["nothing", "only-directories"]
)
def test_empty_side_with_prior_files(me: int, listing: SideListing) -> None:
    agreed, _ = files_left(3, 3)
    found = problems(agreed, listing, me=me, max_delete=100)  # even where every delete would be allowed
    assert len(found) == 1
    assert found[0].startswith(f"path{me} has no files, but 3 were there last time")


@SIDES
def test_empty_side_without_prior_files_is_fine(me: int) -> None:
    assert problems([], side(), me=me) == []
    assert problems([drow("dir")], side(), me=me) == []  # a directory is no file


# -- every time changed --------------------------------------------------------------------------------------


def times_changed(
    total: int, touched: int, *, mtime: int = T1, deleted: int = 0
) -> tuple[list[Agreed], SideListing]:
    """``total`` agreed files; the side lost the first ``deleted``, the next ``touched`` have new times."""
    all_names = names(total)
    left = all_names[deleted:]
    entries = [f(n, mtime=mtime) if i < touched else f(n) for i, n in enumerate(left)]
    return [row(n) for n in all_names], side(*entries)


@SIDES
@pytest.mark.parametrize(
    ("total", "touched", "mtime", "objects"),
    [
        (2, 2, T1, True),
        (2, 2, T0 - SEC, True),  # older counts as much as newer
        (5, 5, T0 + 1, True),
        (2, 1, T1, False),  # one of two changed
        (5, 4, T1, False),
        (1, 1, T1, False),  # a single file proves nothing
        (2, 0, T1, False),
    ],
)
def test_every_file_with_only_a_new_time(
    me: int, total: int, touched: int, mtime: int, objects: bool
) -> None:
    agreed, listing = times_changed(total, touched, mtime=mtime)
    found = problems(agreed, listing, me=me)
    if objects:
        assert found == [
            f"every file on path{me} ({total}) has a new modification time and nothing else changed "
            "(a clock or timezone shift?)"
        ]
    else:
        assert found == []


def test_new_time_on_every_file_that_is_left() -> None:
    # 1 of 4 deleted (within --max-delete), the 3 left all have new times
    agreed, listing = times_changed(4, 3, deleted=1)
    assert [p for p in problems(agreed, listing) if "modification time" in p] == [
        "every file on path1 (3) has a new modification time and nothing else changed "
        "(a clock or timezone shift?)"
    ]


def test_size_changes_are_not_a_clock_shift() -> None:
    agreed = [row("a"), row("b")]
    assert problems(agreed, side(f("a", 11, T1), f("b", 12, T1))) == []
    # one with a new size, one with only a new time: not every file has only a new time
    assert problems(agreed, side(f("a", 11, T1), f("b", 10, T1))) == []


# -- hidden paths --------------------------------------------------------------------------------------------


def test_hidden_paths_are_not_prior_files_for_max_delete() -> None:
    # 2 of the 3 visible files deleted (67 %); counting the 3 hidden ones would make it 2 of 6 (33 %)
    agreed = [row("a"), row("b"), row("c"), drow("skip"), row("skip/x"), row("skip/y"), row("h")]
    listing = side(f("a"), hidden=["skip", "h"])
    assert problems(agreed, listing, max_delete=50) == [
        "2 of 3 files were deleted on path1, more than --max-delete 50%"
    ]


def test_hidden_paths_are_not_prior_files_for_an_empty_side() -> None:
    agreed = [drow("skip"), row("skip/x"), row("skip/y"), row("h")]
    assert problems(agreed, side(hidden=["skip", "h"])) == []
    assert problems(agreed, side(unlisted=["skip"], hidden=["h"])) == []
    # visible prior files do count
    assert len(problems([*agreed, row("seen")], side(hidden=["skip", "h"]))) == 1


def test_hidden_paths_are_not_prior_files_for_a_clock_shift() -> None:
    # both visible files have new times; with the hidden one counted, "every file" would not hold
    agreed = [row("a"), row("b"), row("h")]
    listing = side(f("a", mtime=T1), f("b", mtime=T1), hidden=["h"])
    assert len([p for p in problems(agreed, listing) if "modification time" in p]) == 1


def test_problems_of_both_sides_are_reported() -> None:
    state = {a.path: a for a in (row("a"), row("b"))}
    one, two = side(), side(f("a", mtime=T1), f("b", mtime=T1))
    spec = CompareSpec()
    found = safety_problems(
        state,
        {1: (one, side_deltas(state, 1, one, spec)), 2: (two, side_deltas(state, 2, two, spec))},
        max_delete_percent=50,
    )
    assert len(found) == 2
    assert found[0].startswith("path1 has no files")
    assert found[1].startswith("every file on path2 (2)")


def test_a_quiet_run_has_no_problems() -> None:
    agreed = [row(n) for n in names(5)]
    listing = side(*(f(n) for n in names(5)), f("new"), f("f00.bak"))
    assert problems(agreed, listing, max_delete=0) == []


# -- --check-access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "two", "message"),
    [
        (side(), side(f(MARKER)), f"--check-access: no {MARKER} file on path1"),
        (side(f(MARKER)), side(), f"--check-access: no {MARKER} file on path2"),
        (side(), side(), f"--check-access: no {MARKER} file on path1 and path2"),
        # a directory of that name, or a file whose name only ends with it, is no marker
        (side(d(MARKER)), side(f(MARKER)), f"--check-access: no {MARKER} file on path1"),
        (
            side(f(MARKER)),
            side(f("x" + MARKER), f(f"{MARKER}.txt")),
            f"--check-access: no {MARKER} file on path2",
        ),
        (
            side(f(MARKER), f(f"sub/{MARKER}")),
            side(f(MARKER)),
            f"--check-access: the {MARKER} files differ between the sides (sub/{MARKER})",
        ),
        (
            side(f(f"a/{MARKER}")),
            side(f(f"b/{MARKER}")),
            f"--check-access: the {MARKER} files differ between the sides (a/{MARKER}, b/{MARKER})",
        ),
    ],
)
def test_access_problem(one: SideListing, two: SideListing, message: str) -> None:
    assert access_problem(one, two, MARKER) == message


def test_access_problem_lists_at_most_five_differences() -> None:
    one = side(*(f(f"{n}/{MARKER}") for n in names(8, "d")))
    message = access_problem(one, side(f(f"other/{MARKER}")), MARKER)
    assert message is not None
    assert message.count(MARKER) == 1 + 5


@pytest.mark.parametrize(
    ("one", "two"),
    [
        (side(f(MARKER)), side(f(MARKER))),
        (side(f(MARKER, 1), f(f"sub/{MARKER}")), side(f(MARKER, 99, T1), f(f"sub/{MARKER}"))),
        (side(f(f"a/b/{MARKER}"), f("other")), side(f(f"a/b/{MARKER}"), d("dir"))),
    ],
)
def test_access_markers_match(one: SideListing, two: SideListing) -> None:
    assert access_problem(one, two, MARKER) is None
