"""``syncer backup SRC DST --keep N`` and ``syncer backup list DST`` on local folders, through the real CLI:
dated snapshots, the newest N kept (older ones moved to DST's debris), an interrupted snapshot listed as
incomplete, never counted, and finished by the next run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .conftest import Runner
from .helpers import build_tree

BASE_NS = 1_700_000_000 * 10**9


def _edit(path: Path, text: str, seconds: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(BASE_NS + seconds * 10**9, BASE_NS + seconds * 10**9))


def _snapshots(run: Runner, dst: Path) -> list[list[str]]:
    listed = run("backup", "list", dst)
    assert listed.returncode == 0, listed.stderr
    return [line.split("\t") for line in listed.stdout.splitlines()]


def test_five_backups_keep_the_newest_three(run: Runner, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "photos", {"a.txt": b"v0", "album/b.txt": b"stays"}).root
    dst = tmp_path / "backups"
    for number in range(1, 6):
        _edit(source / "a.txt", f"version {number}", number)
        done = run("backup", source, dst, "--keep", "3")
        assert done.returncode == 0, done.stderr
    rows = _snapshots(run, dst)
    assert [row[1] for row in rows] == ["complete"] * 3
    assert all(re.fullmatch(r"photos_bk_\d{14}", row[0]) for row in rows), rows
    assert [(dst / row[0] / "a.txt").read_text() for row in rows] == ["version 3", "version 4", "version 5"]
    assert all((dst / row[0] / "album" / "b.txt").read_text() == "stays" for row in rows)
    assert rows[0][2] == "2 files"
    retired = sorted(p.name for p in (dst / ".debris").glob("*/photos_bk_*"))
    assert len(retired) == 2  # the two oldest, recoverable from DST's debris
    assert [(p / "a.txt").read_text() for p in sorted((dst / ".debris").glob("*/photos_bk_*"))] == [
        "version 1",
        "version 2",
    ]


def test_an_interrupted_snapshot_is_incomplete_until_the_next_run_finishes_it(
    run: Runner, tmp_path: Path
) -> None:
    source = build_tree(tmp_path / "docs", {"a.txt": b"alpha", "b.txt": b"bravo"}).root
    dst = tmp_path / "backups"
    assert run("backup", source, dst, "--keep", "1").returncode == 0
    (complete,) = _snapshots(run, dst)
    # what a run killed mid-way leaves: a working folder holding part of the next snapshot
    partial = dst / "docs_bk_20990101000000.incomplete"
    build_tree(partial, {"a.txt": b"alpha"})
    rows = _snapshots(run, dst)
    assert [row[1] for row in rows] == ["complete", "incomplete"]

    _edit(source / "b.txt", "bravo, edited", 100)
    done = run("backup", source, dst, "--keep", "1", "-v")
    assert done.returncode == 0, done.stderr
    assert "going on with an interrupted snapshot" in done.stderr
    rows = _snapshots(run, dst)
    assert len(rows) == 1 and rows[0][1] == "complete" and rows[0][0] != complete[0]
    assert (dst / rows[0][0] / "b.txt").read_text() == "bravo, edited"
    assert not partial.exists()


def test_backup_needs_keep_and_dry_run_changes_nothing(run: Runner, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha"}).root
    dst = tmp_path / "backups"
    missing = run("backup", source, dst)
    assert missing.returncode == 2 and "--keep" in missing.stderr
    nowhere = run("backup", tmp_path / "no-such-folder", dst, "--keep", "2")
    assert nowhere.returncode == 3 and "directory not found" in nowhere.stderr
    assert len(nowhere.stderr.strip().splitlines()) == 1
    dry = run("--dry-run", "backup", source, dst, "--keep", "2")
    assert dry.returncode == 0, dry.stderr
    assert not dst.exists() or not any(dst.iterdir())
