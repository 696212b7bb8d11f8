"""The real CLI against a ``mega`` remote on the emulator: copy, sync, move, check, lsjson in both directions.

The emulator runs in this process on 127.0.0.1 (real HTTP, real crypto); ``syncer`` runs as a subprocess with
a config whose password comes from ``${MEGA_PASS}``, so no secret is on any command line. Mtimes cross to MEGA
in the ``c`` fingerprint (whole seconds) and back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Runner
from .helpers import STANDARD_DIRS, STANDARD_FILES, build_tree
from .mega_support import SECOND, Mega, lsjson, mega_remote, mtime_ns_of


def test_copy_up_and_back_keeps_content_and_mtimes(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", STANDARD_FILES, STANDARD_DIRS)
    done = mega.run("copy", source.root, "emu:backup")
    assert done.returncode == 0, done.stderr
    listed = lsjson(mega.run, "emu:backup")
    files = [item for item in source.values() if not item.is_dir]
    assert {p for p, i in listed.items() if not i["IsDir"]} == {item.path for item in files}
    for item in files:
        assert listed[item.path]["Size"] == item.size
        # MEGA keeps whole seconds
        assert mtime_ns_of(listed[item.path]) == item.mtime_ns // SECOND * SECOND

    back = tmp_path / "back"
    done = mega.run("copy", "emu:backup", back)
    assert done.returncode == 0, done.stderr
    for item in files:
        target = back / item.path
        assert target.read_bytes() == item.data
        assert target.stat().st_mtime_ns == item.mtime_ns // SECOND * SECOND

    # nothing changed: a second copy each way transfers nothing
    for args in (("copy", source.root, "emu:backup"), ("copy", "emu:backup", back)):
        again = mega.run(*args, "-v")
        assert again.returncode == 0, again.stderr
        assert "Copied" not in again.stderr


def test_sync_up_deletes_to_the_rubbish_bin_and_check(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha", "d/b.txt": b"beta", "d/c.txt": b"gamma"})
    assert mega.run("sync", source.root, "emu:s").returncode == 0
    assert mega.run("check", source.root, "emu:s").returncode == 0

    (source.root / "d" / "b.txt").unlink()
    (source.root / "a.txt").write_bytes(b"alpha, changed")
    done = mega.run("sync", source.root, "emu:s", "-v")
    assert done.returncode == 0, done.stderr
    assert set(lsjson(mega.run, "emu:s")) == {"a.txt", "d", "d/c.txt"}
    assert mega.run("cat", "emu:s/a.txt").stdout == "alpha, changed"
    assert "trash" in done.stderr  # the deleted file went to the Rubbish Bin, not destroyed

    # MEGA offers no hash: check compares sizes, and with --download the content (MAC-checked)
    (source.root / "d" / "c.txt").write_bytes(b"GAMMA")
    assert mega.run("check", source.root, "emu:s").returncode == 0
    check = mega.run("check", source.root, "emu:s", "--download")
    assert check.returncode == 1
    assert "d/c.txt" in check.stderr


def test_sync_down_and_move(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"x/one.bin": b"1" * 300_000, "two.txt": b"two"})
    assert mega.run("copy", source.root, "emu:m").returncode == 0
    local = tmp_path / "local"
    done = mega.run("sync", "emu:m", local)
    assert done.returncode == 0, done.stderr
    assert (local / "x" / "one.bin").read_bytes() == b"1" * 300_000

    moved = tmp_path / "moved"
    done = mega.run("move", "emu:m", moved)
    assert done.returncode == 0, done.stderr
    assert (moved / "two.txt").read_bytes() == b"two"
    assert [p for p in lsjson(mega.run, "emu:m").values() if not p["IsDir"]] == []


def test_corrupted_download_leaves_no_file(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"big.bin": bytes(range(256)) * 4096})
    assert mega.run("copy", source.root, "emu:c").returncode == 0
    dest = tmp_path / "dest"
    dest.mkdir()
    mega.emulator.set_faults(corrupt_rate=1.0)
    try:
        done = mega.run("copy", "emu:c", dest, "--retries", "1", "--low-level-retries", "1")
    finally:
        mega.emulator.set_faults(corrupt_rate=0.0)
    assert done.returncode != 0
    assert "MAC mismatch" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(dest.iterdir()) == []  # neither the file nor a temp file


def test_second_run_uses_the_cached_session_and_tree(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"f.txt": b"f"})
    assert mega.run("copy", source.root, "emu:t").returncode == 0
    done = mega.run("lsf", "emu:t", "-vv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["f.txt"]
    assert "MEGA tree from cache" in done.stderr
    assert "resuming cached MEGA session" in done.stderr
    assert mega.password not in done.stderr + done.stdout


def test_about_and_logout(mega: Mega) -> None:
    assert mega.run("mkdir", "emu:x").returncode == 0
    about = mega.run("about", "emu:", "--json")  # a second run: resumes the session before asking
    assert about.returncode == 0, about.stderr
    figures = json.loads(about.stdout)
    assert figures["total"] > 0 and figures["used"] == 0
    done = mega.run("mega", "logout", "emu:")
    assert done.returncode == 0, done.stderr
    assert "logged out" in done.stderr
    again = mega.run("mega", "logout", "emu:")
    assert again.returncode != 0
    assert "no cached MEGA session" in again.stderr
    # the next command logs in afresh
    relogin = mega.run("lsf", "emu:", "-v")
    assert relogin.returncode == 0 and relogin.stdout.splitlines() == ["x/"]
    assert "logged in to MEGA" in relogin.stderr


def test_fifty_runs_log_in_once(emulator: Any, run: Runner) -> None:
    mega = mega_remote(emulator, run)
    emulator.set_faults(login_limit=1)
    try:
        for _ in range(50):  # a second login would be refused (too many logins): every run must resume
            done = mega.run("ls", "emu:")
            assert done.returncode == 0, done.stderr
    finally:
        emulator.set_faults(login_limit=0)


def test_wrong_password_is_one_line(mega: Mega) -> None:
    done = mega.run("lsf", "emu:", env={"MEGA_PASS": "not the password"})
    assert done.returncode != 0
    assert "wrong e-mail or password" in done.stderr
    assert "Traceback" not in done.stderr
    assert "not the password" not in done.stderr


def test_move_up_and_check_both_ways(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha", "deep/er/b.bin": bytes(range(256)) * 600})
    expected = {item.path: item for item in source.values() if not item.is_dir}
    done = mega.run("move", source.root, "emu:mv", "--delete-empty-src-dirs")
    assert done.returncode == 0, done.stderr
    assert not any(p.is_file() for p in source.root.rglob("*"))  # every file left the disk
    listed = lsjson(mega.run, "emu:mv")
    for path, item in expected.items():
        assert listed[path]["Size"] == item.size
        assert mtime_ns_of(listed[path]) == item.mtime_ns // SECOND * SECOND

    down = tmp_path / "down"
    assert mega.run("copy", "emu:mv", down).returncode == 0
    for args in (("check", down, "emu:mv", "--download"), ("check", "emu:mv", down, "--download")):
        checked = mega.run(*args)
        assert checked.returncode == 0, checked.stderr
    (down / "a.txt").write_bytes(b"ALPHA")  # same size, other bytes: only --download sees it
    checked = mega.run("check", "emu:mv", down, "--download")
    assert checked.returncode == 1
    assert "a.txt" in checked.stderr


def test_checksum_without_a_shared_hash_falls_back_to_sizes(mega: Mega, tmp_path: Path) -> None:
    # MEGA offers no hash a local disk could match: rclone's notice, then sizes only
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha", "b.txt": b"bravo"})
    done = mega.run("copy", "--checksum", source.root, "emu:sums", "-v")
    assert done.returncode == 0, done.stderr
    assert "falling back to --size-only" in done.stderr
    assert {p for p, i in lsjson(mega.run, "emu:sums").items() if not i["IsDir"]} == {"a.txt", "b.txt"}
    (source.root / "a.txt").write_bytes(b"ALPHA")  # same size, new content: sizes alone cannot tell
    again = mega.run("copy", "--checksum", source.root, "emu:sums", "-v")
    assert again.returncode == 0, again.stderr
    assert "Copied" not in again.stderr
