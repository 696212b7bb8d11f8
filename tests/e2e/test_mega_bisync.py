"""bisync between a local folder and MEGA (the emulator, real HTTP and crypto), through the real CLI: changes
on each side carried to the other with their modification times, a conflict keeping both versions, deletes
going to MEGA's Rubbish Bin and the local debris, and ``--watch`` carrying a change on either side within
5 seconds, then stopping cleanly on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from .conftest import SYNCER
from .helpers import build_tree
from .mega_support import SECOND, Mega, lsjson, mtime_ns_of

T0 = 1_700_000_000 * SECOND


def _stamp(path: Path, seconds: int) -> None:
    os.utime(path, ns=(T0 + seconds * SECOND, T0 + seconds * SECOND))


def _local(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".debris/")
    }


def _remote(mega: Mega, spec: str) -> dict[str, bytes]:
    files = {}
    for path, item in lsjson(mega.run, spec).items():
        if not item["IsDir"]:
            done = mega.run("cat", f"{spec}/{path}")
            assert done.returncode == 0, done.stderr
            files[path] = done.stdout_bytes
    return files


def test_bisync_between_local_and_mega(mega: Mega, tmp_path: Path) -> None:
    local = build_tree(tmp_path / "local", {"a.txt": b"alpha", "docs/b.txt": b"beta", "docs/c.txt": b"gamma"})
    for i, name in enumerate(("a.txt", "docs/b.txt", "docs/c.txt")):
        _stamp(local.root / name, i)
    assert mega.run("mkdir", "emu:pair").returncode == 0
    first = mega.run("bisync", local.root, "emu:pair", "--resync")
    assert first.returncode == 0, first.stderr
    listed = lsjson(mega.run, "emu:pair")
    assert mtime_ns_of(listed["docs/b.txt"]) == T0 + 1 * SECOND  # times cross to MEGA

    # changes on each side: edited and deleted locally, a new file and an edit made on MEGA
    (local.root / "a.txt").write_bytes(b"alpha, edited locally")
    _stamp(local.root / "a.txt", 100)
    (local.root / "docs/c.txt").unlink()
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "new.txt").write_bytes(b"made on MEGA")
    _stamp(upload / "new.txt", 200)
    (upload / "b.txt").write_bytes(b"beta, edited on MEGA")
    _stamp(upload / "b.txt", 300)
    assert mega.run("copyto", upload / "new.txt", "emu:pair/docs/new.txt").returncode == 0
    assert mega.run("copyto", upload / "b.txt", "emu:pair/docs/b.txt").returncode == 0

    done = mega.run("bisync", local.root, "emu:pair", "-v")
    assert done.returncode == 0, done.stderr
    expected = {
        "a.txt": b"alpha, edited locally",
        "docs/b.txt": b"beta, edited on MEGA",
        "docs/new.txt": b"made on MEGA",
    }
    assert _local(local.root) == expected
    assert _remote(mega, "emu:pair") == expected
    assert (local.root / "docs/new.txt").stat().st_mtime_ns == T0 + 200 * SECOND  # and back
    assert mtime_ns_of(lsjson(mega.run, "emu:pair")["a.txt"]) == T0 + 100 * SECOND
    assert (local.root / ".debris").is_dir()  # the replaced local b.txt was kept
    assert "trash" in done.stderr  # the deleted c.txt went to MEGA's Rubbish Bin

    # a conflict: both versions kept on both sides
    (local.root / "a.txt").write_bytes(b"local version")
    _stamp(local.root / "a.txt", 400)
    (upload / "a.txt").write_bytes(b"MEGA version")
    _stamp(upload / "a.txt", 500)
    assert mega.run("copyto", upload / "a.txt", "emu:pair/a.txt").returncode == 0
    done = mega.run("bisync", local.root, "emu:pair")
    assert done.returncode == 0, done.stderr
    assert "conflict" in done.stderr
    both = {"a.txt.conflict1": b"local version", "a.txt.conflict2": b"MEGA version"}
    assert {k: v for k, v in _local(local.root).items() if k.startswith("a.txt")} == both
    assert {k: v for k, v in _remote(mega, "emu:pair").items() if k.startswith("a.txt")} == both

    # nothing left to do
    again = mega.run("bisync", local.root, "emu:pair", "-v")
    assert again.returncode == 0, again.stderr
    assert "Copied from" not in again.stderr and "Replaced or deleted" not in again.stderr


class _Lines:
    """The lines a running process writes to a pipe, gathered by a thread."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self._stream:  # type: ignore[attr-defined]
            self.lines.append(raw.decode(errors="replace"))

    def text(self) -> str:
        return "".join(self.lines)


def _until(condition: object, seconds: float, what: str) -> float:
    """Wait for ``condition()`` to hold, up to ``seconds``; the time it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_watch_carries_a_change_on_each_side_within_5_seconds(mega: Mega, tmp_path: Path) -> None:
    local = build_tree(tmp_path / "local", {"seed.txt": b"seed"})
    assert mega.run("mkdir", "emu:watched").returncode == 0
    assert mega.run("bisync", local.root, "emu:watched", "--resync").returncode == 0
    env = {**mega.run.env}
    watcher = subprocess.Popen(
        [SYNCER, "bisync", str(local.root), "emu:watched", "--watch", "-P"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    output = _Lines(watcher.stderr)
    try:
        _until(lambda: "Watching" in output.text(), 30, "the watcher to start")

        (local.root / "from-local.txt").write_bytes(b"written locally")
        took_up = _until(
            lambda: "from-local.txt" in lsjson(mega.run, "emu:watched"), 5, "a local file to reach MEGA"
        )

        upload = tmp_path / "up.txt"
        upload.write_bytes(b"written on MEGA")
        assert mega.run("copyto", upload, "emu:watched/from-mega.txt").returncode == 0
        took_down = _until(
            lambda: (local.root / "from-mega.txt").exists(), 5, "a MEGA file to reach the local folder"
        )
        assert (local.root / "from-mega.txt").read_bytes() == b"written on MEGA"
        assert took_up < 5 and took_down < 5

        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=30) == 0, output.text()
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert "Stopped watching" in output.text()
    # the state followed the passes: a normal run afterwards has nothing to do
    after = mega.run("bisync", local.root, "emu:watched", "-v")
    assert after.returncode == 0, after.stderr
    assert "Copied from" not in after.stderr
