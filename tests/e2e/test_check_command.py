"""check: sizes, hashes or bytes; rclone's messages, exit code and report files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MTIME = 1_600_000_000_000_000_000


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(MTIME, MTIME))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    src, dst = tmp_path / "src", tmp_path / "dst"
    _tree(src, {"same": b"a", "diff": b"b", "onlysrc": b"c", "sub/x": b"e", "sub/samesize": b"12"})
    _tree(dst, {"same": b"a", "diff": b"bb", "onlydst": b"d", "sub/x": b"E", "sub/samesize": b"21"})
    return src, dst


def test_check_reports_and_files(run, pair: tuple[Path, Path], tmp_path: Path) -> None:
    src, dst = pair
    reports = {name: tmp_path / f"{name}.txt" for name in ("combined", "differ", "missing-on-src",
                                                          "missing-on-dst", "match", "error")}  # fmt: skip
    flags = [part for name, path in reports.items() for part in (f"--{name}", str(path))]
    proc = run("check", src, dst, *flags)
    assert proc.returncode == 1
    assert reports["combined"].read_text().splitlines() == [
        "* diff", "- onlydst", "+ onlysrc", "= same", "* sub/samesize", "* sub/x",
    ]  # fmt: skip
    assert reports["differ"].read_text() == "diff\nsub/samesize\nsub/x\n"
    assert reports["missing-on-src"].read_text() == "onlydst\n"
    assert reports["missing-on-dst"].read_text() == "onlysrc\n"
    assert reports["match"].read_text() == "same\n"
    assert reports["error"].read_text() == ""
    assert oct(os.stat(reports["combined"]).st_mode & 0o777) == "0o600"
    assert "ERROR : diff: sizes differ" in proc.stderr
    assert f"ERROR : onlydst: file not in {src}" in proc.stderr
    assert f"NOTICE: {dst}: 5 differences found" in proc.stderr
    assert f"NOTICE: {dst}: 1 matching files" in proc.stderr
    assert "last error was: 5 differences found" in proc.stderr


def test_one_way_and_size_only(run, pair: tuple[Path, Path]) -> None:
    src, dst = pair
    proc = run("check", "--one-way", "--size-only", "--combined", "-", src, dst)
    # size only: sub/x and sub/samesize have equal sizes; one way: onlydst is not a difference
    assert proc.stdout.splitlines() == ["* diff", "+ onlysrc", "= same", "= sub/samesize", "= sub/x"]
    assert proc.returncode == 1


def test_download_compares_bytes(run, tmp_path: Path) -> None:
    src, dst = tmp_path / "s", tmp_path / "d"
    _tree(src, {"f": b"x" * 3_000_000 + b"1"})
    _tree(dst, {"f": b"x" * 3_000_000 + b"2"})
    proc = run("check", "--download", "--differ", "-", src, dst)
    assert (proc.returncode, proc.stdout) == (1, "f\n")
    assert "ERROR : f: contents differ" in proc.stderr


def test_identical_trees_pass(run, tmp_path: Path) -> None:
    src, dst = tmp_path / "s", tmp_path / "d"
    files = {"a": b"1", "b/c": b"22", "b/d/e": b""}
    _tree(src, files)
    _tree(dst, files)
    proc = run("check", src, dst)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == f"NOTICE: {dst}: 3 matching files\n"


def test_missing_source_is_exit_3(run, tmp_path: Path) -> None:
    proc = run("check", tmp_path / "nope", tmp_path)
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1
