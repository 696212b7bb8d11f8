"""Local-backend behaviour beyond the contract suite: things only a real disk shows."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from backends.errors import PermissionDenied
from backends.local import TEMP_PREFIX, LocalBackend, LocalOptions


def test_put_creates_a_missing_root(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    backend = LocalBackend("", str(root))
    entry = backend.put("f.txt", io.BytesIO(b"abc"), size=3, mtime_ns=1_600_000_000_123_456_789)
    assert (root / "f.txt").read_bytes() == b"abc"
    assert os.stat(root / "f.txt").st_mtime_ns == entry.mtime_ns == 1_600_000_000_123_456_789


def test_copy_creates_a_missing_destination_folder(tmp_path: Path) -> None:
    (tmp_path / "src.bin").write_bytes(b"x" * 5000)
    backend = LocalBackend("", str(tmp_path))
    entry = backend.copy("src.bin", "new/dir/dst.bin")
    assert (tmp_path / "new/dir/dst.bin").read_bytes() == b"x" * 5000
    assert entry.mtime_ns == os.stat(tmp_path / "src.bin").st_mtime_ns


def test_interrupted_write_leaves_no_visible_file(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError(5, "Input/output error")

    backend = LocalBackend("", str(tmp_path))
    with pytest.raises(Exception):  # noqa: B017 - whatever the stream raised, nothing may remain
        backend.put("f.txt", Broken(), size=10, mtime_ns=None)
    assert os.listdir(tmp_path) == []


def test_temp_files_of_a_killed_run_are_hidden(tmp_path: Path) -> None:
    (tmp_path / f"{TEMP_PREFIX}abc.partial").write_bytes(b"half")
    (tmp_path / "real").write_bytes(b"x")
    assert [e.path for e in LocalBackend("", str(tmp_path)).list("")] == ["real"]


def test_symlinks_skipped_unless_copy_links(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "target").write_bytes(b"data")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    plain = sorted(e.path for e in LocalBackend("", str(tmp_path)).list(""))
    assert plain == ["target"]
    assert "Can't follow symlink without -L/--copy-links" in caplog.text
    followed = LocalBackend("", str(tmp_path), LocalOptions(copy_links=True)).list("")
    assert sorted((e.path, e.size) for e in followed) == [("link", 4), ("target", 4)]


def test_fifo_skipped_with_a_notice(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert LocalBackend("", str(tmp_path)).list("") == []
    assert "Can't transfer non file/directory" in caplog.text


def test_invalid_utf8_names_round_trip(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(raw, "wb") as file:
        file.write(b"bytes")
    backend = LocalBackend("", str(tmp_path))
    (entry,) = backend.list("")
    with backend.open_read(entry) as stream:
        assert stream.read() == b"bytes"
    moved = backend.move(entry, entry.path + ".bak")
    assert os.path.exists(raw + b".bak") and moved.size == 5


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root ignores file modes; the e2e tests cover this through unshare"
)
def test_unreadable_directory_is_permission_denied(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir(mode=0)
    try:
        with pytest.raises(PermissionDenied):
            LocalBackend("", str(tmp_path)).list("locked")
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_folder_removed_behind_our_back_is_made_again(tmp_path: Path) -> None:
    """Folders are remembered between puts; one deleted by someone else in between is recreated."""
    import shutil

    backend = LocalBackend("", str(tmp_path))
    backend.put("a/b/f", io.BytesIO(b"1"), size=1, mtime_ns=None)
    shutil.rmtree(tmp_path / "a")
    backend.put("a/b/g", io.BytesIO(b"2"), size=1, mtime_ns=None)
    assert (tmp_path / "a/b/g").read_bytes() == b"2"
    shutil.rmtree(tmp_path / "a")
    (tmp_path / "src").write_bytes(b"3")
    backend.copy("src", "a/b/h")
    assert (tmp_path / "a/b/h").read_bytes() == b"3"
