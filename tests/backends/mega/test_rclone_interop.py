"""An independent MEGA client against the emulator: rclone (go-mega), configured only through the environment.

go-mega reads the API address from ``X_MEGA_API_URL`` and verifies every whole-file download's MAC, so a file
that comes back byte-identical through rclone was stored, served and keyed correctly.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from protocol_client import Client, meta_mac_of

pytestmark = pytest.mark.timeout(120)

#: the ``rclone`` fixture: runs rclone with the remote ``emu:`` set up, fails on a non-zero exit
Rclone = Callable[..., subprocess.CompletedProcess[bytes]]

#: relative path -> size; the sizes straddle MEGA's chunk boundaries, the names are not ASCII
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
QUICK = ("--retries", "1", "--low-level-retries", "2")


def content(path: str, size: int) -> bytes:
    return random.Random(path).randbytes(size)


def make_tree(root: Path) -> dict[str, bytes]:
    tree = {}
    for path, size in FILES.items():
        data = content(path, size)
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        tree[path] = data
    return tree


def lsl(rclone: Rclone, remote: str) -> dict[str, int]:
    """``rclone lsl``: path -> size."""
    listing = {}
    for line in rclone("lsl", remote, *QUICK).stdout.decode("utf-8").splitlines():
        size, _date, _time, path = line.split(maxsplit=3)
        listing[path] = int(size)
    return listing


def test_rclone_round_trip(rclone: Rclone, tmp_path: Path) -> None:
    source = tmp_path / "source"
    tree = make_tree(source)
    rclone("mkdir", "emu:top", *QUICK)
    rclone("copy", str(source), "emu:top", *QUICK)
    assert lsl(rclone, "emu:top") == FILES

    assert rclone("cat", "emu:top/dir/chunk-plus-one.bin", *QUICK).stdout == tree["dir/chunk-plus-one.bin"]
    assert (
        rclone("cat", "emu:top/ünïcødé/日本語 ファイル.txt", *QUICK).stdout
        == tree["ünïcødé/日本語 ファイル.txt"]
    )

    back = tmp_path / "back"
    rclone("copy", "emu:top", str(back), *QUICK)
    for path, data in tree.items():
        assert (back / path).read_bytes() == data, path

    rclone("moveto", "emu:top/one.bin", "emu:top/dir/sub/moved.bin", *QUICK)
    rclone("delete", "emu:top/ünïcødé", *QUICK)
    expected = {p: s for p, s in FILES.items() if p != "one.bin" and not p.startswith("ünïcødé/")}
    expected["dir/sub/moved.bin"] = 1
    assert lsl(rclone, "emu:top") == expected
    assert rclone("cat", "emu:top/dir/sub/moved.bin", *QUICK).stdout == tree["one.bin"]

    about = json.loads(rclone("about", "emu:", "--json", *QUICK).stdout)
    # rclone's delete moves files to the Rubbish Bin by default, which still counts as used storage
    assert about["used"] == sum(FILES.values())
    assert about["total"] >= about["used"]
    assert about["free"] == about["total"] - about["used"]


def test_file_uploaded_by_the_protocol_client_downloads_through_rclone(
    client: Client, rclone: Rclone
) -> None:
    data = content("from-client", 700_001)
    root = client.fetch().root().handle
    client.upload(root, "from client.bin", data)
    assert lsl(rclone, "emu:") == {"from client.bin": len(data)}
    assert rclone("cat", "emu:from client.bin", *QUICK).stdout == data


def test_file_uploaded_by_rclone_downloads_and_verifies_through_the_protocol_client(
    client: Client, rclone: Rclone, tmp_path: Path
) -> None:
    data = content("from-rclone", 1_000_003)
    local = tmp_path / "from rclone.bin"
    local.write_bytes(data)
    rclone("copyto", str(local), "emu:folder/from rclone.bin", *QUICK)
    tree = client.fetch()
    (folder,) = tree.named("folder")
    (node,) = tree.named("from rclone.bin")
    assert node.parent == folder.handle and folder.parent == tree.root().handle
    assert node.raw["s"] == len(data)
    info = client.download_info(node=node.handle)
    downloaded = client.download(info["g"], node.file_key, info["s"])
    assert downloaded == data
    assert meta_mac_of(node.file_key, downloaded) == node.file_key.meta_mac


def test_rclone_sees_changes_made_by_another_client(client: Client, rclone: Rclone) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "made elsewhere")
    client.upload(folder.handle, "inside.txt", b"hello from the protocol client")
    assert lsl(rclone, "emu:made elsewhere") == {"inside.txt": 30}
    rclone("moveto", "emu:made elsewhere/inside.txt", "emu:renamed.txt", *QUICK)
    tree = client.fetch()
    (moved,) = tree.named("renamed.txt")
    assert moved.parent == root
