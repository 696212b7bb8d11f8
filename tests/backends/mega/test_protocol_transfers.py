"""Uploads and downloads over HTTP: ``u``, piece POSTs, the completion token, ``p``, ``g``, ranged GETs,
CTR decryption and the whole-file MAC, plus the upload server's checks (section 12) and ``uq``.
"""

from __future__ import annotations

import secrets
import time

import pytest
from protocol_client import (
    ApiError,
    Client,
    Server,
    StartServer,
    encrypt_file,
    meta_mac_of,
    new_account,
    payload,
)

from backends.mega import crypto
from backends.mega.fingerprint import fingerprint_of_bytes, parse_fingerprint

pytestmark = pytest.mark.timeout(60)

MTIME = 1_700_000_000


def test_5mib_upload_in_parallel_out_of_order_then_ranged_downloads(client: Client) -> None:
    size = 5 * 1024 * 1024
    data = payload(size, 1)
    root = client.fetch().root().handle
    encrypted = encrypt_file(data)
    assert len(encrypted.pieces) == 9
    url = client.upload_url(size)
    # last chunk first, then the rest backwards, four connections at once
    replies = client.send_pieces(url, list(reversed(encrypted.pieces)), workers=4)
    tokens = [reply for reply in replies if reply]
    assert len(tokens) == 1 and len(tokens[0]) == 36, replies
    attrs = {"n": "five.bin", "c": fingerprint_of_bytes(data, MTIME)}
    (created,) = client.put_nodes(root, [client.file_node(tokens[0].decode("ascii"), encrypted.key, attrs)])
    assert created.raw["s"] == size and created.parent == root and created.type == 0

    node = client.fetch().nodes[created.handle]
    assert node.raw["s"] == size
    assert node.attrs == attrs
    assert parse_fingerprint(node.attrs["c"]) == (parse_fingerprint(attrs["c"])[0], MTIME)
    key = node.file_key  # from the tree, not from what we kept
    assert key == encrypted.key

    info = client.download_info(node=node.handle)
    assert info["s"] == size
    assert crypto.decrypt_attributes(info["at"], crypto.fold_key(key.pack()))["n"] == "five.bin"
    url = info["g"]
    # the stored ciphertext is exactly what was sent, at the right offsets
    assert client.fetch_range(url, 0, size - 1) == b"".join(piece for _, piece in encrypted.pieces)
    for start, end in [
        (0, 0),
        (1, 17),
        (15, 16),
        (131071, 131073),
        (393215, 786433),
        (12345, 2_000_001),
        (4_718_591, 4_800_000),
        (size - 5, size - 1),
        (size - 1, size - 1),
    ]:
        assert client.download(url, key, size, start=start, end=end) == data[start : end + 1], (start, end)
    whole = client.download(url, key, size)
    assert whole == data
    assert meta_mac_of(key, whole) == key.meta_mac


def test_only_the_completing_piece_gets_the_token(client: Client) -> None:
    data = payload(300_000, 2)
    encrypted = encrypt_file(data)
    url = client.upload_url(len(data))
    (first, second) = encrypted.pieces
    assert client.post_piece(url, *second).content == b""
    assert client.post_piece(url, *second).content == b""  # a retried piece is fine
    token = client.post_piece(url, *first).content
    assert len(token) == 36
    root = client.fetch().root().handle
    (node,) = client.put_nodes(root, [client.file_node(token.decode("ascii"), encrypted.key, {"n": "two"})])
    info = client.download_info(node=node.handle)
    assert client.download(info["g"], encrypted.key, len(data)) == data


def test_one_post_may_carry_several_chunks(client: Client) -> None:
    data = payload(900_000, 3)
    encrypted = encrypt_file(data)
    url = client.upload_url(len(data))
    ciphertext = b"".join(piece for _, piece in encrypted.pieces)
    # chunks 0+1 in one POST (0..393216), the rest in another
    assert client.post_piece(url, 0, ciphertext[:393216]).content == b""
    token = client.post_piece(url, 393216, ciphertext[393216:]).content
    assert len(token) == 36
    root = client.fetch().root().handle
    (node,) = client.put_nodes(
        root, [client.file_node(token.decode("ascii"), encrypted.key, {"n": "joined"})]
    )
    info = client.download_info(node=node.handle)
    assert (
        meta_mac_of(encrypted.key, client.download(info["g"], encrypted.key, len(data)))
        == encrypted.key.meta_mac
    )


def test_zero_byte_file(client: Client) -> None:
    root = client.fetch().root().handle
    node, _ = client.upload(root, "empty", b"")
    assert node.raw["s"] == 0
    assert client.fetch().nodes[node.handle].name == "empty"
    info = client.download_info(node=node.handle)
    assert info["s"] == 0


def test_pieces_off_chunk_boundaries_are_erange(client: Client) -> None:
    size = 300_000
    url = client.upload_url(size)
    for offset, length in [
        (100, 1000),  # start inside a chunk
        (0, 1000),  # end inside the first chunk
        (0, 131073),  # end one byte past the boundary
        (131072, 200_000),  # past the end of the file
        (size, 16),  # starts at the end
        (393216, 16),  # starts beyond the file
    ]:
        response = client.post_piece(url, offset, secrets.token_bytes(length))
        assert response.status_code == 200, (offset, length)
        assert response.text == "-7", (offset, length)


def test_bad_checksum_is_ekey_and_the_piece_can_be_resent(client: Client) -> None:
    data = payload(1000, 4)
    encrypted = encrypt_file(data)
    url = client.upload_url(len(data))
    (offset, body) = encrypted.pieces[0]
    wrong = crypto.b64encode(bytes(12))
    assert client.http.post(f"{url}/{offset}?c={wrong}", content=body).text == "-14"
    flipped = bytes([body[0] ^ 1]) + body[1:]
    good_sum = crypto.b64encode(crypto.upload_checksum(body))
    assert client.http.post(f"{url}/{offset}?c={good_sum}", content=flipped).text == "-14"
    token = client.post_piece(url, offset, body).content
    assert len(token) == 36


def test_upload_without_a_checksum_is_accepted(client: Client) -> None:
    """go-mega and mega.py send no ``c``/``d``."""
    data = payload(70_000, 5)
    encrypted = encrypt_file(data)
    url = client.upload_url(len(data))
    token = client.post_piece(url, *encrypted.pieces[0], checksum=False).content
    assert len(token) == 36


def test_unknown_and_incomplete_upload_tokens_are_rejected(client: Client) -> None:
    data = payload(300_000, 6)
    encrypted = encrypt_file(data)
    url = client.upload_url(len(data))
    assert client.post_piece(url, *encrypted.pieces[0]).content == b""  # half of the file only
    root = client.fetch().root().handle
    forged = crypto.b64encode(secrets.token_bytes(27))
    assert len(forged) == 36
    entry = client.file_node(forged, encrypted.key, {"n": "forged"})
    assert client.request([{"a": "p", "t": root, "n": [entry]}]) == [-9]
    assert not client.fetch().named("forged")


def test_a_token_attaches_one_node_only(client: Client) -> None:
    data = payload(5000, 7)
    encrypted = encrypt_file(data)
    url = client.upload_url(len(data))
    token = client.post_piece(url, *encrypted.pieces[0]).content.decode("ascii")
    root = client.fetch().root().handle
    client.put_nodes(root, [client.file_node(token, encrypted.key, {"n": "used once"})])
    (again,) = client.request(
        [{"a": "p", "t": root, "n": [client.file_node(token, encrypted.key, {"n": "again"})]}]
    )
    assert again in (-9, -11)
    tree = client.fetch()
    assert len(tree.named("used once")) == 1 and not tree.named("again")


def test_another_users_token_is_rejected(server: Server, client: Client) -> None:
    other = new_account(server)
    with server.client() as thief:
        thief.login(other.email, other.password)
        data = payload(2000, 8)
        encrypted = encrypt_file(data)
        token = client.post_piece(client.upload_url(len(data)), *encrypted.pieces[0]).content.decode("ascii")
        theirs = thief.fetch().root().handle
        entry = thief.file_node(token, encrypted.key, {"n": "stolen"})
        assert thief.request([{"a": "p", "t": theirs, "n": [entry]}])[0] in (-9, -11)
    # the owner can still attach it
    root = client.fetch().root().handle
    client.put_nodes(root, [client.file_node(token, encrypted.key, {"n": "mine"})])


def test_node_size_is_the_upload_size(client: Client) -> None:
    root = client.fetch().root().handle
    node, _ = client.upload(root, "sized", payload(131_073, 9))
    assert node.raw["s"] == 131_073
    assert client.fetch().nodes[node.handle].raw["s"] == 131_073


def test_duplicate_file_names_are_allowed(client: Client) -> None:
    root = client.fetch().root().handle
    first, _ = client.upload(root, "same.txt", b"one")
    second, _ = client.upload(root, "same.txt", b"two")
    assert first.handle != second.handle
    named = client.fetch().named("same.txt")
    assert sorted(n.handle for n in named) == sorted([first.handle, second.handle])
    for node in named:
        info = client.download_info(node=node.handle)
        assert client.download(info["g"], node.file_key, info["s"]) in (b"one", b"two")


def test_g_on_a_folder_is_refused(client: Client) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "not a file")
    with pytest.raises(ApiError) as caught:
        client.download_info(node=folder.handle)
    assert caught.value.code in (-9, -11)


def test_uq_follows_uploads_and_deletions(client: Client) -> None:
    before = client.call({"a": "uq", "strg": 1, "xfer": 1})
    for field in ("mstrg", "cstrg", "mxfer"):
        assert isinstance(before[field], int), field
    root = client.fetch().root().handle
    first, _ = client.upload(root, "q1", payload(1000, 10))
    assert client.call({"a": "uq", "strg": 1})["cstrg"] == before["cstrg"] + 1000
    second, _ = client.upload(root, "q2", payload(200_000, 11))
    assert client.call({"a": "uq", "strg": 1})["cstrg"] == before["cstrg"] + 201_000
    # the rubbish bin still counts, destroying does not
    rubbish = client.fetch().root(4).handle
    assert client.call({"a": "m", "n": first.handle, "t": rubbish}) == 0
    assert client.call({"a": "uq", "strg": 1})["cstrg"] == before["cstrg"] + 201_000
    assert client.call({"a": "d", "n": second.handle}) == 0
    after = client.call({"a": "uq", "strg": 1})
    assert after["cstrg"] == before["cstrg"] + 1000
    assert after["mstrg"] >= after["cstrg"]


def test_upload_url_needs_a_valid_size(client: Client) -> None:
    assert client.request([{"a": "u", "s": -1}, {"a": "u", "s": "12"}, {"a": "u"}]) == [-2, -2, -2]


def test_upload_url_expires(start_server: StartServer) -> None:
    ttl = 0.3
    server = start_server(upload_ttl=ttl)
    account = new_account(server)
    with server.client() as client:
        client.login(account.email, account.password)
        encrypted = encrypt_file(payload(300_000, 12))
        url = client.upload_url(300_000)
        issued = time.monotonic()
        assert client.post_piece(url, *encrypted.pieces[0]).content == b""  # fresh: accepted
        while time.monotonic() < issued + ttl:
            time.sleep(0.02)
        response = client.post_piece(url, *encrypted.pieces[1])
        assert response.text == "-8"
