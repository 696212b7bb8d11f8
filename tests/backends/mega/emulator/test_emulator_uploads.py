"""Upload internals: received-range bookkeeping, the chunk-boundary rule, and an upload that continues across
a restart of the emulator (its streamed checksum, ``crypto.UploadChecksum``, is tested in test_crypto.py)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from protocol_client import Client, encrypt_file

from backends.mega.emulator import Emulator, EmulatorSettings
from backends.mega.emulator.transfers import (
    merge_interval,
    piece_in_bounds,
    remove_interval,
)

KIB = 1024


@pytest.mark.parametrize(
    ("before", "span", "after"),
    [
        ([], (0, 10), [[0, 10]]),
        ([[0, 10]], (10, 20), [[0, 20]]),  # adjacent ranges merge
        ([[20, 30]], (0, 10), [[0, 10], [20, 30]]),
        ([[0, 10], [20, 30]], (10, 20), [[0, 30]]),
        ([[0, 30]], (5, 10), [[0, 30]]),  # a piece sent again
        ([[0, 10]], (5, 5), [[0, 10]]),  # empty
    ],
)
def test_merge_interval(before: list[list[int]], span: tuple[int, int], after: list[list[int]]) -> None:
    assert merge_interval(before, *span) == after


@pytest.mark.parametrize(
    ("before", "span", "after"),
    [
        ([[0, 30]], (10, 20), [[0, 10], [20, 30]]),
        ([[0, 10], [20, 30]], (0, 30), []),
        ([[0, 10]], (10, 20), [[0, 10]]),
        ([[0, 10], [20, 30]], (5, 25), [[0, 5], [25, 30]]),
    ],
)
def test_remove_interval(before: list[list[int]], span: tuple[int, int], after: list[list[int]]) -> None:
    assert remove_interval(before, *span) == after


@pytest.mark.parametrize(
    ("offset", "length", "size", "ok"),
    [
        (0, 0, 0, True),  # the one empty POST of a 0-byte file
        (0, 1, 0, False),
        (0, 5, 5, True),
        (0, 128 * KIB, 300_000, True),
        (128 * KIB, 300_000 - 128 * KIB, 300_000, True),  # last chunk ends at the file's end
        (0, 300_000, 300_000, True),  # several chunks in one POST
        (0, 384 * KIB, 5 * 1024 * KIB, True),  # two chunks, ends on a boundary
        (0, 100 * KIB, 300_000, False),  # ends inside a chunk
        (1, 128 * KIB, 300_000, False),  # starts inside a chunk
        (128 * KIB, 0, 300_000, False),  # empty piece of a non-empty file
        (0, 300_001, 300_000, False),  # past the end
        (4608 * KIB, 1024 * KIB, 8 * 1024 * KIB, True),  # 1 MiB chunks after 4608 KiB
        (4608 * KIB, 512 * KIB, 8 * 1024 * KIB, False),
    ],
)
def test_pieces_must_sit_on_chunk_boundaries(offset: int, length: int, size: int, ok: bool) -> None:
    assert piece_in_bounds(offset, length, size) is ok


def test_an_upload_continues_after_a_restart(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path / "data", host="127.0.0.1", port=0)
    data = random.Random(5).randbytes(600 * KIB)
    encrypted = encrypt_file(data)
    first, rest = encrypted.pieces[:2], encrypted.pieces[2:]
    with Emulator(settings) as emulator:
        emulator.add_account("restart@example.com", "pw-restart")
        with Client(emulator.api_url) as client:
            client.login("restart@example.com", "pw-restart")
            sid, master_key = client.sid, client.master_key
            url = client.upload_url(len(data))
            assert client.send_pieces(url, first) == [b"", b""]
    with Emulator(settings) as emulator, Client(emulator.api_url, sid=sid, master_key=master_key) as client:
        # the same sid, upload URL path and received ranges: only the missing pieces are sent
        path = url.split("/", 3)[3]
        replies = client.send_pieces(f"{emulator.api_url}{path}", rest)
        (token,) = [reply for reply in replies if reply]
        root = client.fetch().root().handle
        (node,) = client.put_nodes(root, [client.file_node(token.decode(), encrypted.key, {"n": "resumed"})])
        info = client.download_info(node=node.handle)
        assert client.download(info["g"], node.file_key, info["s"]) == data
    assert not [p for p in (tmp_path / "data" / "bodies").iterdir() if p.stat().st_size != len(data)]


def test_a_dropped_piece_counts_as_missing(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path, host="127.0.0.1", port=0, seed=3)
    data = os.urandom(300_000)
    encrypted = encrypt_file(data)
    with Emulator(settings) as emulator:
        emulator.add_account("drop@example.com", "pw-drop")
        with Client(emulator.api_url) as client:
            client.login("drop@example.com", "pw-drop")
            url = client.upload_url(len(data))
            assert client.post_piece(url, *encrypted.pieces[0]).content == b""
            emulator.set_faults(drop_rate=1.0)
            with pytest.raises(Exception):  # noqa: B017 - any transport error: the server cut the connection
                client.post_piece(url, *encrypted.pieces[1])
            emulator.set_faults(drop_rate=0.0)
            # the first piece again does not complete the file: the cut one is still missing
            assert client.post_piece(url, *encrypted.pieces[0]).content == b""
            assert len(client.post_piece(url, *encrypted.pieces[1]).content) == 36
