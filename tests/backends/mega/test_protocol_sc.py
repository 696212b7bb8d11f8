"""The server-to-client channel: ``sc`` polling, action packets for ``p``/``m``/``a``/``d`` with the command's
``i``, the long-poll ``w`` URL, and ``-6`` for an unknown sequence number.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from protocol_client import Account, Client, Server, new_request_id

from backends.mega import crypto

pytestmark = pytest.mark.timeout(60)


def drain(client: Client, sn: str) -> tuple[list[dict[str, Any]], str]:
    """Every packet committed after ``sn``, polling until the server answers with a wait URL.

    The commands of a test have returned before this is called, so their packets must be there already: a
    ``w`` answer ends the collection instead of being waited on.
    """
    packets: list[dict[str, Any]] = []
    for _ in range(50):
        answer = client.poll_sc(sn)
        assert isinstance(answer, dict), answer
        if "a" in answer:
            packets.extend(answer["a"])
            assert answer["sn"] != sn or not answer["a"]
            sn = answer["sn"]
            continue
        assert "w" in answer and answer["sn"] == sn, answer
        return packets, sn
    raise AssertionError("sc never settled")


def test_idle_poll_answers_a_wait_url_and_the_same_sn(client: Client) -> None:
    sn = client.fetch().sn
    answer = client.poll_sc(sn)
    assert isinstance(answer, dict)
    assert answer["sn"] == sn
    assert isinstance(answer["w"], str) and answer["w"].startswith("http")
    assert "a" not in answer or answer["a"] == []


def test_mkdir_emits_t_with_the_command_i(client: Client) -> None:
    tree = client.fetch()
    root = tree.root().handle
    request_id = new_request_id()
    folder = client.mkdir(root, "announced", req_id=request_id)
    packets, new_sn = drain(client, tree.sn)
    assert new_sn != tree.sn and len(crypto.b64decode(new_sn)) == 8
    assert [p["a"] for p in packets] == ["t"]
    (packet,) = packets
    assert packet["i"] == request_id
    (node,) = packet["t"]["f"]
    assert node["h"] == folder.handle and node["p"] == root
    assert client.decode_node(node).name == "announced"
    # nothing more after the new sn
    assert drain(client, new_sn) == ([], new_sn)


def test_upload_emits_t_with_the_file_node(client: Client) -> None:
    tree = client.fetch()
    node, _ = client.upload(tree.root().handle, "uploaded.bin", b"x" * 1000)
    packets, _ = drain(client, tree.sn)
    assert [p["a"] for p in packets] == ["t"]
    (announced,) = packets[0]["t"]["f"]
    assert announced["h"] == node.handle and announced["s"] == 1000 and announced["t"] == 0


def test_move_emits_d_then_t_with_the_same_i(client: Client) -> None:
    root = client.fetch().root().handle
    moved = client.mkdir(root, "moved")
    child = client.mkdir(moved.handle, "child of moved")
    target = client.mkdir(root, "target")
    sn = client.fetch().sn
    request_id = new_request_id()
    assert client.call({"a": "m", "n": moved.handle, "t": target.handle, "i": request_id}) == 0
    packets, _ = drain(client, sn)
    assert [p["a"] for p in packets] == ["d", "t"]
    removed, added = packets
    assert removed["n"] == moved.handle and removed.get("m") == 1
    assert removed["i"] == added["i"] == request_id
    handles = [node["h"] for node in added["t"]["f"]]
    assert handles[0] == moved.handle
    assert added["t"]["f"][0]["p"] == target.handle
    # the moved subtree comes along, parents first
    assert set(handles) == {moved.handle, child.handle}


def test_rename_emits_u_with_the_new_attributes(client: Client) -> None:
    root = client.fetch().root().handle
    entry, key = client.folder_node("old name")
    (folder,) = client.put_nodes(root, [entry])
    sn = client.fetch().sn
    request_id = new_request_id()
    at = crypto.encrypt_attributes({"n": "new name", "lbl": 3}, key)
    assert client.call({"a": "a", "n": folder.handle, "at": at, "i": request_id}) == 0
    packets, _ = drain(client, sn)
    assert [p["a"] for p in packets] == ["u"]
    (packet,) = packets
    assert packet["n"] == folder.handle and packet["i"] == request_id
    assert packet["u"] == client.user_handle
    assert crypto.decrypt_attributes(packet["at"], key) == {"n": "new name", "lbl": 3}
    assert isinstance(packet["ts"], int)


def test_delete_emits_d(client: Client) -> None:
    root = client.fetch().root().handle
    doomed = client.mkdir(root, "doomed")
    client.mkdir(doomed.handle, "inside doomed")
    sn = client.fetch().sn
    request_id = new_request_id()
    assert client.call({"a": "d", "n": doomed.handle, "i": request_id}) == 0
    packets, _ = drain(client, sn)
    assert [p["a"] for p in packets] == ["d"]
    assert packets[0]["n"] == doomed.handle and packets[0]["i"] == request_id
    assert "m" not in packets[0] or packets[0]["m"] != 1


def test_packets_come_in_commit_order_across_sessions(
    server: Server, account: Account, client: Client
) -> None:
    root = client.fetch().root().handle
    sn = client.fetch().sn
    with server.client() as other:
        other.login(account.email, account.password)
        first = other.mkdir(root, "first")
        second = client.mkdir(root, "second")
        third = other.mkdir(root, "third")
    packets, _ = drain(client, sn)
    assert [p["t"]["f"][0]["h"] for p in packets] == [first.handle, second.handle, third.handle]


def test_wait_url_returns_when_another_client_changes_something(
    server: Server, account: Account, client: Client
) -> None:
    tree = client.fetch()
    answer = client.poll_sc(tree.sn)
    wait_url = answer["w"]
    outcome: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        try:
            # go-mega GETs the wait URL (the web client POSTs it)
            outcome["status"] = httpx.get(wait_url, timeout=30, trust_env=False).status_code
        except httpx.HTTPError as exc:  # pragma: no cover - reported below
            outcome["error"] = exc
        outcome["elapsed"] = time.monotonic() - started

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive(), "the wait URL answered although nothing happened"
    with server.client() as other:
        other.login(account.email, account.password)
        other.mkdir(tree.root().handle, "wake up")
    waiter.join(15)
    assert not waiter.is_alive(), "the wait URL did not return after a change"
    assert "error" not in outcome and outcome["status"] == 200
    # well before the server's own long-poll timeout (sc_wait=20 in conftest)
    assert outcome["elapsed"] < 15
    packets, _ = drain(client, tree.sn)
    assert [client.decode_node(p["t"]["f"][0]).name for p in packets] == ["wake up"]


def test_unknown_sn_is_etoomany(client: Client) -> None:
    client.fetch()
    assert client.poll_sc(crypto.b64encode(bytes([0x7F]) + bytes(6) + b"\x01")) == -6


def test_sc_with_a_dead_session_is_esid(client: Client) -> None:
    sn = client.fetch().sn
    assert client.poll_sc(sn, sid=crypto.b64encode(b"\x02" * 43)) == -15
