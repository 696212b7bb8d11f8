"""copy, sync and move through the installed ``syncer`` on real folders: each flag, the debris, exit codes.

Where rclone's behaviour was in doubt it was checked with rclone itself (``rclone --config /dev/null ...``,
v1.75.2); the tests state rclone's behaviour, not the implementation's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .helpers import BASE_NS, STANDARD_DIRS, STANDARD_FILES, Tree, assert_one_error_line, build_tree, snapshot

TEMP_PREFIX = ".syncer-tmp-"
NEWER_NS = BASE_NS + 400 * 86_400 * 10**9  # later than any mtime build_tree gives


# -- helpers ------------------------------------------------------------------------------------------------


def contents(root: Path, *, debris: bool = False) -> dict[str, bytes | None]:
    """'/'-separated relative path -> bytes (None for a directory); the debris folder only if asked.

    Temp files of interrupted writes are left out: listings hide them too.
    """
    found: dict[str, bytes | None] = {}
    if not root.exists():
        return found
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        if rel_dir == "." and not debris and ".debris" in dirnames:
            dirnames.remove(".debris")
        for name in dirnames:
            found[os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")] = None
        for name in filenames:
            if name.startswith(TEMP_PREFIX):
                continue
            path = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            found[path] = Path(directory, name).read_bytes()
    return found


def files_of(root: Path, *, debris: bool = False) -> dict[str, bytes]:
    return {p: d for p, d in contents(root, debris=debris).items() if d is not None}


def dirs_of(root: Path) -> set[str]:
    return {p for p, d in contents(root).items() if d is None}


def ok(proc) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 0, f"exit {proc.returncode}, stderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr


def lines_with(proc, needle: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in proc.stderr.splitlines() if needle in line]


def set_mtime(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


def days_around(action) -> set[str]:  # type: ignore[no-untyped-def]
    """Run ``action``; the UTC dates (the tests run with TZ=UTC) it may have used for today's debris."""
    before = time.strftime("%Y-%m-%d", time.gmtime())
    result = action()
    after = time.strftime("%Y-%m-%d", time.gmtime())
    return result, {before, after}


def one_debris_day(dst: Path) -> Path:
    days = list((dst / ".debris").iterdir())
    assert len(days) == 1, days
    return days[0]


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Tree, Tree]:
    """A source and a destination that differ in every way a sync cares about.

    new.txt: source only. changed.txt: both, different sizes. same.txt: identical. sub/deep.txt: source only,
    in a folder both have. gone.txt, sub/gone.txt, gonedir/x.txt: destination only (gonedir too).
    """
    src = build_tree(
        tmp_path / "src",
        {
            "changed.txt": b"new content",
            "new.txt": b"brand new",
            "same.txt": b"same",
            "sub/deep.txt": b"deep",
        },
    )
    dst = build_tree(
        tmp_path / "dst",
        {
            "changed.txt": b"old",
            "gone.txt": b"stale",
            "gonedir/x.txt": b"stale x",
            "same.txt": b"same",
            "sub/gone.txt": b"stale sub",
        },
    )
    # same.txt must be identical on both sides, mtime included
    set_mtime(dst.root / "same.txt", src["same.txt"].mtime_ns)
    return src, dst


SYNCED = {
    "changed.txt": b"new content",
    "new.txt": b"brand new",
    "same.txt": b"same",
    "sub/deep.txt": b"deep",
}


# -- the basic result --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["copy", "sync", "move"])
def test_into_a_destination_that_does_not_exist_yet(run, tree: Tree, tmp_path: Path, command: str) -> None:
    dst = tmp_path / "not" / "yet" / "there"
    ok(run(command, tree.root, dst))
    assert files_of(dst) == dict(STANDARD_FILES)
    assert not (dst / "empty").exists(), "empty source folders need --create-empty-src-dirs"
    assert not (dst / ".debris").exists()


@pytest.mark.parametrize("command", ["copy", "sync", "move"])
def test_mtimes_are_kept_to_the_nanosecond(run, tree: Tree, tmp_path: Path, command: str) -> None:
    dst = tmp_path / "out"
    ok(run(command, tree.root, dst))
    for item in tree.ordered(dirs=False):
        assert os.stat(dst / item.path).st_mtime_ns == item.mtime_ns, item.path
        assert item.mtime_ns % 1000 != 0, "the tree's mtimes must have nanoseconds for this test to mean much"


def test_sync_result(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("sync", src.root, dst.root))
    assert files_of(dst.root) == SYNCED
    assert dirs_of(dst.root) == {"sub"}, "gonedir is not on the source"
    assert files_of(src.root) == SYNCED, "the source is not touched"


def test_copy_result(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("copy", src.root, dst.root))
    assert files_of(dst.root) == {
        **SYNCED,
        "gone.txt": b"stale",
        "gonedir/x.txt": b"stale x",
        "sub/gone.txt": b"stale sub",
    }
    assert not (dst.root / ".debris").exists(), "copy overwrites: replaced files are not kept"


@pytest.mark.parametrize("command", ["copy", "sync"])
def test_a_second_run_plans_nothing(run, scene: tuple[Tree, Tree], command: str) -> None:
    src, dst = scene
    ok(run(command, src.root, dst.root))
    before = snapshot(dst.root)
    again = run(command, "-v", src.root, dst.root)
    ok(again)
    for word in ("Copied", "Deleted", "Moved", "Updated", "Removed", "Replaced"):
        assert not lines_with(again, f": {word}"), again.stderr
    assert snapshot(dst.root) == before


@pytest.mark.parametrize("command", ["copy", "sync", "move"])
def test_missing_source_directory_is_exit_3(run, tmp_path: Path, command: str) -> None:
    proc = run(command, tmp_path / "nowhere", tmp_path / "dst")
    assert_one_error_line(proc, 3, "nowhere", "directory not found")
    assert not (tmp_path / "dst").exists()


def test_names_with_spaces_and_unicode(run, tmp_path: Path) -> None:
    names = {
        "a file with spaces.txt": b"1",
        "dir with space/inner file.txt": b"22",
        "fïlé ünïcödé ☃.txt": "snow ☃".encode(),
        "日本語/ファイル.txt": b"333",
        "emoji 🎉/party 🎈.bin": b"\x00\xff",
        "semi;colon,comma'quote.txt": b"4444",
    }
    src = build_tree(tmp_path / "src", names)
    dst = tmp_path / "dst dir ☃"
    ok(run("sync", src.root, dst))
    assert files_of(dst) == names
    again = run("sync", "-v", src.root, dst)
    ok(again)
    assert not lines_with(again, ": Copied"), again.stderr


# -- --dry-run and -v ----------------------------------------------------------------------------------------

DRY_RUN_EXPECTED = {
    # path -> verb of its "Skipped <verb> as --dry-run is set" line
    "copy": {
        "changed.txt": "update",
        "new.txt": "copy",
        "sub/deep.txt": "copy",
        "emptydir": "make directory",
    },
    "sync": {
        "changed.txt": "update",
        "new.txt": "copy",
        "sub/deep.txt": "copy",
        "emptydir": "make directory",
        "gone.txt": "delete",
        "sub/gone.txt": "delete",
        "gonedir/x.txt": "delete",
        "gonedir": "remove directory",
    },
    "move": {
        "changed.txt": "move",
        "new.txt": "move",
        "sub/deep.txt": "move",
        "same.txt": "delete from source",
        "emptydir": "make directory",
    },
}


@pytest.mark.parametrize("flag", ["--dry-run", "-n"])
@pytest.mark.parametrize("command", ["copy", "sync", "move"])
def test_dry_run_changes_nothing_and_says_what_it_skipped(
    run, scene: tuple[Tree, Tree], command: str, flag: str
) -> None:
    src, dst = scene
    (src.root / "emptydir").mkdir()
    before = (snapshot(src.root), snapshot(dst.root))
    proc = run(command, flag, "--create-empty-src-dirs", src.root, dst.root)
    ok(proc)
    assert (snapshot(src.root), snapshot(dst.root)) == before
    lines = proc.stderr.splitlines()
    expected = DRY_RUN_EXPECTED[command]
    assert len(lines) == len(expected), proc.stderr
    for path, verb in expected.items():
        side = src.root if verb == "delete from source" else dst.root
        matching = [line for line in lines if f"{side / path}: Skipped {verb} as --dry-run is set" in line]
        assert len(matching) == 1, f"{path}: {verb}\n{proc.stderr}"


def test_dry_run_does_not_make_the_destination(run, tree: Tree, tmp_path: Path) -> None:
    ok(run("sync", "--dry-run", tree.root, tmp_path / "new"))
    assert not (tmp_path / "new").exists()


def test_verbose_logs_each_action(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    proc = run("sync", "-v", src.root, dst.root)
    ok(proc)
    d = dst.root
    for needle in (
        f"{d / 'new.txt'}: Copied (new)",
        f"{d / 'sub/deep.txt'}: Copied (new)",
        f"{d / 'changed.txt'}: Copied (replaced existing)",
        f"{d / 'changed.txt'}: Replaced file moved to {d}/.debris/",
        f"{d / 'gone.txt'}: Deleted",
        f"{d / 'sub/gone.txt'}: Deleted",
        f"{d / 'gonedir/x.txt'}: Deleted",
        f"{d / 'gonedir'}: Removed directory",
    ):
        assert len(lines_with(proc, needle)) == 1, f"{needle!r} not logged once:\n{proc.stderr}"
    assert not lines_with(proc, "same.txt"), "an unchanged file is not an action"
    assert all(line.startswith("INFO  : ") for line in lines_with(proc, str(d))), proc.stderr


# -- comparison flags ---------------------------------------------------------------------------------------


def _pair(tmp_path: Path, src_data: bytes, dst_data: bytes, src_ns: int, dst_ns: int) -> tuple[Path, Path]:
    src, dst = tmp_path / "src", tmp_path / "dst"
    for root, data, ns in ((src, src_data, src_ns), (dst, dst_data, dst_ns)):
        root.mkdir(exist_ok=True)
        (root / "f.txt").write_bytes(data)
        set_mtime(root / "f.txt", ns)
    return src, dst


@pytest.mark.parametrize(
    ("flags", "src_data", "dst_data", "dst_ns", "copied"),
    [
        # same size, other content, other time: the default looks at the hash; --size-only does not
        ((), b"AAAA", b"BBBB", BASE_NS + 10**9, True),
        (("--size-only",), b"AAAA", b"BBBB", BASE_NS + 10**9, False),
        (("--size-only",), b"AAAA", b"BBBBBB", BASE_NS, True),
        # same size, same time, other content: only --checksum notices
        ((), b"AAAA", b"BBBB", BASE_NS, False),
        (("--checksum",), b"AAAA", b"BBBB", BASE_NS, True),
        (("-c",), b"AAAA", b"BBBB", BASE_NS, True),
        (("--checksum",), b"AAAA", b"AAAA", BASE_NS + 10**9, False),
        # --ignore-size: equal times make the files the same whatever their sizes
        (("--ignore-size",), b"AAAA", b"BBBBBBBB", BASE_NS, False),
        (("--ignore-size",), b"AAAA", b"BBBBBBBB", BASE_NS + 10**9, True),
        # --ignore-times: transferred even when identical
        (("--ignore-times",), b"AAAA", b"AAAA", BASE_NS, True),
        (("-I",), b"AAAA", b"AAAA", BASE_NS, True),
        # --ignore-existing: never touched
        (("--ignore-existing",), b"AAAA", b"BBBBBBBB", BASE_NS - 10**9, False),
        # --update: a newer destination stays; an older one is replaced
        (("--update",), b"AAAA", b"BBBBBB", BASE_NS + 10**9, False),
        (("-u",), b"AAAA", b"BBBBBB", BASE_NS + 10**9, False),
        ((), b"AAAA", b"BBBBBB", BASE_NS + 10**9, True),
        (("--update",), b"AAAA", b"BBBBBB", BASE_NS - 10**9, True),
        (("--update",), b"AAAA", b"BBBB", BASE_NS - 10**9, True),
        # --modify-window: times within it are the same
        ((), b"AAAA", b"BBBB", BASE_NS + 10**9, True),
        (("--modify-window", "2s"), b"AAAA", b"BBBB", BASE_NS + 10**9, False),
        (("--modify-window", "2s"), b"AAAA", b"BBBB", BASE_NS + 3 * 10**9, True),
        # rclone: times one nanosecond apart (local disks keep ns) differ, so the hashes decide
        ((), b"AAAA", b"BBBB", BASE_NS + 1, True),
    ],
    ids=[
        "default-hash-decides",
        "size-only-same-size",
        "size-only-other-size",
        "default-same-time-same-size",
        "checksum-same-time",
        "c-same-time",
        "checksum-equal-content-other-time",
        "ignore-size-same-time",
        "ignore-size-other-time",
        "ignore-times-identical",
        "I-identical",
        "ignore-existing",
        "update-dst-newer",
        "u-dst-newer",
        "no-update-dst-newer",
        "update-dst-older",
        "update-dst-older-same-size",
        "no-window",
        "modify-window-within",
        "modify-window-beyond",
        "one-ns-apart",
    ],
)
@pytest.mark.parametrize("command", ["copy", "sync"])
def test_comparison_flags(
    run, tmp_path: Path, command: str, flags: tuple[str, ...], src_data: bytes, dst_data: bytes, dst_ns: int,
    copied: bool,
) -> None:  # fmt: skip
    src, dst = _pair(tmp_path, src_data, dst_data, BASE_NS, dst_ns)
    proc = run(command, "-v", *flags, src, dst)
    ok(proc)
    assert (dst / "f.txt").read_bytes() == (src_data if copied else dst_data)
    assert len(lines_with(proc, "f.txt: Copied")) == (1 if copied else 0), proc.stderr
    if copied:
        assert os.stat(dst / "f.txt").st_mtime_ns == BASE_NS


def test_equal_content_other_time_sets_the_time_without_copying(run, tmp_path: Path) -> None:
    src, dst = _pair(tmp_path, b"AAAA", b"AAAA", BASE_NS, BASE_NS + 10**9)
    proc = run("sync", "-v", src, dst)
    ok(proc)
    assert lines_with(proc, "Updated modification time"), proc.stderr
    assert not lines_with(proc, ": Copied") and not (dst / ".debris").exists(), proc.stderr
    assert os.stat(dst / "f.txt").st_mtime_ns == BASE_NS


def test_checksum_between_folders_uses_their_hashes(run, tmp_path: Path) -> None:
    """Local folders offer md5/sha1/sha256, so --checksum is accepted and compares content."""
    src, dst = _pair(tmp_path, b"AAAA", b"AAAA", BASE_NS, BASE_NS + 10**9)
    proc = run("copy", "-v", "--checksum", src, dst)
    ok(proc)
    assert not lines_with(proc, ": Copied"), proc.stderr


# -- deleting ------------------------------------------------------------------------------------------------


def test_max_delete_aborts_before_changing_anything(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    before = (snapshot(src.root), snapshot(dst.root))
    proc = run("sync", "--max-delete", "2", src.root, dst.root)
    assert_one_error_line(proc, 7, "--max-delete")
    assert (snapshot(src.root), snapshot(dst.root)) == before, "not even the transfers may happen"


def test_max_delete_at_the_limit_runs(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("sync", "--max-delete", "3", src.root, dst.root))
    assert files_of(dst.root) == SYNCED


def test_max_delete_ignores_copy(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("copy", "--max-delete", "0", src.root, dst.root))
    assert files_of(dst.root)["changed.txt"] == b"new content"


@pytest.mark.parametrize(
    ("flag", "deletes_first"),
    [("--delete-before", True), ("--delete-after", False), (None, False)],
    ids=["before", "after", "default-after"],
)
def test_delete_timing_order(run, scene: tuple[Tree, Tree], flag: str | None, deletes_first: bool) -> None:
    src, dst = scene
    proc = run("sync", "-v", "--transfers", "1", *([flag] if flag else []), src.root, dst.root)
    ok(proc)
    lines = proc.stderr.splitlines()
    copied = [i for i, line in enumerate(lines) if ": Copied" in line]
    deleted = [i for i, line in enumerate(lines) if ": Deleted" in line]
    assert len(copied) == 3 and len(deleted) == 3, proc.stderr
    if deletes_first:
        assert max(deleted) < min(copied), proc.stderr
    else:
        assert max(copied) < min(deleted), proc.stderr
    assert files_of(dst.root) == SYNCED


def test_delete_during(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("sync", "--delete-during", src.root, dst.root))
    assert files_of(dst.root) == SYNCED


def test_delete_timing_flags_exclude_each_other(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    before = snapshot(dst.root)
    proc = run("sync", "--delete-before", "--delete-after", src.root, dst.root)
    assert_one_error_line(proc, 2, "--delete-after")
    assert snapshot(dst.root) == before


@pytest.fixture
def unreadable_scene(scene: tuple[Tree, Tree]) -> tuple[Tree, Tree]:
    """The scene plus a source file no one may read; folders opened up so an unprivileged run may write."""
    src, dst = scene
    bad = src.root / "unreadable.txt"
    bad.write_bytes(b"secret")
    bad.chmod(0)
    for directory, dirnames, _ in os.walk(dst.root):
        os.chmod(directory, 0o777)
        for name in dirnames:
            os.chmod(os.path.join(directory, name), 0o777)
    yield src, dst
    bad.chmod(0o644)


@pytest.mark.parametrize(
    ("flag", "deleted"),
    [("--delete-after", False), (None, False), ("--delete-during", True), ("--delete-before", True)],
    ids=["after", "default", "during", "before"],
)
def test_a_failed_transfer_stops_only_delete_after(
    run, unreadable_scene: tuple[Tree, Tree], unprivileged: tuple[str, ...], flag: str | None, deleted: bool
) -> None:
    src, dst = unreadable_scene
    proc = run("sync", "--retries", "1", *([flag] if flag else []), src.root, dst.root, prefix=unprivileged)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines_with(proc, "unreadable.txt"), proc.stderr
    after = files_of(dst.root)
    assert after["new.txt"] == b"brand new" and after["changed.txt"] == b"new content"
    stale = {"gone.txt", "sub/gone.txt", "gonedir/x.txt"}
    if deleted:
        assert stale.isdisjoint(after), after
    else:
        assert stale <= after.keys(), "--delete-after deletes nothing once a transfer failed"
        assert lines_with(proc, "not deleting files as there were IO errors"), proc.stderr


def test_retries_run_the_whole_sync_again(
    run, unreadable_scene: tuple[Tree, Tree], unprivileged: tuple[str, ...]
) -> None:
    src, dst = unreadable_scene
    proc = run("sync", "--retries", "2", src.root, dst.root, prefix=unprivileged)
    assert proc.returncode == 1, proc.stderr
    assert len(lines_with(proc, "Attempt 1/2 failed")) == 1, proc.stderr
    assert not lines_with(proc, "Attempt 2/2 failed"), "the last attempt's failure is the final error"


# -- where deleted and replaced files go ---------------------------------------------------------------------


def test_debris_by_default(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    proc, days = days_around(lambda: run("sync", src.root, dst.root))
    ok(proc)
    day = one_debris_day(dst.root)
    assert day.name in days
    assert files_of(day) == {
        "changed.txt": b"old",
        "gone.txt": b"stale",
        "gonedir/x.txt": b"stale x",
        "sub/gone.txt": b"stale sub",
    }
    assert os.stat(day / "gone.txt").st_mtime_ns == dst["gone.txt"].mtime_ns, "kept as it was"
    assert files_of(dst.root) == SYNCED


def test_debris_is_never_synced_or_deleted(run, scene: tuple[Tree, Tree], tmp_path: Path) -> None:
    src, dst = scene
    ok(run("sync", src.root, dst.root))
    debris = files_of(dst.root / ".debris", debris=True)
    assert debris
    # the next sync leaves it alone, though the source has no .debris
    again = run("sync", "-v", src.root, dst.root)
    ok(again)
    assert files_of(dst.root / ".debris", debris=True) == debris
    assert not lines_with(again, ".debris"), again.stderr
    # syncing the destination somewhere else does not carry it along
    elsewhere = tmp_path / "elsewhere"
    ok(run("sync", dst.root, elsewhere))
    assert files_of(elsewhere, debris=True) == SYNCED
    # nor does a copy or sync back onto the source
    ok(run("sync", dst.root, src.root))
    assert not (src.root / ".debris").exists()


def test_debris_name_collisions_keep_every_version(run, tmp_path: Path) -> None:
    src = build_tree(tmp_path / "src", {"f.txt": b"v1"})
    dst = tmp_path / "dst"
    ok(run("sync", src.root, dst))
    for version in (b"v2 longer", b"v3 longer still"):
        (src.root / "f.txt").write_bytes(version)
        ok(run("sync", src.root, dst))
    day = one_debris_day(dst)
    assert files_of(day) == {"f.txt": b"v1", "f.txt.1": b"v2 longer"}
    assert (dst / "f.txt").read_bytes() == b"v3 longer still"


def test_hard_delete(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("sync", "--hard-delete", src.root, dst.root))
    assert files_of(dst.root, debris=True) == SYNCED
    assert not (dst.root / ".debris").exists()


@pytest.mark.parametrize("suffix", [None, ".bak"], ids=["plain", "suffix"])
def test_backup_dir(run, scene: tuple[Tree, Tree], tmp_path: Path, suffix: str | None) -> None:
    src, dst = scene
    backup = tmp_path / "backup"
    extra = ["--suffix", suffix] if suffix else []
    ok(run("sync", "--backup-dir", backup, *extra, src.root, dst.root))
    s = suffix or ""
    assert files_of(backup) == {
        f"changed.txt{s}": b"old",
        f"gone.txt{s}": b"stale",
        f"gonedir/x.txt{s}": b"stale x",
        f"sub/gone.txt{s}": b"stale sub",
    }
    assert files_of(dst.root, debris=True) == SYNCED
    assert not (dst.root / ".debris").exists()


def test_backup_dir_with_copy_keeps_replaced_files(run, scene: tuple[Tree, Tree], tmp_path: Path) -> None:
    src, dst = scene
    backup = tmp_path / "backup"
    ok(run("copy", "--backup-dir", backup, src.root, dst.root))
    assert files_of(backup) == {"changed.txt": b"old"}


def test_backup_dir_inside_the_destination_is_refused(run, scene: tuple[Tree, Tree]) -> None:
    """rclone: "destination and parameter to --backup-dir mustn't overlap" (fatal, exit 7), nothing changed.
    Accepting it makes the backup folder part of the sync: the next run moves its content into itself."""
    src, dst = scene
    before = snapshot(dst.root)
    proc = run("sync", "--backup-dir", dst.root / "backup", src.root, dst.root)
    assert proc.returncode in (2, 7), proc.stderr
    assert "overlap" in proc.stderr, proc.stderr
    assert snapshot(dst.root) == before


def test_suffix_alone_renames_in_place(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    ok(run("sync", "--suffix", ".old", src.root, dst.root))
    assert files_of(dst.root) == {
        **SYNCED,
        "changed.txt.old": b"old",
        "gone.txt.old": b"stale",
        "gonedir/x.txt.old": b"stale x",
        "sub/gone.txt.old": b"stale sub",
    }
    assert not (dst.root / ".debris").exists()


def test_debris_keep_prunes_old_debris(run, scene: tuple[Tree, Tree]) -> None:
    src, dst = scene
    old_day = dst.root / ".debris" / "2001-02-03"
    (old_day / "sub").mkdir(parents=True)
    (old_day / "sub" / "ancient.txt").write_bytes(b"ancient")
    (dst.root / ".debris" / "keep me").mkdir()
    ok(run("sync", "--debris-keep", "30d", src.root, dst.root))
    names = {p.name for p in (dst.root / ".debris").iterdir()}
    assert "2001-02-03" not in names
    assert "keep me" in names
    assert len(names) == 2, "today's debris stays"


# -- directories ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["copy", "sync", "move"])
@pytest.mark.parametrize("create", [False, True], ids=["default", "create-empty-src-dirs"])
def test_create_empty_src_dirs(run, tree: Tree, tmp_path: Path, command: str, create: bool) -> None:
    (tree.root / "empty" / "nested").mkdir()
    dst = tmp_path / "out"
    ok(run(command, *(["--create-empty-src-dirs"] if create else []), tree.root, dst))
    assert (dst / "empty" / "nested").is_dir() is create
    assert (dst / "empty").is_dir() is create


def test_sync_removes_destination_only_directories(run, tree: Tree, tmp_path: Path) -> None:
    dst = tmp_path / "out"
    ok(run("sync", tree.root, dst))
    (dst / "only-here" / "empty inside").mkdir(parents=True)
    (dst / "with-file" / "deeper").mkdir(parents=True)
    (dst / "with-file" / "deeper" / "f.txt").write_bytes(b"f")
    (dst / "sub" / "extra-empty").mkdir()
    proc = run("sync", "-v", tree.root, dst)
    ok(proc)
    assert dirs_of(dst) == {"sub", "sub/deep", "sub.old"}
    assert files_of(dst) == dict(STANDARD_FILES)
    assert len(lines_with(proc, "Removed directory")) == 5, proc.stderr


def test_copy_leaves_destination_only_directories(run, tree: Tree, tmp_path: Path) -> None:
    dst = tmp_path / "out"
    (dst / "mine").mkdir(parents=True)
    ok(run("copy", tree.root, dst))
    assert (dst / "mine").is_dir()


@pytest.mark.parametrize("delete_dirs", [False, True], ids=["default", "delete-empty-src-dirs"])
def test_move(run, tmp_path: Path, delete_dirs: bool) -> None:
    src = build_tree(
        tmp_path / "src",
        {"a.txt": b"a", "d1/d2/b.txt": b"b", "same.txt": b"same", "replaced.txt": b"new one"},
        dirs=["empty"],
    )
    dst = build_tree(tmp_path / "dst", {"same.txt": b"same", "replaced.txt": b"older", "kept.txt": b"k"})
    set_mtime(dst.root / "same.txt", src["same.txt"].mtime_ns)
    proc = run("move", "-v", *(["--delete-empty-src-dirs"] if delete_dirs else []), src.root, dst.root)
    ok(proc)
    assert files_of(dst.root, debris=True) == {
        "a.txt": b"a",
        "d1/d2/b.txt": b"b",
        "same.txt": b"same",
        "replaced.txt": b"new one",
        "kept.txt": b"k",
    }
    assert files_of(src.root) == {}
    assert src.root.is_dir(), "the source root itself stays (as with rclone)"
    assert dirs_of(src.root) == (set() if delete_dirs else {"d1", "d1/d2", "empty"})
    assert not (dst.root / ".debris").exists(), "move overwrites, as rclone does"
    assert len(lines_with(proc, ": Moved")) == 3, proc.stderr
    assert os.stat(dst.root / "d1/d2/b.txt").st_mtime_ns == src["d1/d2/b.txt"].mtime_ns


@pytest.mark.parametrize(
    ("flag", "source_kept"),
    [("--ignore-existing", True), ("--update", False)],
    ids=["ignore-existing", "update"],
)
def test_move_of_a_file_it_skips(run, tmp_path: Path, flag: str, source_kept: bool) -> None:
    """rclone v1.75.2 (checked): a move deletes the source files it did not need to transfer, except with
    --ignore-existing ("Not removing source file as destination file exists and --ignore-existing is set")."""
    src, dst = _pair(tmp_path, b"older source", b"newer destination", BASE_NS, BASE_NS + 10**9)
    ok(run("move", flag, src, dst))
    assert (dst / "f.txt").read_bytes() == b"newer destination"
    assert (src / "f.txt").exists() is source_kept
    if source_kept:
        assert (src / "f.txt").read_bytes() == b"older source"


# -- the result code -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["copy", "sync", "move"])
def test_error_on_no_transfer(run, tree: Tree, tmp_path: Path, command: str) -> None:
    dst = tmp_path / "out"
    first = run(command, "--error-on-no-transfer", tree.root, dst)
    assert first.returncode == 0, first.stderr
    if command == "move":
        build_tree(tree.root, dict(STANDARD_FILES), STANDARD_DIRS)  # the same files again, already there
    second = run(command, "--error-on-no-transfer", tree.root, dst)
    assert second.returncode == 9, second.stderr
    assert "Traceback" not in second.stderr
    assert run(command, tree.root, dst).returncode == 0, "without the flag a no-op run is a success"


# -- two configured remotes ----------------------------------------------------------------------------------


def test_copy_between_two_configured_remotes(run, tmp_path: Path) -> None:
    """Two remotes are two stores: the data is streamed through syncer (put), not copied on the disk."""
    big = bytes(range(256)) * (3 * 4096 + 7)  # > 3 MiB, several blocks, not a multiple of the block size
    src = build_tree(tmp_path / "left", {"big.bin": big, "small/s.txt": b"small", "zero": b""})
    config = tmp_path / "config.yaml"
    config.write_text(
        "remotes:\n"
        f"  left:\n    type: local\n    root: {src.root}\n"
        f"  right:\n    type: local\n    root: {tmp_path / 'right'}\n"
    )
    proc = run("--config", config, "copy", "-v", "left:", "right:backup")
    ok(proc)
    out = tmp_path / "right" / "backup"
    assert files_of(out) == {"big.bin": big, "small/s.txt": b"small", "zero": b""}
    for item in src.ordered(dirs=False):
        assert os.stat(out / item.path).st_mtime_ns == item.mtime_ns, item.path
    assert not [n for _, _, names in os.walk(out) for n in names if n.startswith(TEMP_PREFIX)]
    assert len(lines_with(proc, "Copied (new)")) == 3, proc.stderr
    again = run("--config", config, "sync", "-v", "left:", "right:backup")
    ok(again)
    assert not lines_with(again, ": Copied"), again.stderr


def test_debris_keep_from_the_config_prunes_old_debris(run, tmp_path: Path) -> None:
    """``defaults.debris_keep`` in the YAML prunes day folders older than it at the end of a sync."""
    src, dst = tmp_path / "s", tmp_path / "d"
    src.mkdir()
    (src / "f").write_bytes(b"new")
    old = dst / ".debris" / "2001-01-01"
    old.mkdir(parents=True)
    (old / "stale").write_bytes(b"x")
    recent = dst / ".debris" / "2999-01-01"
    recent.mkdir(parents=True)
    config = tmp_path / "c.yaml"
    config.write_text("defaults:\n  debris_keep: 30d\n")
    proc = run("sync", src, dst, env={"SYNCER_CONFIG": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert not old.exists() and recent.exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults:\n  debris_keep: soon\n")
    proc = run("sync", src, dst, env={"SYNCER_CONFIG": str(bad)})
    assert proc.returncode == 2 and f"{bad}:2: defaults.debris_keep" in proc.stderr


def test_copyto_and_moveto_use_the_engines_comparison(run, tmp_path: Path) -> None:
    """Same size and mtime but other bytes: only --checksum sees it; moveto --update leaves a newer
    destination and deletes the source, as rclone does."""
    src, dst = tmp_path / "a.txt", tmp_path / "out" / "a.txt"
    dst.parent.mkdir()
    src.write_bytes(b"new!")
    dst.write_bytes(b"old!")
    for path in (src, dst):
        os.utime(path, ns=(BASE_NS, BASE_NS))
    assert run("copyto", src, dst).returncode == 0
    assert dst.read_bytes() == b"old!"
    assert run("copyto", "--checksum", src, dst).returncode == 0
    assert dst.read_bytes() == b"new!"
    os.utime(dst, ns=(BASE_NS + 10**10, BASE_NS + 10**10))
    src.write_bytes(b"newest")
    os.utime(src, ns=(BASE_NS, BASE_NS))
    assert run("moveto", "--update", src, dst).returncode == 0
    assert not src.exists() and dst.read_bytes() == b"new!"
