"""Public links through the real CLI on the emulator: ``syncer link`` exports, the printed URL is a source for
ls/copy/cat/copyto/check, ``--unlink`` ends it, and a ``link:`` remote in YAML reads the same folder but
refuses writes, each failure as one line.

The URL's API address comes from ``SYNCER_MEGA_API_URL`` (applies to every ``mega`` remote, URLs included);
the account's password from ``${MEGA_PASS}`` in the config, never the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import build_tree
from .mega_support import SECOND, Mega, mtime_ns_of

pytestmark = pytest.mark.timeout(120)


FILES = {"a.txt": b"alpha", "sub/b.bin": bytes(range(256)) * 1200, "sub/deeper/c.txt": b"gamma"}


def _published(mega: Mega, tmp_path: Path, folder: str = "pub") -> tuple[str, dict[str, bytes]]:
    source = build_tree(tmp_path / "src", FILES)
    assert mega.run("copy", source.root, f"emu:{folder}").returncode == 0
    done = mega.run("link", f"emu:{folder}")
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("https://mega.nz/folder/") and "\n" not in url
    mega.run.env["SYNCER_MEGA_API_URL"] = mega.emulator.api_url
    return url, {item.path: item.data for item in source.values() if not item.is_dir}


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_link_then_read_the_folder_by_url(mega: Mega, tmp_path: Path) -> None:
    url, files = _published(mega, tmp_path)
    again = mega.run("link", "emu:pub")
    assert again.returncode == 0 and again.stdout.strip() == url  # exporting again: the same link

    listed = mega.run("ls", url)
    assert listed.returncode == 0, listed.stderr
    assert sorted(line.split()[-1] for line in listed.stdout.splitlines()) == sorted(files)

    done = mega.run("lsjson", "-R", url)
    assert done.returncode == 0, done.stderr
    items = {item["Path"]: item for item in json.loads(done.stdout)}
    source_mtimes = {p: (tmp_path / "src" / p).stat().st_mtime_ns for p in files}
    for path in files:
        assert mtime_ns_of(items[path]) == source_mtimes[path] // SECOND * SECOND

    dest = tmp_path / "dest"
    done = mega.run("copy", url, dest)
    assert done.returncode == 0, done.stderr
    for path, data in files.items():
        assert (dest / path).read_bytes() == data
        assert (dest / path).stat().st_mtime_ns == source_mtimes[path] // SECOND * SECOND
    assert mega.run("check", url, dest, "--download").returncode == 0
    # nothing changed: a second copy transfers nothing
    quiet = mega.run("copy", url, dest, "-v")
    assert quiet.returncode == 0 and "Copied" not in quiet.stderr

    cat = mega.run("cat", url)
    assert cat.stdout_bytes == b"".join(files[p] for p in sorted(files))  # type: ignore[attr-defined]


def test_file_link_cat_and_copyto(mega: Mega, tmp_path: Path) -> None:
    _, files = _published(mega, tmp_path)
    done = mega.run("link", "emu:pub/sub/b.bin")
    assert done.returncode == 0, done.stderr
    file_url = done.stdout.strip()
    assert file_url.startswith("https://mega.nz/file/")

    cat = mega.run("cat", file_url)
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout_bytes == files["sub/b.bin"]  # type: ignore[attr-defined]
    listed = mega.run("ls", file_url)
    assert listed.stdout.split() == [str(len(files["sub/b.bin"])), "b.bin"]

    target = tmp_path / "copied.bin"
    done = mega.run("copyto", file_url, target)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == files["sub/b.bin"]
    folder = tmp_path / "folder"
    assert mega.run("copy", file_url, folder).returncode == 0
    assert (folder / "b.bin").read_bytes() == files["sub/b.bin"]

    # the legacy form of the same link reads the same bytes
    handle, key = file_url.removeprefix("https://mega.nz/file/").split("#")
    legacy = mega.run("cat", f"https://mega.co.nz/#!{handle}!{key}")
    assert legacy.stdout_bytes == files["sub/b.bin"]  # type: ignore[attr-defined]


def test_unlink_makes_the_url_fail_with_one_line(mega: Mega, tmp_path: Path) -> None:
    url, _ = _published(mega, tmp_path)
    done = mega.run("link", "--unlink", "emu:pub")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    dead = mega.run("ls", url)
    assert dead.returncode == 3
    line = _one_line_error(dead.stderr)
    assert "not found" in line
    assert url.split("#")[1] not in dead.stderr  # the key is not echoed

    missing = mega.run("link", "emu:pub/not-there")
    assert missing.returncode == 3
    assert "not found" in _one_line_error(missing.stderr)


def test_link_remote_in_yaml_reads_and_refuses_writes(mega: Mega, tmp_path: Path) -> None:
    url, files = _published(mega, tmp_path)
    config = mega.run.default_config
    config.write_text(
        config.read_text()
        + f'  shared:\n    type: mega\n    link: "{url}"\n    api_url: {mega.emulator.api_url}\n'
    )
    del mega.run.env["SYNCER_MEGA_API_URL"]  # the remote's own api_url is enough

    listed = mega.run("lsf", "-R", "--files-only", "shared:sub")
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == ["b.bin", "deeper/c.txt"]
    cat = mega.run("cat", "shared:sub/deeper/c.txt")
    assert cat.stdout == "gamma"

    local = build_tree(tmp_path / "more", {"new.txt": b"new"})
    for args in (
        ("copy", local.root, "shared:"),
        ("move", "shared:", tmp_path / "moved"),
        ("mkdir", "shared:newdir"),
        ("delete", "shared:sub"),
        ("link", "shared:sub"),
    ):
        done = mega.run(*args)
        assert done.returncode == 7, (args, done.stderr)
        assert "read-only" in _one_line_error(done.stderr), args
    # nothing changed on the account
    after = mega.run("lsf", "-R", "--files-only", "emu:pub")
    assert sorted(after.stdout.split()) == sorted(files)
    assert not (tmp_path / "moved").exists()


def test_malformed_url_is_a_usage_error(mega: Mega) -> None:
    done = mega.run("ls", "https://mega.nz/folder/AbCdEf12")
    assert done.returncode == 2
    assert "has no key" in _one_line_error(done.stderr)
