"""What independent MEGA clients (megajs, mega.py) send that the emulator first answered wrongly, replayed
over the protocol client: each test is the request a real client makes and the answer MEGA gives it.

- megajs ``unshareFolder`` and MEGA's web client remove a folder link with ``s2`` and ``r: ""`` (the SDK
  leaves ``r`` out; the web client also sends ``ha: ""``), and nothing else: no ``l`` with ``d: 1``. So the
  share to ``EXP`` and the folder's public handle both end with that ``s2``.
- ``s2`` answers ``{"r": [0, ...]}``, one result per share entry: the web client treats anything else as a
  failure, the SDK parses the array.
- megajs ``getAccountInfo`` (``uq`` with ``pro: 1``) reads the plan from ``utype``.
"""

from __future__ import annotations

import pytest
from protocol_client import ApiError, Client, Node, Server, new_request_id

pytestmark = pytest.mark.timeout(60)


def export_folder(client: Client, folder: Node) -> tuple[str, bytes]:
    """megajs ``shareFolder``: ``s2`` to EXP with ``ok``, ``ha`` and the folder's key in ``cr``, then ``l``.
    Returns (public handle, share key)."""
    answer, share_key = client.share_to_exp(folder)
    assert answer == {"r": [0]}
    public = client.call({"a": "l", "n": folder.handle})
    assert isinstance(public, str) and len(public) == 8
    return public, share_key


def link_is_listed(client: Client, folder: Node) -> bool:
    raw = client.fetch().raw
    return any(link["h"] == folder.handle for link in raw["ph"]) or any(
        share["h"] == folder.handle and share["u"] == "EXP" for share in raw["s"]
    )


@pytest.mark.parametrize(
    "removal",
    [
        pytest.param({"s": [{"u": "EXP", "r": ""}]}, id="megajs"),
        pytest.param({"s": [{"u": "EXP", "r": ""}], "ha": ""}, id="web-client"),
        pytest.param({"s": [{"u": "EXP"}]}, id="sdk"),
    ],
)
def test_s2_removal_ends_the_folder_link(server: Server, client: Client, removal: dict[str, object]) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "published for a while")
    public, share_key = export_folder(client, folder)
    with Client(server.api_url, folder=public, folder_key=share_key) as visitor:
        assert visitor.fetch().nodes[folder.handle].name == "published for a while"
    assert link_is_listed(client, folder)
    sn = client.fetch().sn

    reqid = new_request_id()
    assert client.call({"a": "s2", "n": folder.handle, "i": reqid, **removal}) == {"r": [0]}

    with (
        Client(server.api_url, folder=public, folder_key=share_key) as late,
        pytest.raises(ApiError) as caught,
    ):
        late.fetch()
    assert caught.value.code == -9
    # neither the share nor the public handle is listed any more (else megajs shows the folder as shared)
    assert not link_is_listed(client, folder)
    packets = client.poll_sc(sn)["a"]
    assert {"a": "ph", "h": folder.handle, "ph": public, "d": 1, "i": reqid}.items() <= packets[-1].items()
    # exporting again works and gives a new handle
    again, _ = export_folder(client, folder)
    assert again != public


def test_s2_answers_one_result_per_share_entry(client: Client) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "answer shape")
    export_folder(client, folder)  # asserts {"r": [0]} for a new share
    # removing a share that is already gone is still a success for that entry
    assert client.call({"a": "s2", "n": folder.handle, "s": [{"u": "EXP", "r": ""}]}) == {"r": [0]}
    assert client.call({"a": "s2", "n": folder.handle, "s": [{"u": "EXP", "r": ""}]}) == {"r": [0]}


def test_s2_still_checks_access_levels(client: Client) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "bad access")
    assert client.request([{"a": "s2", "n": folder.handle, "s": [{"u": "EXP", "r": "x"}]}]) == [-2]
    assert client.request([{"a": "s2", "n": folder.handle, "s": [{"u": "EXP", "r": 3}]}]) == [-2]


def test_uq_with_pro_reports_the_plan(client: Client) -> None:
    # megajs getAccountInfo: {"a": "uq", "strg": 1, "xfer": 1, "pro": 1} -> account.type = utype
    answer = client.call({"a": "uq", "strg": 1, "xfer": 1, "pro": 1})
    assert answer["utype"] == 0
    assert {"mstrg", "cstrg", "mxfer", "caxfer", "csxfer", "srvratio"} <= answer.keys()
