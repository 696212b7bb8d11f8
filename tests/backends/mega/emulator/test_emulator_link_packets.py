"""Action packets seen through a public folder link (``sc`` with ``n=``): only changes inside the folder,
and node keys cut down to the entries the folder key opens."""

from __future__ import annotations

from protocol_client import Client, Server, new_request_id

from backends.mega import crypto


def test_a_folder_link_sees_only_its_own_subtree(server: Server, client: Client) -> None:
    assert client.master_key is not None and client.user_handle is not None
    root = client.fetch().root().handle
    folder = client.mkdir(root, "published")
    outside = client.mkdir(root, "private")
    _, share_key = client.share_to_exp(folder)
    public = client.call({"a": "l", "n": folder.handle})
    with Client(server.api_url, folder=public, folder_key=share_key) as visitor:
        sn = visitor.fetch().sn
        assert "w" in visitor.poll_sc(sn)

        # inside, with the share key in cr (as a MEGA client sends it); then something outside
        entry, key = client.folder_node("inner")
        wrapped = crypto.b64encode(crypto.aes_ecb_encrypt(share_key, key))
        reqid = new_request_id()
        (inner,) = client.put_nodes(
            folder.handle, [entry], i=reqid, cr=[[folder.handle], ["xxxxxxxx"], [0, 0, wrapped]]
        )
        client.mkdir(outside.handle, "not for the link")

        answer = visitor.poll_sc(sn)
        (packet,) = answer["a"]
        assert packet["a"] == "t" and packet["i"] == reqid
        (node,) = packet["t"]["f"]
        assert node["h"] == inner.handle
        assert node["k"] == f"{folder.handle}:{wrapped}"  # never the owner's own key entry
        assert visitor.decode_node(node).name == "inner"
        # the owner's own poll sees both changes, with its full key strings
        own = client.poll_sc(sn)["a"]
        assert [p["a"] for p in own][-2:] == ["t", "t"]
        assert own[-2]["t"]["f"][0]["k"].startswith(f"{client.user_handle}:")
        assert answer["sn"] == client.fetch().sn
