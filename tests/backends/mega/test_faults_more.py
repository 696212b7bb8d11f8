"""The account-level fault switches: administratively blocked accounts (-16) and the per-account transfer
quota (HTTP 509 + ``X-MEGA-Time-Left``, ``g`` with ``e``/``tl``).

Each test runs its own seeded emulator and looks at what goes over real HTTP; nothing waits for a clock.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from protocol_client import Client, StartServer, logged_in, new_account, payload

from backends.mega import crypto

pytestmark = pytest.mark.timeout(60)

KIB = 1024
#: ``whyamiblocked`` for a blocked account: the SDK's ACCOUNT_BLOCKED_TOS_NON_COPYRIGHT.
BLOCKED_REASON = 300


def uploaded(client: Client, size: int, seed: int) -> tuple[str, crypto.FileKey, bytes]:
    """Upload a file into the Cloud Drive; returns (node handle, key, plaintext)."""
    data = payload(size, seed)
    node, encrypted = client.upload(client.fetch().root().handle, f"quota-{seed}", data)
    return node.handle, encrypted.key, data


def get_range(client: Client, url: str, start: int, end: int) -> httpx.Response:
    return client.http.get(f"{url}/{start}-{end}")


def assert_509(response: httpx.Response, window: float = 3600) -> int:
    """A transfer-quota refusal: 509, no body, and a positive whole number of seconds to wait."""
    assert response.status_code == 509, response.status_code
    assert response.content == b""
    time_left = int(response.headers["X-MEGA-Time-Left"])
    assert 0 < time_left <= window
    return time_left


def assert_over_quota(answer: dict[str, Any], window: float = 3600) -> None:
    assert answer["e"] == -17
    assert isinstance(answer["tl"], int) and 0 < answer["tl"] <= window
    assert "s" in answer and "at" in answer  # still the file's metadata


# -- EBLOCKED ------------------------------------------------------------------------------------------------


def test_blocked_account_logs_in_but_every_other_request_is_bare_eblocked(start_server: StartServer) -> None:
    # the setting is matched without regard to case, like e-mails at login
    server = start_server(blocked=["Blocked@Example.com"])
    server.emulator.add_account("blocked@example.com", "pw-blocked")
    other = new_account(server)
    with server.client() as client, logged_in(server, other) as bystander:
        answer = client.login("blocked@example.com", "pw-blocked")  # us still answers: a session to ask with
        assert answer["u"] and client.sid
        fetched = client.post_cs([{"a": "f", "c": 1}])
        assert fetched.status_code == 200 and fetched.text == "-16"
        assert client.post_cs([{"a": "uq"}, {"a": "ug"}]).text == "-16"  # a whole batch, not per slot
        # ... except the question MEGA's SDK asks on a bare -16, alone in its batch
        assert client.call({"a": "whyamiblocked"}) == BLOCKED_REASON
        assert client.post_cs([{"a": "whyamiblocked"}, {"a": "uq"}]).text == "-16"
        any_sn = crypto.b64encode(bytes(8))  # the block is checked before the sn
        assert client.poll_sc(any_sn) == -16
        # another account is unaffected
        tree = bystander.fetch()
        assert tree.root().handle
        assert isinstance(bystander.poll_sc(tree.sn), dict)
        assert bystander.call({"a": "whyamiblocked"}) == 0


def test_block_applies_to_live_sessions_and_can_be_lifted(start_server: StartServer) -> None:
    server = start_server()
    account = new_account(server)
    with logged_in(server, account) as client:
        sn = client.fetch().sn
        server.emulator.set_faults(blocked={account.email})
        assert client.post_cs([{"a": "f", "c": 1}]).text == "-16"
        assert client.poll_sc(sn) == -16
        server.emulator.set_faults(blocked=())
        assert client.fetch().sn == sn
        assert client.call({"a": "whyamiblocked"}) == 0  # the SDK's signal to unblock its client


# -- transfer quota ------------------------------------------------------------------------------------------


def test_transfer_quota_refuses_downloads_beyond_it(start_server: StartServer) -> None:
    size = 100 * KIB
    quota = size + 50 * KIB
    server = start_server(transfer_quota=quota)
    with logged_in(server) as client, logged_in(server) as other:
        handle, key, data = uploaded(client, size, 51)
        info = client.download_info(node=handle)
        assert "e" not in info and "tl" not in info
        # under the quota: a range, then the whole file, exactly using it up
        assert client.download(info["g"], key, size, start=0, end=50 * KIB - 1) == data[: 50 * KIB]
        assert client.download(info["g"], key, size) == data
        # beyond it: the download URL answers 509 with the wait, and g says so in its answer
        assert_509(get_range(client, info["g"], 0, 0))
        assert_509(client.http.get(info["g"]))
        assert_over_quota(client.download_info(node=handle))
        assert_over_quota(client.call({"a": "g", "n": handle}))  # metadata only, too
        # the quota is per account
        other_handle, other_key, other_data = uploaded(other, 60 * KIB, 52)
        other_info = other.download_info(node=other_handle)
        assert "e" not in other_info
        assert other.download(other_info["g"], other_key, len(other_data)) == other_data
        # and a runtime switch
        server.emulator.set_faults(transfer_quota=None)
        assert "e" not in client.download_info(node=handle)
        assert client.download(info["g"], key, size) == data


def test_public_link_downloads_count_for_the_link_owner(start_server: StartServer) -> None:
    size = 64 * KIB
    server = start_server(transfer_quota=size, transfer_quota_window=600)
    with logged_in(server) as owner, server.client() as anonymous:
        handle, key, data = uploaded(owner, size, 53)
        public = owner.call({"a": "l", "n": handle})
        info = anonymous.download_info(public=public)
        assert "e" not in info
        assert anonymous.download(info["g"], key, size) == data
        # the owner's quota is now used up: for the owner's own URLs and for the link alike
        assert_over_quota(owner.download_info(node=handle), window=600)
        assert_509(get_range(owner, owner.download_info(node=handle)["g"], 0, 15), window=600)
        assert_over_quota(anonymous.download_info(public=public), window=600)
        assert_509(get_range(anonymous, info["g"], 0, 15), window=600)
