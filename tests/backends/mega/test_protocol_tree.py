"""The node tree over HTTP: ``f``, ``p`` (folders), ``m``, ``a``, ``d``, and the request-level rules of
section 12 (malformed bodies, unknown handles, roots, circular moves, idempotent replay).
"""

from __future__ import annotations

import json

import pytest
from protocol_client import Account, Client, Server, new_request_id

from backends.mega import crypto

pytestmark = pytest.mark.timeout(60)

MISSING = "AAAAAAAA"  # a well-formed node handle that names nothing


def test_f_starts_with_the_roots_and_always_has_ok_s_u(client: Client) -> None:
    tree = client.fetch()
    types = [node.type for node in tree.nodes.values()]
    assert sorted(types[:3]) == [2, 3, 4]
    for node in list(tree.nodes.values())[:3]:
        assert not node.parent
        assert not node.raw.get("a") and not node.raw.get("k")
        assert node.raw["u"] == client.user_handle
    for key in ("ok", "s", "u"):
        assert isinstance(tree.raw[key], list), key
    assert len(crypto.b64decode(tree.sn)) == 8
    for node in tree.nodes.values():
        assert len(crypto.b64decode(node.handle)) == 6


def test_f_lists_parents_before_children(client: Client) -> None:
    root = client.fetch().root().handle
    # made first, so only a parent-first sort can put it after its new parent
    late_child = client.mkdir(root, "moved in later")
    parent = client.mkdir(root, "parent")
    grandchild = client.mkdir(late_child.handle, "grandchild")
    assert client.call({"a": "m", "n": late_child.handle, "t": parent.handle}) == 0
    order = list(client.fetch().nodes)
    assert order.index(parent.handle) < order.index(late_child.handle) < order.index(grandchild.handle)
    seen: set[str] = set()
    for handle, node in client.fetch().nodes.items():
        assert node.parent is None or node.parent in seen, f"{handle} listed before its parent"
        seen.add(handle)


def test_p_creates_a_batch_with_temporary_parent_handles(client: Client) -> None:
    root = client.fetch().root().handle
    outer, outer_key = client.folder_node("outer", temp_handle="tmpouter")
    inner, inner_key = client.folder_node("inner", temp_handle="tmpinner")
    inner["p"] = "tmpouter"
    created = client.put_nodes(root, [outer, inner])
    assert [node.name for node in created] == ["outer", "inner"]
    assert created[0].parent == root
    assert created[1].parent == created[0].handle
    assert created[0].key == outer_key and created[1].key == inner_key
    # the server keeps the key string as "<owner>:<key as sent>"
    assert created[0].raw["k"] == f"{client.user_handle}:{outer['k']}"
    tree = client.fetch()
    assert tree.nodes[created[1].handle].parent == created[0].handle
    assert tree.nodes[created[1].handle].name == "inner"


def test_duplicate_folder_names_are_allowed(client: Client) -> None:
    root = client.fetch().root().handle
    first = client.mkdir(root, "twin")
    second = client.mkdir(root, "twin")
    assert first.handle != second.handle
    assert sorted(n.handle for n in client.fetch().named("twin")) == sorted([first.handle, second.handle])


def test_rename_with_at_and_with_go_megas_attr_and_key(client: Client) -> None:
    root = client.fetch().root().handle
    entry, key = client.folder_node("before")
    (folder,) = client.put_nodes(root, [entry])
    assert (
        client.call({"a": "a", "n": folder.handle, "at": crypto.encrypt_attributes({"n": "sdk"}, key)}) == 0
    )
    assert client.fetch().nodes[folder.handle].name == "sdk"
    command = {
        "a": "a",
        "n": folder.handle,
        "attr": crypto.encrypt_attributes({"n": "go-mega"}, key),
        "key": entry["k"],
        "i": new_request_id(),
    }
    assert client.call(command) == 0
    assert client.fetch().nodes[folder.handle].name == "go-mega"


def test_move_and_its_errors(client: Client) -> None:
    tree = client.fetch()
    root, rubbish = tree.root(2).handle, tree.root(4).handle
    a = client.mkdir(root, "a")
    b = client.mkdir(a.handle, "b")
    c = client.mkdir(root, "c")
    assert client.call({"a": "m", "n": c.handle, "t": b.handle, "i": new_request_id()}) == 0
    assert client.fetch().nodes[c.handle].parent == b.handle
    results = client.request(
        [
            {"a": "m", "n": a.handle, "t": b.handle},  # into its own subtree
            {"a": "m", "n": a.handle, "t": c.handle},  # deeper still
            {"a": "m", "n": a.handle, "t": a.handle},  # into itself
            {"a": "m", "n": root, "t": a.handle},  # a root
            {"a": "m", "n": rubbish, "t": a.handle},
            {"a": "m", "n": MISSING, "t": a.handle},
            {"a": "m", "n": a.handle, "t": MISSING},
        ]
    )
    assert results == [-10, -10, -10, -11, -11, -9, -9]
    tree = client.fetch()
    assert tree.nodes[a.handle].parent == root
    assert tree.nodes[c.handle].parent == b.handle
    # to the rubbish bin and back
    assert client.call({"a": "m", "n": a.handle, "t": rubbish}) == 0
    assert client.fetch().nodes[a.handle].parent == rubbish
    assert client.call({"a": "m", "n": a.handle, "t": root}) == 0


def test_delete_removes_the_subtree_and_refuses_roots(client: Client) -> None:
    tree = client.fetch()
    root = tree.root(2).handle
    top = client.mkdir(root, "top")
    middle = client.mkdir(top.handle, "middle")
    bottom = client.mkdir(middle.handle, "bottom")
    keep = client.mkdir(root, "keep")
    assert client.call({"a": "d", "n": top.handle, "i": new_request_id()}) == 0
    nodes = client.fetch().nodes
    assert top.handle not in nodes and middle.handle not in nodes and bottom.handle not in nodes
    assert keep.handle in nodes
    results = client.request(
        [{"a": "d", "n": root}, {"a": "d", "n": tree.root(4).handle}, {"a": "d", "n": MISSING}]
    )
    assert results == [-11, -11, -9]
    assert client.request([{"a": "d", "n": top.handle}]) == [-9]


def test_unknown_handles_are_enoent_in_their_slots(client: Client) -> None:
    root = client.fetch().root().handle
    results = client.request(
        [
            {"a": "a", "n": MISSING, "at": crypto.encrypt_attributes({"n": "x"}, bytes(16))},
            {"a": "g", "g": 1, "n": MISSING},
            {"a": "l", "n": MISSING},
            {"a": "p", "t": MISSING, "n": [client.folder_node("orphan")[0]]},
            {"a": "f", "c": 1},
        ]
    )
    assert results[:4] == [-9, -9, -9, -9]
    assert isinstance(results[4], dict) and root in {node["h"] for node in results[4]["f"]}
    assert not [node for node in client.fetch().nodes.values() if node.name == "orphan"]


def test_a_slot_error_leaves_the_other_commands_of_the_batch_alone(client: Client) -> None:
    root = client.fetch().root().handle
    results = client.request(
        [
            {"a": "m", "n": MISSING, "t": root},
            {"a": "p", "t": root, "n": [client.folder_node("made in a batch")[0]]},
            {"a": "d", "n": root},
        ]
    )
    assert results[0] == -9 and results[2] == -11
    assert results[1]["f"][0]["p"] == root
    assert len(client.fetch().named("made in a batch")) == 1


def test_unknown_command_is_eargs_in_its_slot(client: Client) -> None:
    results = client.request([{"a": "no-such-command"}, {"a": "ug"}])
    assert results[0] == -2
    assert results[1]["u"] == client.user_handle


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b'{"a": "ug"}',  # an object, not an array
        b'["ug"]',  # an array of strings
        b"[1, 2]",
        b'[{"n": "xxxxxxxx"}]',  # no "a"
        b'[{"a": 7}]',  # "a" not a string
        b"[{]",
        b'[{"a": "ug"}',  # truncated
    ],
)
def test_malformed_bodies_get_bare_eargs(client: Client, body: bytes) -> None:
    response = client.post_cs(body)
    assert response.status_code == 200
    assert response.text == "-2"


def test_malformed_body_runs_nothing_of_the_batch(client: Client) -> None:
    root = client.fetch().root().handle
    good = {"a": "p", "t": root, "n": [client.folder_node("must not exist")[0]]}
    body = json.dumps([good, {"a": 5}])
    assert client.post_cs(body).text == "-2"
    assert not client.fetch().named("must not exist")


def test_same_id_and_body_is_replayed_not_run_again(client: Client) -> None:
    root = client.fetch().root().handle
    batch = [{"a": "p", "t": root, "n": [client.folder_node("once")[0]], "i": new_request_id()}]
    body = json.dumps(batch)
    first = client.post_cs(body, req_id="replay-me-1")
    again = client.post_cs(body, req_id="replay-me-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(client.fetch().named("once")) == 1
    # the id is no order check: an older id with a new body runs
    other = client.post_cs(
        json.dumps([{"a": "p", "t": root, "n": [client.folder_node("twice")[0]]}]), req_id="1"
    )
    assert isinstance(other.json()[0], dict)
    # and a new id with the same body runs again (duplicate names are allowed)
    third = client.post_cs(body, req_id="replay-me-2")
    assert third.json()[0]["f"][0]["h"] != first.json()[0]["f"][0]["h"]
    assert len(client.fetch().named("once")) == 2


def test_replay_is_per_session(server: Server, account: Account, client: Client) -> None:
    """Two sessions that happen to send the same id and body make two requests."""
    root = client.fetch().root().handle
    body = json.dumps([{"a": "p", "t": root, "n": [client.folder_node("per session")[0]]}])
    with server.client() as second:
        second.login(account.email, account.password)
        assert second.sid != client.sid
        first_answer = client.post_cs(body, req_id="shared-id").json()
        second_answer = second.post_cs(body, req_id="shared-id").json()
    assert first_answer[0]["f"][0]["h"] != second_answer[0]["f"][0]["h"]
    assert len(client.fetch().named("per session")) == 2


def test_commands_without_a_session_get_bare_esid(server: Server) -> None:
    """Only us0, us, up, g with p and folder-link requests work without a sid."""
    with server.client() as anonymous:
        for command in ({"a": "f", "c": 1}, {"a": "ug"}, {"a": "uq"}, {"a": "u", "s": 1}, {"a": "sml"}):
            assert anonymous.post_cs([command]).text == "-15", command
        # one such command spoils the whole batch
        mixed = [{"a": "us0", "user": "someone@example.com"}, {"a": "ug"}]
        assert anonymous.post_cs(mixed).text == "-15"


def test_cs_takes_only_post(server: Server) -> None:
    with server.client() as anonymous:
        response = anonymous.http.get(f"{anonymous.base}/cs", params={"id": "1"})
        assert response.status_code != 200 or response.text == "-2"


def test_files_are_no_targets(client: Client) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "folder")
    node, _ = client.upload(root, "plain file", b"data")
    results = client.request(
        [
            {"a": "m", "n": folder.handle, "t": node.handle},
            {"a": "p", "t": node.handle, "n": [client.folder_node("under a file")[0]]},
        ]
    )
    assert results[0] in (-9, -11) and results[1] in (-9, -11)
    tree = client.fetch()
    assert tree.nodes[folder.handle].parent == root and not tree.named("under a file")
