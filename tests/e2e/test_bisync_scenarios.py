"""``syncer bisync`` through the installed command on two local folders: the scenarios of rclone bisync's own
test suite (first run, changes on either or both sides, conflicts, renames, empty folders, filters, the
safety gates, --dry-run, the lock), each checked on BOTH trees, the exit code and, where files are replaced or
deleted, the debris (``<side>/.debris/YYYY-MM-DD/<path>``).

Every mtime is set explicitly (build_tree, os.utime) so "newer" and "older" never depend on timing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Runner
from .helpers import BASE_NS, assert_one_error_line, build_tree, snapshot
from .test_sync_commands import dirs_of, files_of, lines_with, ok, set_mtime

DAY_NS = 86_400 * 10**9


def later(days: int) -> int:
    """A time after every mtime build_tree gives, ``days`` apart from its neighbours."""
    return BASE_NS + (400 + days) * DAY_NS


#: The tree most scenarios start from (synced by --resync): files at three levels and an empty folder.
BASE: dict[str, bytes] = {
    "a.txt": b"alpha\n",
    "b.txt": b"bravo\n",
    "c.txt": b"charlie\n",
    "g.txt": b"golf\n",
    "docs/d.txt": b"delta\n",
    "docs/e.txt": b"echo\n",
    "docs/deep/f.txt": b"foxtrot\n",
}
BASE_DIRS = {"docs", "docs/deep", "empty"}

#: Words of the -v log that mean a run did something.
ACTION_WORDS = ("Copied", "Renamed", "Replaced", "Made directory", "Removed directory", "conflict")


class Pair:
    """Two folders (``one``, ``two``) and the bisync state directory of one test."""

    def __init__(self, run: Runner, base: Path) -> None:
        self.run = run
        self.one = base / "path1"
        self.two = base / "path2"
        self.state = base / "state"
        for root in (self.one, self.two):
            root.mkdir(parents=True, exist_ok=True)

    def __call__(self, *flags: str) -> subprocess.CompletedProcess[str]:
        """``syncer bisync PATH1 PATH2 FLAGS...`` with this pair's state directory."""
        return self.run("bisync", self.one, self.two, *flags, env={"SYNCER_STATE_DIR": str(self.state)})

    def side(self, number: int) -> Path:
        return self.one if number == 1 else self.two

    def files(self) -> tuple[dict[str, bytes], dict[str, bytes]]:
        return files_of(self.one), files_of(self.two)

    def snapshots(self) -> tuple[dict, dict]:  # type: ignore[type-arg]
        """Both trees, debris included, to the nanosecond."""
        return snapshot(self.one), snapshot(self.two)

    def state_dump(self) -> list[str]:
        """Everything the pair's state database holds (schema and rows), whatever its tables are."""
        databases = list((self.state / "bisync").glob("*.sqlite"))
        assert len(databases) == 1, databases
        with contextlib.closing(sqlite3.connect(f"file:{databases[0]}?mode=ro", uri=True)) as db:
            return list(db.iterdump())

    def lock_file(self) -> Path:
        locks = list((self.state / "bisync").glob("*.lock"))
        assert len(locks) == 1, locks
        return locks[0]


def write(root: Path, path: str, data: bytes, mtime_ns: int) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    set_mtime(target, mtime_ns)


def mtime(root: Path, path: str) -> int:
    return os.stat(root / path).st_mtime_ns


def debris(root: Path) -> dict[str, bytes]:
    """What ``root``'s debris holds: path (below the day folder) -> content; the day must be today (UTC)."""
    now = time.time()
    days = {time.strftime("%Y-%m-%d", time.gmtime(t)) for t in (now, now - 3600)}  # around midnight
    found: dict[str, bytes] = {}
    for path, data in files_of(root / ".debris").items():
        day, _, rest = path.partition("/")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", day) and day in days, path
        found[rest] = data
    return found


def quiet(proc: subprocess.CompletedProcess[str]) -> None:
    """A -v run that did nothing."""
    ok(proc)
    for word in ACTION_WORDS:
        assert not lines_with(proc, f": {word}"), proc.stderr


@pytest.fixture
def pair(run: Runner, tmp_path: Path) -> Pair:
    """Two empty folders, never synced."""
    return Pair(run, tmp_path)


@pytest.fixture
def synced(pair: Pair) -> Pair:
    """BASE (and the empty folder) on path1, copied to an empty path2 by --resync: both sides agree."""
    build_tree(pair.one, BASE, ["empty"])
    ok(pair("--resync"))
    assert pair.files() == (BASE, BASE)
    assert dirs_of(pair.one) == dirs_of(pair.two) == BASE_DIRS
    for path in BASE:
        assert mtime(pair.one, path) == mtime(pair.two, path), path
    assert debris(pair.one) == debris(pair.two) == {}
    return pair


# -- 1. the first run --------------------------------------------------------------------------------------


def test_first_run_without_resync_is_refused(pair: Pair) -> None:
    build_tree(pair.one, {"one.txt": b"1"})
    build_tree(pair.two, {"two.txt": b"2"})
    before = pair.snapshots()
    proc = pair()
    assert_one_error_line(proc, 2, "--resync")
    assert pair.snapshots() == before
    assert_one_error_line(pair(), 2, "--resync")


def test_resync_makes_the_union_and_the_newer_version_wins(pair: Pair) -> None:
    build_tree(pair.one, {"only1.txt": b"path1 only", "sub/both.txt": b"same", "clash1.txt": b"p1 old"})
    build_tree(pair.two, {"only2.txt": b"path2 only", "sub/both.txt": b"same", "clash1.txt": b"p2 newer!"})
    write(pair.one, "clash2.txt", b"path1 is newer here", later(2))
    write(pair.two, "clash2.txt", b"path2 older", later(1))
    set_mtime(pair.two / "clash1.txt", later(3))
    set_mtime(pair.two / "sub/both.txt", mtime(pair.one, "sub/both.txt"))
    (pair.two / "empty2").mkdir()

    proc = pair("--resync", "-v")
    ok(proc)
    union = {
        "only1.txt": b"path1 only",
        "only2.txt": b"path2 only",
        "sub/both.txt": b"same",
        "clash1.txt": b"p2 newer!",
        "clash2.txt": b"path1 is newer here",
    }
    assert pair.files() == (union, union)
    assert dirs_of(pair.one) == dirs_of(pair.two) == {"sub", "empty2"}
    assert mtime(pair.one, "clash1.txt") == mtime(pair.two, "clash1.txt") == later(3)
    assert mtime(pair.one, "clash2.txt") == mtime(pair.two, "clash2.txt") == later(2)
    # the older version of each clash is kept in the debris of the side that lost it
    assert debris(pair.one) == {"clash1.txt": b"p1 old"}
    assert debris(pair.two) == {"clash2.txt": b"path2 older"}
    assert not lines_with(proc, "both.txt: Copied"), "identical files are not copied"

    quiet(pair("-v"))  # and now a normal run is allowed and has nothing to do
    assert pair.files() == (union, union)


# -- 2. and 3. changes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("changed", [1, 2])
def test_changes_on_one_side_are_carried_to_the_other(synced: Pair, changed: int) -> None:
    mine, theirs = synced.side(changed), synced.side(3 - changed)
    write(mine, "new.txt", b"brand new", later(1))
    write(mine, "new dir ☃/ñew file.txt", b"unicode", later(1))
    write(mine, "a.txt", b"alpha, edited\n", later(2))  # other size, later time
    write(mine, "c.txt", b"CHARLIE\n", later(3))  # same size: only the time tells
    (mine / "b.txt").unlink()
    (mine / "docs/deep/f.txt").unlink()

    proc = synced("-v")
    ok(proc)
    expected = {k: v for k, v in BASE.items() if k not in ("b.txt", "docs/deep/f.txt")}
    expected |= {
        "new.txt": b"brand new",
        "new dir ☃/ñew file.txt": b"unicode",
        "a.txt": b"alpha, edited\n",
        "c.txt": b"CHARLIE\n",
    }
    assert synced.files() == (expected, expected)
    for path in ("new.txt", "a.txt", "c.txt", "new dir ☃/ñew file.txt"):
        assert mtime(theirs, path) == mtime(mine, path), path
    # what the other side lost (replaced or deleted) is in its debris; the changed side has none
    assert debris(theirs) == {
        "a.txt": b"alpha\n",
        "c.txt": b"charlie\n",
        "b.txt": b"bravo\n",
        "docs/deep/f.txt": b"foxtrot\n",
    }
    assert debris(mine) == {}
    assert len(lines_with(proc, ": Copied")) == 4, proc.stderr

    quiet(synced("-v"))


def test_changes_on_both_sides_to_different_files(synced: Pair) -> None:
    one, two = synced.one, synced.two
    write(one, "new1.txt", b"from path1", later(1))
    write(one, "a.txt", b"alpha by path1\n", later(2))
    (one / "b.txt").unlink()
    write(two, "docs/new2.txt", b"from path2", later(1))
    write(two, "c.txt", b"charlie by path2\n", later(3))
    (two / "docs/d.txt").unlink()
    for root in (one, two):  # deleted on both: simply forgotten
        (root / "docs/e.txt").unlink()

    ok(synced())
    expected = {k: v for k, v in BASE.items() if k not in ("b.txt", "docs/d.txt", "docs/e.txt")}
    expected |= {
        "new1.txt": b"from path1",
        "a.txt": b"alpha by path1\n",
        "docs/new2.txt": b"from path2",
        "c.txt": b"charlie by path2\n",
    }
    assert synced.files() == (expected, expected)
    assert debris(one) == {"c.txt": b"charlie\n", "docs/d.txt": b"delta\n"}
    assert debris(two) == {"a.txt": b"alpha\n", "b.txt": b"bravo\n"}
    quiet(synced("-v"))


# -- 4. conflicts ------------------------------------------------------------------------------------------

V1 = b"path1 edit\n"  # newer and smaller
V2 = b"path2's longer edit\n"  # older and larger
VERSION = {1: V1, 2: V2}
WINNER = {"none": None, "newer": 1, "older": 2, "larger": 2, "smaller": 1, "path1": 1, "path2": 2}


def make_conflict(pair: Pair, path: str = "a.txt") -> None:
    write(pair.one, path, V1, later(2))
    write(pair.two, path, V2, later(1))


def conflict_outcome(path: str, winner: int | None, loser: str) -> tuple[dict[str, bytes], dict[int, bytes]]:
    """What both sides hold for ``path`` after its conflict, and what each side's debris gets."""
    if winner is None:  # no winner: whatever --conflict-loser says, both versions are renamed, by side
        return {f"{path}.conflict1": V1, f"{path}.conflict2": V2}, {}
    lost = VERSION[3 - winner]
    if loser == "num":
        return {path: VERSION[winner], f"{path}.conflict1": lost}, {}
    if loser == "pathname":
        return {path: VERSION[winner], f"{path}.conflict{3 - winner}": lost}, {}
    return {path: VERSION[winner]}, {3 - winner: lost}  # delete: the loser only in its side's debris


@pytest.mark.parametrize("loser", ["num", "pathname", "delete"])
def test_conflict_under_each_resolve(pair: Pair, loser: str) -> None:
    """One conflicting file per --conflict-resolve value, settled one run each, in one pair."""
    start = {f"{resolve}.txt": b"base version\n" for resolve in WINNER}
    build_tree(pair.one, BASE | start)
    ok(pair("--resync"))
    expected = BASE | start
    debris_of: dict[int, dict[str, bytes]] = {1: {}, 2: {}}
    for resolve, winner in WINNER.items():
        path = f"{resolve}.txt"
        make_conflict(pair, path)
        proc = pair("--conflict-resolve", resolve, "--conflict-loser", loser)
        ok(proc)
        assert len(lines_with(proc, f"{path}: conflict")) == 1, f"{resolve}: {proc.stderr}"
        kept, lost = conflict_outcome(path, winner, loser)
        del expected[path]
        expected |= kept
        for side, data in lost.items():
            debris_of[side][path] = data
        assert pair.files() == (expected, expected), resolve
        assert (debris(pair.one), debris(pair.two)) == (debris_of[1], debris_of[2]), resolve
        for name in kept:
            assert mtime(pair.one, name) == mtime(pair.two, name), name
        if winner is not None:
            assert mtime(pair.one, path) == later(3 - winner), f"{resolve}: the winner keeps its own time"
    quiet(pair("-v"))  # settled: the next run has nothing to do


SUFFIX_CASES = [
    # --conflict-suffix local,cloud: path1's suffix, path2's suffix
    ("none", "num", {"{p}.local1": V1, "{p}.cloud1": V2}),
    ("none", "pathname", {"{p}.local": V1, "{p}.cloud": V2}),
    ("newer", "num", {"{p}": V1, "{p}.cloud1": V2}),
    ("older", "num", {"{p}": V2, "{p}.local1": V1}),
    ("newer", "pathname", {"{p}": V1, "{p}.cloud": V2}),
    ("path2", "pathname", {"{p}": V2, "{p}.local": V1}),
    ("path1", "delete", {"{p}": V1}),
]


def test_conflict_suffix_pair(pair: Pair) -> None:
    start = {f"case{n}.txt": b"base version\n" for n in range(len(SUFFIX_CASES))}
    build_tree(pair.one, BASE | start)
    ok(pair("--resync"))
    expected = BASE | start
    for n, (resolve, loser, renamed) in enumerate(SUFFIX_CASES):
        path = f"case{n}.txt"
        make_conflict(pair, path)
        flags = ("--conflict-resolve", resolve, "--conflict-loser", loser, "--conflict-suffix", "local,cloud")
        ok(pair(*flags))
        del expected[path]
        expected |= {name.format(p=path): data for name, data in renamed.items()}
        assert pair.files() == (expected, expected), (resolve, loser)
    assert debris(pair.one) == {}
    assert debris(pair.two) == {f"case{len(SUFFIX_CASES) - 1}.txt": V2}


def test_conflict_numbers_skip_names_already_taken(synced: Pair) -> None:
    for root in (synced.one, synced.two):
        write(root, "a.txt.conflict1", b"an earlier conflict", later(0))
    make_conflict(synced)
    ok(synced())
    expected = {k: v for k, v in BASE.items() if k != "a.txt"}
    expected |= {"a.txt.conflict1": b"an earlier conflict", "a.txt.conflict2": V1, "a.txt.conflict3": V2}
    assert synced.files() == (expected, expected)


def test_new_on_both_sides_and_different_is_a_conflict(synced: Pair) -> None:
    write(synced.one, "fresh.txt", V1, later(2))
    write(synced.two, "fresh.txt", V2, later(1))
    ok(synced())
    expected = BASE | {"fresh.txt.conflict1": V1, "fresh.txt.conflict2": V2}
    assert synced.files() == (expected, expected)


def test_identical_change_on_both_sides_is_no_conflict(synced: Pair) -> None:
    for root in (synced.one, synced.two):
        write(root, "a.txt", b"the same edit\n", later(1))
        write(root, "same-new.txt", b"made twice", later(2))
    proc = synced("-v")
    quiet(proc)
    assert not lines_with(proc, "conflict"), proc.stderr
    expected = BASE | {"a.txt": b"the same edit\n", "same-new.txt": b"made twice"}
    assert synced.files() == (expected, expected)
    assert debris(synced.one) == debris(synced.two) == {}


def test_identical_content_changed_at_different_times_is_no_conflict(synced: Pair) -> None:
    # the same edit made on two machines: equal bytes, two times; compared by content, not a conflict
    write(synced.one, "a.txt", b"the same edit\n", later(1))
    write(synced.two, "a.txt", b"the same edit\n", later(2))
    proc = synced("-v")
    ok(proc)
    assert not lines_with(proc, "conflict"), proc.stderr
    expected = BASE | {"a.txt": b"the same edit\n"}
    assert synced.files() == (expected, expected)
    assert debris(synced.one) == debris(synced.two) == {}
    quiet(synced("-v"))  # agreed: the next run has nothing to do


def test_same_size_different_content_changed_on_both_sides_is_a_conflict(synced: Pair) -> None:
    write(synced.one, "a.txt", b"edit number 1\n", later(1))
    write(synced.two, "a.txt", b"edit number 2\n", later(2))
    ok(synced())
    both = {"a.txt.conflict1": b"edit number 1\n", "a.txt.conflict2": b"edit number 2\n"}
    one, two = synced.files()
    assert {k: v for k, v in one.items() if k.startswith("a.txt")} == both
    assert {k: v for k, v in two.items() if k.startswith("a.txt")} == both


# -- 5. delete vs change -----------------------------------------------------------------------------------


def test_a_change_wins_over_a_delete(synced: Pair) -> None:
    (synced.one / "a.txt").unlink()
    write(synced.two, "a.txt", b"alpha, changed on path2\n", later(1))
    (synced.two / "b.txt").unlink()
    write(synced.one, "b.txt", b"bravo, changed on path1\n", later(2))
    ok(synced())
    expected = BASE | {"a.txt": b"alpha, changed on path2\n", "b.txt": b"bravo, changed on path1\n"}
    assert synced.files() == (expected, expected)
    assert mtime(synced.one, "a.txt") == mtime(synced.two, "a.txt") == later(1)
    assert mtime(synced.one, "b.txt") == mtime(synced.two, "b.txt") == later(2)
    assert debris(synced.one) == debris(synced.two) == {}
    quiet(synced("-v"))


def test_a_folder_deleted_on_one_side_keeps_a_file_new_on_the_other(synced: Pair) -> None:
    shutil.rmtree(synced.one / "docs/deep")
    write(synced.two, "docs/deep/new.txt", b"added meanwhile", later(1))
    ok(synced())
    expected = {k: v for k, v in BASE.items() if k != "docs/deep/f.txt"}
    expected |= {"docs/deep/new.txt": b"added meanwhile"}
    assert synced.files() == (expected, expected)
    assert debris(synced.two) == {"docs/deep/f.txt": b"foxtrot\n"}
    quiet(synced("-v"))


# -- 6. renames --------------------------------------------------------------------------------------------


def test_a_renamed_file_is_renamed_on_the_other_side(synced: Pair) -> None:
    one, two = synced.one, synced.two
    os.rename(one / "a.txt", one / "alpha.txt")
    os.rename(two / "b.txt", two / "docs/moved-b.txt")
    proc = synced("-v")
    ok(proc)
    expected = {k: v for k, v in BASE.items() if k not in ("a.txt", "b.txt")}
    expected |= {"alpha.txt": b"alpha\n", "docs/moved-b.txt": b"bravo\n"}
    assert synced.files() == (expected, expected)
    assert len(lines_with(proc, f"{two / 'a.txt'}: Renamed to alpha.txt")) == 1, proc.stderr
    assert len(lines_with(proc, f"{one / 'b.txt'}: Renamed to docs/moved-b.txt")) == 1, proc.stderr
    assert not lines_with(proc, ": Copied"), "a rename moves the file, it does not copy it again"
    assert mtime(two, "alpha.txt") == mtime(one, "alpha.txt")
    assert mtime(one, "docs/moved-b.txt") == mtime(two, "docs/moved-b.txt")
    assert debris(one) == debris(two) == {}
    quiet(synced("-v"))


def test_a_renamed_folder_is_renamed_on_the_other_side(synced: Pair) -> None:
    os.rename(synced.one / "docs", synced.one / "papers")
    proc = synced("-v")
    ok(proc)
    expected = {k.replace("docs/", "papers/"): v for k, v in BASE.items()}
    assert synced.files() == (expected, expected)
    assert dirs_of(synced.one) == dirs_of(synced.two) == {"papers", "papers/deep", "empty"}
    assert len(lines_with(proc, ": Renamed to papers/")) == 3, proc.stderr
    assert not lines_with(proc, ": Copied"), proc.stderr
    assert debris(synced.one) == debris(synced.two) == {}
    quiet(synced("-v"))


def test_rename_on_one_side_and_modify_on_the_other_keeps_both(synced: Pair) -> None:
    os.rename(synced.one / "a.txt", synced.one / "alpha.txt")
    write(synced.two, "a.txt", b"alpha, edited on path2\n", later(1))
    ok(synced())
    expected = BASE | {"alpha.txt": b"alpha\n", "a.txt": b"alpha, edited on path2\n"}
    assert synced.files() == (expected, expected)
    assert debris(synced.one) == debris(synced.two) == {}


# -- 7. empty folders --------------------------------------------------------------------------------------


def test_empty_folders_are_made_and_removed(synced: Pair) -> None:
    (synced.one / "made/deeper/still").mkdir(parents=True)
    (synced.two / "from2").mkdir()
    (synced.two / "empty").rmdir()
    proc = synced("-v")
    ok(proc)
    expected_dirs = {"docs", "docs/deep", "made", "made/deeper", "made/deeper/still", "from2"}
    assert dirs_of(synced.one) == dirs_of(synced.two) == expected_dirs
    assert synced.files() == (BASE, BASE)
    assert lines_with(proc, f"{synced.one / 'empty'}: Removed directory"), proc.stderr
    quiet(synced("-v"))


# -- 8. filters --------------------------------------------------------------------------------------------


def test_excluded_files_are_never_copied_or_deleted(pair: Pair) -> None:
    build_tree(pair.one, BASE | {"one.tmp": b"path1 scratch", "both.tmp": b"path1's", "docs/x.tmp": b"x"})
    build_tree(pair.two, {"two.tmp": b"path2 scratch", "both.tmp": b"path2's version"})
    ok(pair("--resync", "--exclude", "*.tmp"))
    one_tmp = {"one.tmp": b"path1 scratch", "both.tmp": b"path1's", "docs/x.tmp": b"x"}
    two_tmp = {"two.tmp": b"path2 scratch", "both.tmp": b"path2's version"}
    assert pair.files() == (BASE | one_tmp, BASE | two_tmp)

    write(pair.one, "one.tmp", b"path1 scratch, rewritten", later(1))
    (pair.two / "both.tmp").unlink()
    write(pair.two, "new.tmp", b"new scratch", later(1))
    (pair.one / "docs/x.tmp").unlink()
    ok(pair("--exclude", "*.tmp"))
    assert pair.files() == (
        BASE | {"one.tmp": b"path1 scratch, rewritten", "both.tmp": b"path1's"},
        BASE | {"two.tmp": b"path2 scratch", "new.tmp": b"new scratch"},
    )
    assert debris(pair.one) == debris(pair.two) == {}


def test_a_new_exclude_rule_does_not_delete_what_was_synced(synced: Pair) -> None:
    write(synced.one, "a.txt", b"alpha, edited while excluded\n", later(1))
    proc = synced("-v", "--exclude", "a.txt", "--exclude", "docs/deep/**")
    quiet(proc)
    assert synced.files() == (BASE | {"a.txt": b"alpha, edited while excluded\n"}, BASE)
    assert debris(synced.one) == debris(synced.two) == {}
    # without the rule the file is seen again, as a change of path1 (not a new file on one side)
    ok(synced())
    expected = BASE | {"a.txt": b"alpha, edited while excluded\n"}
    assert synced.files() == (expected, expected)
    assert debris(synced.two) == {"a.txt": b"alpha\n"}


# -- 9. --max-delete ---------------------------------------------------------------------------------------

DELETED = ("a.txt", "b.txt", "c.txt", "docs/d.txt")  # 4 of 7 files: 57%


def delete_most(root: Path) -> None:
    for path in DELETED:
        (root / path).unlink()


def test_max_delete_aborts_and_changes_nothing_then_force_goes_ahead(synced: Pair) -> None:
    delete_most(synced.one)
    write(synced.two, "g.txt", b"golf, edited on path2\n", later(1))
    before, state = synced.snapshots(), synced.state_dump()
    proc = synced()
    assert_one_error_line(proc, 7, "--max-delete", "path1")
    assert synced.snapshots() == before
    assert synced.state_dump() == state
    assert_one_error_line(synced(), 7, "--max-delete")

    ok(synced("--force"))
    expected = {k: v for k, v in BASE.items() if k not in DELETED} | {"g.txt": b"golf, edited on path2\n"}
    assert synced.files() == (expected, expected)
    assert debris(synced.two) == {path: BASE[path] for path in DELETED}
    assert debris(synced.one) == {"g.txt": b"golf\n"}
    quiet(synced("-v"))


def test_after_a_max_delete_abort_the_next_run_needs_no_resync(synced: Pair) -> None:
    delete_most(synced.one)
    assert synced().returncode == 7
    for path in DELETED:  # the user puts the files back
        shutil.copy2(synced.two / path, synced.one / path)
    write(synced.one, "a.txt", b"alpha, edited after the abort\n", later(1))
    ok(synced())
    expected = BASE | {"a.txt": b"alpha, edited after the abort\n"}
    assert synced.files() == (expected, expected)


def test_max_delete_percentage(synced: Pair) -> None:
    delete_most(synced.one)  # 57%
    for percent in ("0", "50"):
        assert_one_error_line(synced("--max-delete", percent), 7, f"--max-delete {percent}%")
        assert synced.files() == ({k: v for k, v in BASE.items() if k not in DELETED}, BASE)
    ok(synced("--max-delete", "60"))
    kept = {k: v for k, v in BASE.items() if k not in DELETED}
    assert synced.files() == (kept, kept)


def test_half_the_files_is_not_more_than_half(synced: Pair) -> None:
    for root in (synced.one,):
        for path in ("a.txt", "b.txt", "c.txt"):  # 3 of 7: 43%
            (root / path).unlink()
    ok(synced())
    kept = {k: v for k, v in BASE.items() if k not in ("a.txt", "b.txt", "c.txt")}
    assert synced.files() == (kept, kept)


# -- 10. --check-access ------------------------------------------------------------------------------------


def test_check_access_needs_the_marker_on_both_sides(pair: Pair) -> None:
    build_tree(pair.one, BASE | {"RCLONE_TEST": b"marker"})
    shutil.copy2(pair.one / "RCLONE_TEST", pair.two / "RCLONE_TEST")
    ok(pair("--resync", "--check-access"))
    assert pair.files() == (BASE | {"RCLONE_TEST": b"marker"},) * 2

    (pair.two / "RCLONE_TEST").unlink()  # e.g. path2 is not the disk it should be
    write(pair.one, "a.txt", b"alpha, edited\n", later(1))
    before = pair.snapshots()
    proc = pair("--check-access")
    assert_one_error_line(proc, 7, "RCLONE_TEST", "path2")
    assert pair.snapshots() == before

    shutil.copy2(pair.one / "RCLONE_TEST", pair.two / "RCLONE_TEST")
    ok(pair("--check-access"))
    expected = BASE | {"RCLONE_TEST": b"marker", "a.txt": b"alpha, edited\n"}
    assert pair.files() == (expected, expected)


def test_check_access_with_another_file_name_and_at_resync(pair: Pair) -> None:
    build_tree(pair.one, BASE | {"docs/.here": b"1"})
    build_tree(pair.two, {"other.txt": b"2"})
    before = pair.snapshots()
    proc = pair("--resync", "--check-access", "--check-filename", ".here")
    assert_one_error_line(proc, 7, ".here", "path2")
    assert pair.snapshots() == before
    write(pair.two, "docs/.here", b"1", later(0))
    ok(pair("--resync", "--check-access", "--check-filename", ".here"))
    assert files_of(pair.one) == files_of(pair.two) == BASE | {"docs/.here": b"1", "other.txt": b"2"}


# -- 11. --dry-run -----------------------------------------------------------------------------------------


def test_dry_run_reports_and_changes_nothing(synced: Pair) -> None:
    write(synced.one, "new.txt", b"new on path1", later(1))
    write(synced.one, "a.txt", b"alpha, edited\n", later(1))
    (synced.two / "b.txt").unlink()
    os.rename(synced.two / "c.txt", synced.two / "charlie.txt")
    (synced.one / "made").mkdir()
    make_conflict(synced, "g.txt")
    before, state = synced.snapshots(), synced.state_dump()

    proc = synced("--dry-run")
    ok(proc)
    assert synced.snapshots() == before
    assert synced.state_dump() == state
    skipped = lines_with(proc, "Skipped as --dry-run is set")
    for needle in (
        str(synced.two / "new.txt"),
        str(synced.two / "a.txt"),
        str(synced.one / "b.txt"),
        str(synced.one / "c.txt"),
        str(synced.two / "made"),
        "g.txt",
    ):
        assert any(needle in line for line in skipped), f"{needle} not reported:\n{proc.stderr}"

    ok(synced())  # the real run does the work the dry run left
    expected = {k: v for k, v in BASE.items() if k not in ("b.txt", "c.txt", "g.txt")}
    expected |= {
        "new.txt": b"new on path1",
        "a.txt": b"alpha, edited\n",
        "charlie.txt": b"charlie\n",
        "g.txt.conflict1": V1,
        "g.txt.conflict2": V2,
    }
    assert synced.files() == (expected, expected)
    assert "made" in dirs_of(synced.two)


def test_dry_run_of_the_first_resync_leaves_the_pair_new(pair: Pair) -> None:
    build_tree(pair.one, {"one.txt": b"1"})
    build_tree(pair.two, {"two.txt": b"2"})
    before = pair.snapshots()
    proc = pair("--resync", "--dry-run")
    ok(proc)
    assert len(lines_with(proc, "Skipped as --dry-run is set")) == 2, proc.stderr
    assert pair.snapshots() == before
    assert_one_error_line(pair(), 2, "--resync")
    ok(pair("--resync"))
    assert pair.files() == ({"one.txt": b"1", "two.txt": b"2"},) * 2


# -- 12. the lock ------------------------------------------------------------------------------------------

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, f"pid {os.getpid()}, since just now\\n".encode())
print("locked", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def lock_held(lock_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process holding the pair's lock until it is killed (by the caller, or at the end)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"locked\n"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=10)


def test_a_locked_pair_is_exit_5_and_a_dead_holders_lock_is_taken_over(synced: Pair) -> None:
    write(synced.one, "a.txt", b"alpha, edited\n", later(1))
    before = synced.snapshots()
    with lock_held(synced.lock_file()) as holder:
        proc = synced()
        assert_one_error_line(proc, 5, "another bisync", f"pid {holder.pid}")
        assert synced.snapshots() == before
        holder.kill()  # SIGKILL: no chance to let go of anything itself
        holder.wait(timeout=10)
        ok(synced())
    expected = BASE | {"a.txt": b"alpha, edited\n"}
    assert synced.files() == (expected, expected)


# -- 13. and 14. the other safety gates --------------------------------------------------------------------


def test_an_empty_side_aborts_unless_forced(synced: Pair) -> None:
    for child in synced.two.iterdir():  # path2 as an unmounted disk would look
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    before = synced.snapshots()
    proc = synced()
    assert_one_error_line(proc, 7, "path2", "no files")
    assert synced.snapshots() == before

    ok(synced("--force"))
    assert synced.files() == ({}, {})
    assert debris(synced.one) == BASE


def test_a_clock_shift_aborts_unless_forced(synced: Pair) -> None:
    for path in BASE:
        shifted = mtime(synced.one, path) + 3600 * 10**9
        set_mtime(synced.one / path, shifted)
    before = synced.snapshots()
    proc = synced()
    assert_one_error_line(proc, 7, "clock")
    assert synced.snapshots() == before

    ok(synced("--force"))
    assert synced.files() == (BASE, BASE)
    for path in BASE:
        assert mtime(synced.two, path) == mtime(synced.one, path), path
    assert debris(synced.one) == {}
    quiet(synced("-v"))


def test_one_touched_file_is_no_clock_shift(synced: Pair) -> None:
    set_mtime(synced.one / "a.txt", later(1))
    ok(synced())
    assert synced.files() == (BASE, BASE)
    assert mtime(synced.two, "a.txt") == later(1)


# -- other flags and errors --------------------------------------------------------------------------------


def test_checksum_sees_a_change_that_keeps_size_and_time(pair: Pair) -> None:
    build_tree(pair.one, BASE)
    ok(pair("--resync", "--checksum"))
    stamp = mtime(pair.one, "a.txt")
    write(pair.one, "a.txt", b"ALPHA\n", stamp)
    quiet(pair("-v"))  # size and time alone see nothing
    assert files_of(pair.two)["a.txt"] == b"alpha\n"
    ok(pair("--checksum"))
    assert pair.files() == (BASE | {"a.txt": b"ALPHA\n"},) * 2


def test_size_only_ignores_a_new_time(synced: Pair) -> None:
    set_mtime(synced.one / "a.txt", later(1))
    quiet(synced("-v", "--size-only"))
    assert mtime(synced.two, "a.txt") != later(1)
    write(synced.one, "b.txt", b"bravo, longer\n", later(1))
    ok(synced("--size-only"))
    assert synced.files() == (BASE | {"b.txt": b"bravo, longer\n"},) * 2


def test_a_file_against_a_folder_is_left_alone(pair: Pair) -> None:
    build_tree(pair.one, {"x": b"a file", "ok.txt": b"fine"})
    build_tree(pair.two, {"x/inside.txt": b"in a folder"})
    proc = pair("--resync")
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines_with(proc, "x: a file on one side, a directory on the other"), proc.stderr
    one, two = {"x": b"a file", "ok.txt": b"fine"}, {"x/inside.txt": b"in a folder", "ok.txt": b"fine"}
    assert pair.files() == (one, two)
    assert debris(pair.one) == debris(pair.two) == {}


def test_overlapping_paths_are_a_usage_error(run: Runner, tmp_path: Path) -> None:
    build_tree(tmp_path / "outer", {"inner/x.txt": b"x"})
    env = {"SYNCER_STATE_DIR": str(tmp_path / "state")}
    proc = run("bisync", tmp_path / "outer", tmp_path / "outer/inner", "--resync", env=env)
    assert_one_error_line(proc, 2, "overlap")


def test_a_missing_side_is_directory_not_found(synced: Pair) -> None:
    shutil.rmtree(synced.two)
    before = snapshot(synced.one)
    proc = synced()
    assert_one_error_line(proc, 3, "path2", "not found")
    assert snapshot(synced.one) == before


# -- content comparison and renames under the safety gates ------------------------------------------------


def test_resync_agrees_files_with_the_same_bytes_whatever_their_times(pair: Pair) -> None:
    build_tree(pair.one, {"same.txt": b"identical", "other.txt": b"one"})
    build_tree(pair.two, {"same.txt": b"identical", "other.txt": b"two!"})
    set_mtime(pair.one / "same.txt", later(1))
    set_mtime(pair.two / "same.txt", later(2))
    set_mtime(pair.one / "other.txt", later(1))
    set_mtime(pair.two / "other.txt", later(2))
    proc = pair("--resync", "-v")
    ok(proc)
    one, two = pair.files()
    assert one == two == {"same.txt": b"identical", "other.txt": b"two!"}  # the newer other.txt won
    assert debris(pair.one) == {"other.txt": b"one"} and debris(pair.two) == {}
    assert mtime(pair.one, "same.txt") == later(1) and mtime(pair.two, "same.txt") == later(2)  # untouched
    quiet(pair("-v"))


def test_a_renamed_folder_is_not_counted_as_deletes(synced: Pair) -> None:
    # 3 of the 7 files move with docs/ -> notes/; 1 more is really deleted: 1/7 is under --max-delete 50
    (synced.one / "docs").rename(synced.one / "notes")
    (synced.one / "a.txt").unlink()
    proc = synced("-v", "--max-delete", "20")
    ok(proc)
    assert lines_with(proc, "Renamed")
    expected = {k.replace("docs/", "notes/"): v for k, v in BASE.items() if k != "a.txt"}
    assert synced.files() == (expected, expected)
