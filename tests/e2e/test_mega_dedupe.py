"""``syncer dedupe`` against a MEGA account on the emulator, and what copy/sync do when they meet duplicates.

Duplicates are made as other MEGA clients make them: a second upload attached beside a file of the same name,
a folder renamed to a name another folder has. They are made through syncer's own MEGA backend in this process
(a session of its own), and the CLI then sees them through the emulator's action packets.
"""

from __future__ import annotations

import io
import os
import pty
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import paths
from backends.mega.backend import MegaBackend, MegaOptions
from backends.secret_values import Secret

from .conftest import SYNCER
from .helpers import build_tree
from .mega_support import Mega, lsjson

SECOND = 10**9
T = 1_700_000_000


class Maker:
    """Another MEGA client on the same account: makes duplicates and looks into the Rubbish Bin."""

    def __init__(self, mega: Mega, state: Path) -> None:
        self.options = MegaOptions(
            user=mega.email,
            password=Secret(mega.password),
            api_url=mega.emulator.api_url,
            state_dir=str(state),
        )
        self.backend = MegaBackend("maker", "", self.options)

    def file(self, path: str, data: bytes, mtime: int) -> None:
        """Upload ``data`` as ``path`` beside whatever already has that name."""
        backend, account = self.backend, self.backend.account
        folder = backend._make_dirs(path.split("/")[:-1], path)
        uploaded = account.transfers.upload(account.upload_url(len(data)), io.BytesIO(data), len(data), path)
        account.attach_upload(folder.handle, paths.basename(path), uploaded, mtime, replaces=None)

    def rename_dir(self, source: str, path: str) -> None:
        self.backend.account.set_attributes(self.backend._dir(source), {"n": paths.basename(path)})

    def in_rubbish(self) -> list[str]:
        """Names of the files in the Rubbish Bin, seen by a fresh session of this client."""
        self.backend.close()
        fresh = MegaBackend("maker", "", self.options)
        try:
            tree = fresh.account.tree
            found, stack = [], [tree.rubbish]
            while stack:
                for child in tree.children_of(stack.pop()):
                    if child.type == 0:
                        found.append(child.engine_name)
                    else:
                        stack.append(child.handle)
            return sorted(found)
        finally:
            fresh.close()

    def close(self) -> None:
        self.backend.close()


@pytest.fixture
def maker(mega: Mega, tmp_path: Path) -> Iterator[Maker]:
    made = Maker(mega, tmp_path / "maker-state")
    yield made
    made.close()


def files_of(mega: Mega, spec: str) -> dict[str, int]:
    """path -> size of the files under ``spec`` (duplicates would collapse: use only where there are none)."""
    return {p: item["Size"] for p, item in lsjson(mega.run, spec).items() if not item["IsDir"]}


def test_copy_and_sync_report_duplicates_instead_of_picking_one(
    mega: Mega, maker: Maker, tmp_path: Path
) -> None:
    maker.file("d/dup.txt", b"one", T)
    maker.file("d/dup.txt", b"two!", T + 1)
    maker.file("d/fine.txt", b"fine", T)
    maker.close()
    local = tmp_path / "local"
    done = mega.run("copy", "emu:d", local)
    assert done.returncode != 0
    assert "dup.txt: duplicate name on the source (run dedupe); skipped" in done.stderr
    assert (local / "fine.txt").read_bytes() == b"fine"  # the rest still came down
    assert not (local / "dup.txt").exists()

    # uploading onto a duplicated name neither overwrites one of them nor deletes them
    source = build_tree(tmp_path / "src", {"dup.txt": b"mine", "fine.txt": b"fine"})
    done = mega.run("sync", source.root, "emu:d")
    assert done.returncode != 0
    assert "duplicate name on the destination (run dedupe)" in done.stderr
    listed = mega.run("lsf", "emu:d")
    assert sorted(listed.stdout.splitlines()) == ["dup.txt", "dup.txt", "fine.txt"]


def test_dedupe_modes_through_the_cli(mega: Mega, maker: Maker) -> None:
    maker.file("n/a.txt", b"oldest", T)
    maker.file("n/a.txt", b"the newest", T + 20)
    maker.file("n/a.txt", b"middle", T + 10)
    maker.file("n/a.txt", b"oldest", T + 30)  # identical bytes to the first: goes without asking
    maker.file("l/b.txt", b"s", T)
    maker.file("l/b.txt", b"large", T)
    maker.close()

    listed = mega.run("dedupe", "list", "emu:")
    assert listed.returncode == 0, listed.stderr
    assert "n/a.txt: 4 files with this name" in listed.stdout
    assert "l/b.txt: 2 files with this name" in listed.stdout
    assert len(mega.run("lsf", "emu:n").stdout.splitlines()) == 4  # list changed nothing

    dry = mega.run("dedupe", "--dedupe-mode", "newest", "emu:n", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert len(mega.run("lsf", "emu:n").stdout.splitlines()) == 4

    done = mega.run("dedupe", "newest", "emu:n")
    assert done.returncode == 0, done.stderr
    assert mega.run("cat", "emu:n/a.txt").stdout == "the newest"
    done = mega.run("dedupe", "--dedupe-mode", "largest", "emu:l")
    assert done.returncode == 0, done.stderr
    assert mega.run("cat", "emu:l/b.txt").stdout == "large"
    # nothing destroyed: the identical copy and the three losers are restorable from the Rubbish Bin
    assert maker.in_rubbish() == ["a.txt", "a.txt", "a.txt", "b.txt"]


def test_dedupe_merges_duplicate_folders_then_renames(mega: Mega, maker: Maker) -> None:
    maker.file("m/photos/x.jpg", b"first x", T)
    maker.file("m/photos/only-here.jpg", b"1", T)
    maker.file("m/other/x.jpg", b"second x", T)
    maker.file("m/other/also.jpg", b"2", T)
    maker.rename_dir("m/other", "m/photos")
    maker.close()
    assert mega.run("lsf", "emu:m").stdout.splitlines() == ["photos/", "photos/"]

    done = mega.run("dedupe", "rename", "emu:m", "-v")
    assert done.returncode == 0, done.stderr
    assert "Merged 2 duplicate directories" in done.stderr
    assert files_of(mega, "emu:m") == {
        "photos/also.jpg": 1,
        "photos/only-here.jpg": 1,
        "photos/x-1.jpg": 7,
        "photos/x-2.jpg": 8,
    }
    assert {mega.run("cat", f"emu:m/photos/x-{n}.jpg").stdout for n in (1, 2)} == {"first x", "second x"}

    # now a sync has one object per name and goes through
    assert mega.run("sync", "emu:m", mega.run.home / "down").returncode == 0


def test_interactive_needs_a_terminal(mega: Mega, maker: Maker) -> None:
    maker.file("i/a.txt", b"1", T)
    maker.file("i/a.txt", b"22", T)
    maker.close()
    done = mega.run("dedupe", "emu:i")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Failed to dedupe: interactive mode needs a terminal" in done.stderr
    assert len(mega.run("lsf", "emu:i").stdout.splitlines()) == 2


def test_interactive_keep_one_on_a_terminal(mega: Mega, maker: Maker) -> None:
    maker.file("k/a.txt", b"1", T)
    maker.file("k/a.txt", b"22", T + 5)
    maker.close()
    controller, terminal = pty.openpty()
    try:
        # the answers wait in the terminal's input queue until dedupe reads them: no timing involved
        os.write(controller, b"k\n2\n")
        in_ci = subprocess.run(
            [SYNCER, "dedupe", "emu:k"],
            stdin=terminal,
            capture_output=True,
            env={**mega.run.env, "CI": "true"},
            timeout=60,
            check=False,
        )
        done = subprocess.run(
            [SYNCER, "dedupe", "emu:k"],
            stdin=terminal,
            capture_output=True,
            env=mega.run.env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert in_ci.returncode == 2  # a CI job never waits for answers, terminal or not
    assert b"interactive mode needs a terminal" in in_ci.stderr
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "k/a.txt: 2 files with this name" in done.stdout.decode()
    assert "s/k/r/q>" in stderr and "number of the file to keep" in stderr
    assert mega.run("cat", "emu:k/a.txt").stdout == "22"


def test_dedupe_of_a_missing_path_is_one_line(mega: Mega) -> None:
    done = mega.run("dedupe", "first", "emu:nowhere-" + secrets.token_hex(3))
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
