"""syncer.plan.Planner on hand-made matches: which actions copy, sync and move decide, and in what order."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from backends import Entry, HashType
from syncer.compare import CompareOptions
from syncer.march import Match
from syncer.plan import (
    Copy,
    Delete,
    DeleteSource,
    Mkdir,
    Mode,
    PendingHash,
    Plan,
    Planner,
    PlanOptions,
    RmdirSource,
    SetMtime,
    plan_all,
)

T = 1_700_000_000_123_456_789
S = 10**9
ALL_MODES = list(Mode)
H1, H2 = "aa" * 16, "bb" * 16


def file(path: str, size: int = 10, mtime_ns: int = T) -> Entry:
    return Entry(path, False, size, mtime_ns)


def folder(path: str) -> Entry:
    return Entry(path, True, -1, T)


def options(mode: Mode, **changes: object) -> PlanOptions:
    values: dict[str, object] = {
        "mode": mode,
        "window_ns": 1,
        "hash_kind": HashType.MD5,
        "can_set_mtime": True,
    }
    values.update(changes)
    return PlanOptions(**values)  # type: ignore[arg-type]


def plan(mode: Mode, matches: Iterable[Match], *, ignore_existing: bool = False, **changes: object) -> Plan:
    if ignore_existing:
        changes["compare"] = CompareOptions(ignore_existing=True)
    planner = Planner(options(mode, **changes))
    pending = plan_all(planner, matches)
    assert pending == [], "no match of these tests should wait for hashes"
    return planner.finish()


def kinds(result: Plan) -> list[tuple[str, str]]:
    return [(type(action).__name__, action.path) for action in result.actions]


# -- files ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_new_file_is_copied(mode: Mode) -> None:
    src = file("a.txt")
    result = plan(mode, [Match("a.txt", src, None)])
    assert result.actions == [Copy("a.txt", src, None, "new")]
    assert result.checks == 0  # nothing to compare against


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(Mode.COPY, []), (Mode.SYNC, []), (Mode.MOVE, ["DeleteSource"])],
    ids=["copy", "sync", "move"],
)
def test_identical_file(mode: Mode, expected: list[str]) -> None:
    src, dst = file("a.txt"), file("a.txt")
    result = plan(mode, [Match("a.txt", src, dst)])
    assert [type(a).__name__ for a in result.actions] == expected
    if mode is Mode.MOVE:
        assert result.actions == [DeleteSource("a.txt", src)]
    assert result.checks == 1


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_changed_file_is_copied_over_the_old_one(mode: Mode) -> None:
    src, dst = file("a.txt", size=10), file("a.txt", size=12)
    result = plan(mode, [Match("a.txt", src, dst)])
    assert result.actions == [Copy("a.txt", src, dst, "size differs")]
    assert result.checks == 1


@pytest.mark.parametrize(
    ("mode", "deleted"),
    [(Mode.COPY, False), (Mode.SYNC, True), (Mode.MOVE, False)],
    ids=["copy", "sync", "move"],
)
def test_destination_only_file(mode: Mode, deleted: bool) -> None:
    dst = file("old.txt")
    result = plan(mode, [Match("old.txt", None, dst)])
    assert result.actions == ([Delete("old.txt", dst)] if deleted else [])
    assert result.deletes == (1 if deleted else 0)


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_ignore_existing_skips_in_every_mode(mode: Mode) -> None:
    # rclone's move too: "Not removing source file as destination file exists and --ignore-existing is set"
    result = plan(mode, [Match("a.txt", file("a.txt"), file("a.txt", size=3))], ignore_existing=True)
    assert result.actions == []
    assert result.checks == 1


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(Mode.COPY, []), (Mode.SYNC, []), (Mode.MOVE, ["DeleteSource"])],
    ids=["copy", "sync", "move"],
)
def test_update_with_a_newer_destination(mode: Mode, expected: list[str]) -> None:
    """Nothing is transferred; a move still removes the source file it did not need to transfer (rclone's
    pairChecker: "If moving need to delete the files we don't need to copy"; checked with rclone v1.75.2:
    ``rclone move --update`` logs "Destination is newer than source, skipping" then "Deleted")."""
    src, dst = file("a.txt"), file("a.txt", size=3, mtime_ns=T + 60 * S)
    result = plan(mode, [Match("a.txt", src, dst)], compare=CompareOptions(update=True))
    assert [type(a).__name__ for a in result.actions] == expected
    assert result.checks == 1


def test_ignore_times_copies_identical_files() -> None:
    src, dst = file("a.txt"), file("a.txt")
    result = plan(Mode.SYNC, [Match("a.txt", src, dst)], compare=CompareOptions(ignore_times=True))
    assert [type(a) for a in result.actions] == [Copy]
    assert result.actions[0].replaces == dst  # type: ignore[union-attr]


# -- directories ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(Mode.COPY, []), (Mode.SYNC, [("Rmdir", "gone")]), (Mode.MOVE, [])],
    ids=["copy", "sync", "move"],
)
def test_destination_only_directory(mode: Mode, expected: list[tuple[str, str]]) -> None:
    result = plan(mode, [Match("gone", None, folder("gone"))])
    assert kinds(result) == expected
    assert result.deletes == 0  # directories are not counted as deleted files (--max-delete)


def test_sync_removes_nested_destination_only_directories_and_deletes_their_files() -> None:
    matches = [
        Match("gone", None, folder("gone")),
        Match("gone/f.txt", None, file("gone/f.txt")),
        Match("gone/inner", None, folder("gone/inner")),
        Match("gone/inner/g.txt", None, file("gone/inner/g.txt")),
    ]
    result = plan(Mode.SYNC, matches)
    assert sorted(kinds(result)) == sorted(
        [("Rmdir", "gone"), ("Delete", "gone/f.txt"), ("Rmdir", "gone/inner"), ("Delete", "gone/inner/g.txt")]
    )
    assert result.deletes == 2


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("create", [False, True], ids=["default", "create-empty-src-dirs"])
def test_source_only_directory_is_made_only_with_create_empty_src_dirs(mode: Mode, create: bool) -> None:
    result = plan(mode, [Match("empty", folder("empty"), None)], create_empty_src_dirs=create)
    assert result.actions == ([Mkdir("empty")] if create else [])


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_directory_on_both_sides_needs_nothing(mode: Mode) -> None:
    result = plan(
        mode, [Match("d", folder("d"), folder("d"))], create_empty_src_dirs=True, delete_empty_src_dirs=False
    )
    assert result.actions == []


def test_move_removes_source_directories_deepest_first_after_everything_else() -> None:
    matches = [
        Match("a", folder("a"), None),
        Match("b", folder("b"), folder("b")),
        Match("top.txt", file("top.txt"), None),
        Match("a/x", folder("a/x"), None),
        Match("a/x/y", folder("a/x/y"), None),
        Match("a/x/y/deep.txt", file("a/x/y/deep.txt"), None),
        Match("b/z", folder("b/z"), None),
    ]
    result = plan(Mode.MOVE, matches, delete_empty_src_dirs=True)
    removals = [a.path for a in result.actions if isinstance(a, RmdirSource)]
    assert sorted(removals) == ["a", "a/x", "a/x/y", "b", "b/z"]
    depths = [p.count("/") for p in removals]
    assert depths == sorted(depths, reverse=True), removals
    # every directory removal comes after every file action
    first_removal = next(i for i, a in enumerate(result.actions) if isinstance(a, RmdirSource))
    assert all(isinstance(a, RmdirSource) for a in result.actions[first_removal:])
    assert {a.path for a in result.actions if isinstance(a, Copy)} == {"top.txt", "a/x/y/deep.txt"}


@pytest.mark.parametrize(
    ("mode", "flag"),
    [(Mode.MOVE, False), (Mode.COPY, True), (Mode.SYNC, True)],
    ids=["move-without-flag", "copy-with-flag", "sync-with-flag"],
)
def test_source_directories_stay_unless_move_with_delete_empty_src_dirs(mode: Mode, flag: bool) -> None:
    result = plan(mode, [Match("a", folder("a"), None)], delete_empty_src_dirs=flag)
    assert not any(isinstance(a, RmdirSource) for a in result.actions)


# -- same content, different time ----------------------------------------------------------------------------


def _pending(mode: Mode, **changes: object) -> tuple[Planner, PendingHash, Entry, Entry]:
    src, dst = file("a.txt", mtime_ns=T), file("a.txt", mtime_ns=T + 10 * S)
    planner = Planner(options(mode, **changes))
    waiting = planner.add(Match("a.txt", src, dst))
    assert isinstance(waiting, PendingHash)
    assert planner.plan.actions == [], "nothing is decided before the hashes are known"
    return planner, waiting, src, dst


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_equal_content_and_settable_mtime_sets_the_mtime(mode: Mode) -> None:
    planner, waiting, src, dst = _pending(mode)
    planner.resolved(waiting, H1, H1)
    expected: list[object] = [SetMtime("a.txt", src, dst)]
    if mode is Mode.MOVE:
        expected.append(DeleteSource("a.txt", src))
    assert planner.finish().actions == expected


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_equal_content_without_settable_mtime_is_copied(mode: Mode) -> None:
    planner, waiting, src, dst = _pending(mode, can_set_mtime=False)
    planner.resolved(waiting, H1, H1)
    assert planner.finish().actions == [Copy("a.txt", src, dst, "modification time differs")]


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
@pytest.mark.parametrize(
    ("src_hash", "dst_hash"), [(H1, H2), ("", H1), (H1, "")], ids=["differ", "no-src", "no-dst"]
)
def test_different_or_unknown_content_is_copied(mode: Mode, src_hash: str, dst_hash: str) -> None:
    planner, waiting, src, dst = _pending(mode)
    planner.resolved(waiting, src_hash, dst_hash)
    actions = planner.finish().actions
    assert len(actions) == 1 and isinstance(actions[0], Copy)
    assert (actions[0].src, actions[0].replaces) == (src, dst)


def test_no_common_hash_means_no_pending_and_a_copy() -> None:
    src, dst = file("a.txt", mtime_ns=T), file("a.txt", mtime_ns=T + 10 * S)
    result = plan(Mode.SYNC, [Match("a.txt", src, dst)], hash_kind=None)
    assert result.actions == [Copy("a.txt", src, dst, "modification time differs")]


def test_checksum_sends_every_same_size_pair_to_the_hashes() -> None:
    planner = Planner(options(Mode.SYNC, compare=CompareOptions(checksum=True)))
    same = Match("same.txt", file("same.txt"), file("same.txt"))
    bigger = Match("bigger.txt", file("bigger.txt", size=5), file("bigger.txt", size=6))
    pending = plan_all(planner, [same, bigger])
    assert [p.match for p in pending] == [same]
    planner.resolved(pending[0], H1, H1)
    result = planner.finish()
    assert kinds(result) == [("Copy", "bigger.txt")]
    assert result.checks == 2


def test_plan_all_returns_only_the_pending_in_march_order() -> None:
    planner = Planner(options(Mode.COPY))
    matches = [
        Match("a", file("a"), file("a", mtime_ns=T + S)),
        Match("b", file("b"), file("b")),
        Match("c", file("c"), file("c", mtime_ns=T - S)),
        Match("d", file("d"), None),
    ]
    pending = plan_all(planner, matches)
    assert [p.match.path for p in pending] == ["a", "c"]
    assert kinds(planner.plan) == [("Copy", "d")]


# -- the plan as --dry-run shows it --------------------------------------------------------------------------


def test_describe_names_each_action() -> None:
    matches = [
        Match("changed.txt", file("changed.txt", size=1), file("changed.txt", size=2)),
        Match("empty", folder("empty"), None),
        Match("gone", None, folder("gone")),
        Match("gone/old.txt", None, file("gone/old.txt", size=7)),
        Match("new.txt", file("new.txt", size=4), None),
    ]
    result = plan(Mode.SYNC, matches, create_empty_src_dirs=True)
    described = {path: verb for path, verb, _ in result.describe()}
    assert described == {
        "changed.txt": "update",
        "empty": "make directory",
        "gone": "remove directory",
        "gone/old.txt": "delete",
        "new.txt": "copy",
    }


def test_describe_a_move() -> None:
    src = file("a.txt")
    result = plan(
        Mode.MOVE, [Match("a.txt", src, None), Match("d", folder("d"), None)], delete_empty_src_dirs=True
    )
    assert [(path, verb) for path, verb, _ in result.describe()] == [
        ("a.txt", "move"),
        ("d", "remove source directory"),
    ]
