"""Issue 5's cross-client check: files rclone (go-mega) uploads to MEGA download through ``syncer``, and files
``syncer`` uploads download through rclone, byte-identical and MAC-verified both ways.

Both clients are the real programs, run as subprocesses against one emulator account on 127.0.0.1: syncer
with a config whose password comes from ``${MEGA_PASS}``, rclone configured through its environment only
(``X_MEGA_API_URL`` points go-mega at the emulator). Sizes straddle MEGA's chunk boundaries; names are not
ASCII. That each side checks MACs is shown, not assumed: the same download with every body corrupted by the
emulator (one flipped byte, so sizes still agree) fails with a MAC error and leaves no file behind.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import Runner
from .mega_support import mega_remote

pytestmark = pytest.mark.timeout(180)

RCLONE = str(Path(sys.executable).parent / "rclone")

#: relative path -> size: MEGA's chunks are 128 KiB, 256 KiB, ... up to 1 MiB each
FILES = {
    "empty.bin": 0,
    "one.bin": 1,
    "sixteen.bin": 16,
    "dir/chunk.bin": 131072,
    "dir/chunk-plus-one.bin": 131073,
    "dir/sub/big.bin": 5 * 1024 * 1024 + 1,
    "ünïcødé/日本語 ファイル.txt": 100,
    "ünïcødé/emoji 😀 and spaces.txt": 33,
}

#: fail fast instead of retrying for minutes when something is wrong
QUICK = ("--retries", "1", "--low-level-retries", "1")


def make_tree(root: Path) -> dict[str, bytes]:
    tree = {}
    for path, size in FILES.items():
        data = random.Random(path).randbytes(size)
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        tree[path] = data
    return tree


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (temp files included: none may be left) -> content."""
    found = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            full = Path(directory, name)
            found[full.relative_to(root).as_posix()] = full.read_bytes()
    return found


@dataclass
class Rclone:
    """rclone with the remote ``emu:`` configured through the environment; fails the test on a non-zero exit
    unless ``check=False``."""

    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [RCLONE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=90,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"rclone {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done


@dataclass
class Clients:
    """One emulator account, reachable as ``emu:`` by both syncer (``run``) and rclone."""

    emulator: Any
    run: Runner
    rclone: Rclone


@pytest.fixture
def clients(emulator: Any, run: Runner, tmp_path: Path) -> Iterator[Clients]:
    account = mega_remote(emulator, run, "cross")
    email, password = account.email, account.password
    obscured = subprocess.run(  # the password goes in on stdin, never on a command line
        [RCLONE, "obscure", "-"], input=password, capture_output=True, text=True, check=True
    ).stdout.strip()
    home = tmp_path / "rclone-home"
    home.mkdir()
    (home / "rclone.conf").write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "RCLONE_CONFIG": str(home / "rclone.conf"),
        "RCLONE_CONFIG_EMU_TYPE": "mega",
        "RCLONE_CONFIG_EMU_USER": email,
        "RCLONE_CONFIG_EMU_PASS": obscured,
        "X_MEGA_API_URL": emulator.api_url.rstrip("/"),  # go-mega appends "/cs?id=..." itself
    }
    yield Clients(emulator, run, Rclone(env))
    emulator.set_faults(corrupt_rate=0.0)


def test_rclone_uploads_and_syncer_downloads_with_mac_checks(clients: Clients, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "source")
    clients.rclone("copy", str(tmp_path / "source"), "emu:from rclone", *QUICK)

    back = tmp_path / "back"
    done = clients.run("copy", "emu:from rclone", back)
    assert done.returncode == 0, done.stderr
    assert read_tree(back) == tree

    # the same download with one byte of every body flipped: only the MAC check can notice
    clients.emulator.set_faults(corrupt_rate=1.0)
    corrupt = tmp_path / "corrupt"
    done = clients.run("copy", "emu:from rclone", corrupt, *QUICK)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    for path in (path for path, data in tree.items() if data):
        assert any(path in line and "MAC mismatch" in line for line in done.stderr.splitlines()), path
    # only the empty file (no body to corrupt) arrives; no corrupt file, no temp file
    assert read_tree(corrupt) == {"empty.bin": b""}


def test_syncer_uploads_and_rclone_downloads_with_mac_checks(clients: Clients, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "source")
    done = clients.run("copy", tmp_path / "source", "emu:from syncer")
    assert done.returncode == 0, done.stderr

    listed = clients.rclone("lsf", "-R", "--files-only", "--format", "sp", "emu:from syncer", *QUICK)
    sizes = {}
    for line in listed.stdout.splitlines():
        size, path = line.split(";", 1)
        sizes[path] = int(size)
    assert sizes == FILES

    back = tmp_path / "back"
    clients.rclone("copy", "emu:from syncer", str(back), *QUICK)
    assert read_tree(back) == tree

    # go-mega checks the MAC too: the same download corrupted fails instead of writing bad files
    clients.emulator.set_faults(corrupt_rate=1.0)
    corrupt = tmp_path / "corrupt"
    failed = clients.rclone("copy", "emu:from syncer", str(corrupt), *QUICK, check=False)
    assert failed.returncode != 0
    for path in (path for path, data in tree.items() if data):
        assert any(path in line and "MAC verification failed" in line for line in failed.stderr.splitlines())
    assert read_tree(corrupt) == {"empty.bin": b""}
