"""mkdir, rmdir, rmdirs, delete, purge, cat, copyto, moveto, --dry-run, and names a filesystem allows but
UTF-8 does not, symlinks and FIFOs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .helpers import STANDARD_FILES, Tree, build_tree, snapshot


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _files_and_dirs(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files
    )


# -- mkdir, rmdir, rmdirs, delete, purge --------------------------------------------------------------------


def test_mkdir_makes_parents_and_is_idempotent(run, tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper"
    _ok(run("mkdir", target))
    assert target.is_dir()
    (target / "keep").write_bytes(b"k")
    _ok(run("mkdir", target))
    assert (target / "keep").read_bytes() == b"k"


def test_rmdir_removes_an_empty_directory(run, tree: Tree) -> None:
    _ok(run("rmdir", tree.root / "empty"))
    assert not (tree.root / "empty").exists()
    assert (tree.root / "sub").is_dir()


def test_rmdirs_removes_empty_directories_and_the_root(run, tmp_path: Path) -> None:
    root = tmp_path / "r"
    for directory in ("a/b/c", "x", "keep/inner"):
        (root / directory).mkdir(parents=True)
    (root / "keep" / "f").write_bytes(b"f")
    _ok(run("rmdirs", root))
    assert _files_and_dirs(root) == ["keep", "keep/f"]
    (root / "keep" / "f").unlink()
    _ok(run("rmdirs", root))
    assert not root.exists()


def test_rmdirs_leave_root(run, tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "a" / "b").mkdir(parents=True)
    (root / "c").mkdir()
    _ok(run("rmdirs", "--leave-root", root))
    assert root.is_dir()
    assert _files_and_dirs(root) == []


def test_delete_removes_files_and_keeps_directories(run, tree: Tree) -> None:
    _ok(run("delete", tree.root))
    assert _files_and_dirs(tree.root) == ["empty", "sub", "sub.old", "sub/deep"]


def test_delete_rmdirs_also_removes_emptied_directories_but_not_the_root(run, tree: Tree) -> None:
    _ok(run("delete", "--rmdirs", tree.root))
    assert tree.root.is_dir()
    assert _files_and_dirs(tree.root) == []


def test_delete_of_a_file(run, tree: Tree) -> None:
    _ok(run("delete", tree.root / "sub" / "c.md"))
    assert not (tree.root / "sub" / "c.md").exists()
    assert (tree.root / "sub" / "deep" / "d.txt").exists()


def test_purge_removes_everything(run, tree: Tree) -> None:
    _ok(run("purge", tree.root / "sub"))
    assert not (tree.root / "sub").exists()
    assert (tree.root / "sub.old" / "z.json").exists()


# -- cat ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), b"0123456789"),
        (("--offset", "3", "--count", "4"), b"3456"),
        (("--offset", "-4"), b"6789"),
        (("--head", "3"), b"012"),
        (("--tail", "3"), b"789"),
        (("--discard",), b""),
    ],
    ids=["whole", "offset-count", "negative-offset", "head", "tail", "discard"],
)
def test_cat_file(run, tree: Tree, flags, expected: bytes) -> None:
    proc = run("cat", *flags, tree.root / "b.bin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout_bytes == expected


def test_cat_directory_concatenates_files_in_listing_order(run, tree: Tree) -> None:
    order = ["a.txt", "b.bin", "sub/c.md", "sub.old/z.json", "sub/deep/d.txt"]
    proc = run("cat", tree.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout_bytes == b"".join(STANDARD_FILES[p] for p in order)
    head = run("cat", "--head", "2", tree.root)
    assert head.stdout_bytes == b"".join(STANDARD_FILES[p][:2] for p in order)


# -- copyto, moveto -----------------------------------------------------------------------------------------


def test_copyto_new_name_in_new_folder_keeps_mtime(run, tree: Tree, tmp_path: Path) -> None:
    src = tree.root / "sub" / "deep" / "d.txt"
    dst = tmp_path / "out" / "new folder" / "renamed.txt"
    proc = run("copyto", src, dst)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert dst.read_bytes() == b"deep"
    assert dst.stat().st_mtime_ns == tree["sub/deep/d.txt"].mtime_ns
    assert src.read_bytes() == b"deep"
    assert src.stat().st_mtime_ns == tree["sub/deep/d.txt"].mtime_ns
    # only the file itself appears: no temp file left beside it
    assert os.listdir(dst.parent) == ["renamed.txt"]


def test_copyto_identical_file_is_skipped(run, tree: Tree, tmp_path: Path) -> None:
    src = tree.root / "a.txt"
    dst = tmp_path / "out" / "a.txt"
    first = run("-v", "copyto", src, dst)
    assert first.returncode == 0, first.stderr
    assert f"{dst}: Copied (new)" in first.stderr
    before = dst.stat()
    again = run("-v", "copyto", src, dst)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # nothing copied, nothing to say at INFO
    after = dst.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert after.st_mtime_ns == tree["a.txt"].mtime_ns


def test_copyto_replaces_a_different_file(run, tree: Tree, tmp_path: Path) -> None:
    dst = tmp_path / "out" / "b.bin"
    dst.parent.mkdir()
    dst.write_bytes(b"old and longer content")
    proc = run("-v", "copyto", tree.root / "b.bin", dst)
    assert proc.returncode == 0, proc.stderr
    assert "Copied (replaced existing)" in proc.stderr
    assert dst.read_bytes() == b"0123456789"
    assert dst.stat().st_mtime_ns == tree["b.bin"].mtime_ns


def test_moveto_new_name_in_new_folder_removes_source(run, tree: Tree, tmp_path: Path) -> None:
    src = tree.root / "sub.old" / "z.json"
    dst = tmp_path / "moved" / "deeper" / "zz.json"
    proc = run("moveto", src, dst)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert not src.exists()
    assert dst.read_bytes() == STANDARD_FILES["sub.old/z.json"]
    assert dst.stat().st_mtime_ns == tree["sub.old/z.json"].mtime_ns


# -- --dry-run ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (lambda t, o: ["mkdir", o / "new"], "make directory"),
        (lambda t, o: ["delete", t], "delete"),
        (lambda t, o: ["purge", t], "purge"),
        (lambda t, o: ["copyto", t / "a.txt", o / "copy.txt"], "copy"),
        (lambda t, o: ["moveto", t / "a.txt", o / "moved.txt"], "move"),
        (lambda t, o: ["rmdir", t / "empty"], "remove directory"),
        (lambda t, o: ["rmdirs", t], "remove directory"),
    ],
    ids=["mkdir", "delete", "purge", "copyto", "moveto", "rmdir", "rmdirs"],
)
def test_dry_run_changes_nothing(run, tree: Tree, tmp_path: Path, command, what: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(tree.root), snapshot(out)
    proc = run("--dry-run", *command(tree.root, out))
    assert proc.returncode == 0, proc.stderr
    assert (snapshot(tree.root), snapshot(out)) == before
    lines = proc.stderr.splitlines()
    assert lines, "a dry run must say what it skipped"
    assert all(line.startswith("NOTICE: ") and f"Skipped {what}" in line for line in lines), proc.stderr


def test_dry_run_delete_names_each_file(run, tree: Tree) -> None:
    proc = run("-n", "delete", tree.root)
    assert proc.returncode == 0, proc.stderr
    skipped = sorted(line.split(": Skipped")[0].removeprefix("NOTICE: ") for line in proc.stderr.splitlines())
    assert skipped == sorted(str(tree.root / p) for p in STANDARD_FILES)


# -- names that are not UTF-8, symlinks, FIFOs --------------------------------------------------------------


@pytest.fixture
def odd_names(tmp_path: Path) -> Path:
    root = tmp_path / "u"
    root.mkdir()
    base = os.fsencode(root)
    with open(os.path.join(base, b"bad\xffname.txt"), "wb") as file:
        file.write(b"BAD")
    os.mkdir(os.path.join(base, b"d\xfe"))
    with open(os.path.join(base, b"d\xfe", b"in.txt"), "wb") as file:
        file.write(b"IN")
    (root / "plain.txt").write_bytes(b"P")
    return root


def test_invalid_utf8_names_are_listed_as_raw_bytes(run, odd_names: Path) -> None:
    proc = run("ls", odd_names)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout_bytes == b"        3 bad\xffname.txt\n        1 plain.txt\n        2 d\xfe/in.txt\n"
    cat = run("cat", odd_names)
    assert (cat.returncode, cat.stdout_bytes) == (0, b"BADPIN"), cat.stderr


def test_invalid_utf8_name_is_copied(run, odd_names: Path, tmp_path: Path) -> None:
    src = os.path.join(os.fsencode(odd_names), b"d\xfe", b"in.txt")
    dst = os.path.join(os.fsencode(tmp_path), b"out\xfe", b"c\xffopy.txt")
    proc = run("copyto", src, dst)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    with open(dst, "rb") as file:
        assert file.read() == b"IN"
    assert os.stat(dst).st_mtime_ns == os.stat(src).st_mtime_ns


def test_lsjson_with_invalid_utf8_names_is_valid_utf8_json(run, odd_names: Path) -> None:
    """JSON text must be UTF-8 (RFC 8259); rclone writes such bytes as U+FFFD."""
    proc = run("lsjson", "-R", odd_names)
    assert proc.returncode == 0, proc.stderr
    objects = json.loads(proc.stdout_bytes.decode("utf-8"))  # strict: raw 0xff is not UTF-8
    assert len(objects) == 4
    assert {o["Size"] for o in objects if not o["IsDir"]} == {1, 2, 3}


@pytest.fixture
def links(tmp_path: Path) -> Path:
    root = tmp_path / "l"
    build_tree(root, {"plain.txt": b"P", "real/f.txt": b"FF"})
    os.symlink("plain.txt", root / "link.txt")
    os.symlink("real", root / "dirlink")
    os.mkfifo(root / "fifo")
    return root


def test_symlinks_and_fifos_are_skipped_with_a_notice(run, links: Path) -> None:
    proc = run("ls", links)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "        1 plain.txt\n        2 real/f.txt\n"
    notices = sorted(proc.stderr.splitlines())
    assert len(notices) == 3, proc.stderr
    assert all(line.startswith("NOTICE: ") for line in notices), proc.stderr
    assert "dirlink" in notices[0] and "symlink" in notices[0]
    assert "fifo" in notices[1]
    assert "link.txt" in notices[2] and "symlink" in notices[2]


def test_copy_links_follows_symlinks(run, links: Path, tmp_path: Path) -> None:
    proc = run("-L", "ls", links)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "        1 link.txt\n        1 plain.txt\n        2 dirlink/f.txt\n        2 real/f.txt\n"
    )
    assert [line for line in proc.stderr.splitlines() if "symlink" in line] == []
    assert "fifo" in proc.stderr  # a FIFO is still no file
    dst = tmp_path / "out" / "l.txt"
    copied = run("copyto", "--copy-links", links / "link.txt", dst)
    assert copied.returncode == 0, copied.stderr
    assert dst.read_bytes() == b"P"
    assert not dst.is_symlink()


def test_copyto_and_moveto_between_two_remotes_into_new_folders(run, tree: Tree, tmp_path: Path) -> None:
    """Two configured remotes are different stores: the data is streamed, and the destination's
    folders (the backend's own root included) are created."""
    backup = tmp_path / "backup"
    config = tmp_path / "two.yaml"
    config.write_text(
        f"remotes:\n  home:\n    type: local\n    root: {tree.root}\n  bak:\n    type: local\n"
        f"    root: {backup}\n"
    )
    env = {"SYNCER_CONFIG": str(config)}
    _ok(run("copyto", "home:a.txt", "bak:new/deep/a.txt", env=env))
    assert (backup / "new/deep/a.txt").read_bytes() == (tree.root / "a.txt").read_bytes()
    assert os.stat(backup / "new/deep/a.txt").st_mtime_ns == os.stat(tree.root / "a.txt").st_mtime_ns
    _ok(run("moveto", "home:sub/c.md", "bak:other/c.md", env=env))
    assert (backup / "other/c.md").exists() and not (tree.root / "sub/c.md").exists()
