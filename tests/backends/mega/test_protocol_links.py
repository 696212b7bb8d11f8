"""Public links: a file link (``l``) downloaded without a session, a folder link (``s2`` + ``l``) browsed with
``n=`` and downloaded from, link removal, and the owner checks.
"""

from __future__ import annotations

import pytest
from protocol_client import ApiError, Client, Server, meta_mac_of, new_account, payload

from backends.mega import crypto

pytestmark = pytest.mark.timeout(60)


def test_file_link_downloads_without_a_session(server: Server, client: Client) -> None:
    data = payload(200_000, 21)
    root = client.fetch().root().handle
    node, _ = client.upload(root, "shared.bin", data)
    public = client.call({"a": "l", "n": node.handle})
    assert isinstance(public, str) and len(crypto.b64decode(public)) == 6
    assert client.call({"a": "l", "n": node.handle}) == public  # stable per node
    assert {"h": node.handle, "ph": public}.items() <= next(
        link for link in client.fetch().raw.get("ph", []) if link["h"] == node.handle
    ).items()

    link_key = client.fetch().nodes[node.handle].key  # what a link carries after '#'
    assert link_key is not None
    with server.client() as anonymous:
        assert anonymous.sid is None
        metadata = anonymous.call({"a": "g", "p": public})
        assert metadata["s"] == len(data) and "at" in metadata
        info = anonymous.download_info(public=public)
        assert info["s"] == len(data)
        assert crypto.decrypt_attributes(info["at"], crypto.fold_key(link_key))["n"] == "shared.bin"
        file_key = crypto.FileKey.unpack(link_key)
        downloaded = anonymous.download(info["g"], file_key, info["s"])
        assert downloaded == data
        assert meta_mac_of(file_key, downloaded) == file_key.meta_mac
        assert (
            anonymous.download(info["g"], file_key, info["s"], start=77_777, end=131_100)
            == data[77_777:131_101]
        )


def test_removing_a_link_makes_it_dead(server: Server, client: Client) -> None:
    root = client.fetch().root().handle
    node, _ = client.upload(root, "briefly shared", b"short-lived")
    public = client.call({"a": "l", "n": node.handle})
    with server.client() as anonymous:
        assert anonymous.download_info(public=public)["s"] == len(b"short-lived")
        assert client.call({"a": "l", "n": node.handle, "d": 1}) == 0
        with pytest.raises(ApiError) as caught:
            anonymous.download_info(public=public)
        assert caught.value.code == -9
    assert not [link for link in client.fetch().raw.get("ph", []) if link["h"] == node.handle]
    # a new link gets a new handle
    assert client.call({"a": "l", "n": node.handle}) != public


def test_link_emits_ph_packets(client: Client) -> None:
    root = client.fetch().root().handle
    node, _ = client.upload(root, "announced link", b"abc")
    sn = client.fetch().sn
    public = client.call({"a": "l", "n": node.handle})
    assert client.call({"a": "l", "n": node.handle, "d": 1}) == 0
    packets = client.poll_sc(sn)["a"]
    links = [p for p in packets if p["a"] == "ph"]
    assert [(p["h"], p["ph"], p.get("d")) for p in links] == [
        (node.handle, public, None),
        (node.handle, public, 1),
    ]


def test_link_to_someone_elses_node_is_eaccess(server: Server, client: Client) -> None:
    other = new_account(server)
    with server.client() as stranger:
        stranger.login(other.email, other.password)
        theirs = stranger.mkdir(stranger.fetch().root().handle, "not yours")
    assert client.request([{"a": "l", "n": theirs.handle}]) == [-11]


def test_anonymous_requests_see_no_private_nodes(server: Server, client: Client) -> None:
    root = client.fetch().root().handle
    node, _ = client.upload(root, "private", b"secret bytes")
    with server.client() as anonymous:
        # g with n needs a session (only g with p works without one)
        assert anonymous.post_cs([{"a": "g", "g": 1, "n": node.handle}]).text == "-15"
    other = new_account(server)
    with server.client() as stranger:
        stranger.login(other.email, other.password)
        assert stranger.request([{"a": "g", "g": 1, "n": node.handle}])[0] in (-9, -11)


def test_folder_link_lists_and_downloads_with_n(server: Server, client: Client) -> None:
    root = client.fetch().root().handle
    outside = client.mkdir(root, "outside the link")
    folder = client.mkdir(root, "published")
    sub = client.mkdir(folder.handle, "sub")
    top_data, deep_data = payload(1000, 22), payload(300_001, 23)
    top_file, _ = client.upload(folder.handle, "top.txt", top_data)
    deep_file, _ = client.upload(sub.handle, "deep.bin", deep_data)
    tree = client.fetch()
    subtree = [tree.nodes[n.handle] for n in (folder, sub, top_file, deep_file)]
    _, share_key = client.share_to_exp(tree.nodes[folder.handle], subtree)
    public = client.call({"a": "l", "n": folder.handle})
    assert isinstance(public, str) and len(public) == 8

    owner_view = client.fetch()
    assert any(s["h"] == folder.handle and s["u"] == "EXP" for s in owner_view.raw["s"])
    (ok,) = [entry for entry in owner_view.raw["ok"] if entry["h"] == folder.handle]
    assert crypto.aes_ecb_decrypt(client.master_key or b"", crypto.b64decode(ok["k"])) == share_key
    # the owner's own keys are still there next to the share's
    assert owner_view.nodes[deep_file.handle].key == deep_file.key

    with Client(server.api_url, folder=public, folder_key=share_key) as visitor:
        listing = visitor.fetch()
        handles = list(listing.nodes)
        assert set(handles) == {folder.handle, sub.handle, top_file.handle, deep_file.handle}
        assert outside.handle not in listing.nodes and root not in listing.nodes
        assert handles[0] == folder.handle
        assert {n.name for n in listing.nodes.values()} == {"published", "sub", "top.txt", "deep.bin"}
        for handle, data in ((top_file.handle, top_data), (deep_file.handle, deep_data)):
            node = listing.nodes[handle]
            info = visitor.download_info(node=handle)
            assert info["s"] == len(data)
            downloaded = visitor.download(info["g"], node.file_key, info["s"])
            assert downloaded == data
            assert meta_mac_of(node.file_key, downloaded) == node.file_key.meta_mac
        # a folder link is read-only, and sees nothing outside its folder
        results = visitor.request(
            [
                {"a": "d", "n": top_file.handle},
                {"a": "m", "n": top_file.handle, "t": sub.handle},
                {"a": "a", "n": sub.handle, "at": crypto.encrypt_attributes({"n": "x"}, bytes(16))},
                {"a": "g", "g": 1, "n": outside.handle},
            ]
        )
        assert results[:3] == [-11, -11, -11]
        assert results[3] in (-9, -11)
    assert client.fetch().nodes[top_file.handle].name == "top.txt"

    # removing the link ends the visitor's access
    assert client.call({"a": "l", "n": folder.handle, "d": 1}) == 0
    with (
        Client(server.api_url, folder=public, folder_key=share_key) as late,
        pytest.raises(ApiError) as caught,
    ):
        late.fetch()
    assert caught.value.code < 0
