"""Every fault switch of the emulator observed doing what it says, each on its own emulator (seeded)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from protocol_client import (
    ApiError,
    Client,
    StartServer,
    encrypt_file,
    logged_in,
    meta_mac_of,
    new_account,
    payload,
)

from backends.mega import crypto, hashcash

pytestmark = pytest.mark.timeout(60)


#: the faults that refuse a whole /cs request with a bare code, before anything runs
BARE_REFUSALS = pytest.mark.parametrize(("fault", "code"), [("eagain_rate", "-3"), ("ratelimit_rate", "-4")])


@BARE_REFUSALS
def test_bare_refusal_then_a_retry_succeeds(start_server: StartServer, fault: str, code: str) -> None:
    server = start_server()
    with logged_in(server) as client:
        root = client.fetch().root().handle
        server.emulator.set_faults(**{fault: 1.0})
        body = [{"a": "p", "t": root, "n": [client.folder_node(f"after {fault}")[0]]}]
        for _ in range(3):
            response = client.post_cs(body, req_id=f"{fault}-1")
            assert response.status_code == 200 and response.text == code
        # before the session is looked at: even a login request is refused
        assert client.post_cs([{"a": "us0", "user": "x@example.com"}], sid="").text == code
        server.emulator.set_faults(**{fault: 0.0})
        # the same request (same id and body) now runs, once: nothing ran while it was refused
        retried = client.post_cs(body, req_id=f"{fault}-1")
        assert isinstance(retried.json()[0], dict)
        assert len(client.fetch().named(f"after {fault}")) == 1


def test_http_500(start_server: StartServer) -> None:
    server = start_server()
    with logged_in(server) as client:
        server.emulator.set_faults(http500_rate=1.0)
        assert client.post_cs([{"a": "uq"}]).status_code == 500
        server.emulator.set_faults(http500_rate=0.0)
        assert client.post_cs([{"a": "uq"}]).status_code == 200


@BARE_REFUSALS
@pytest.mark.parametrize("seed", [7, 99])
def test_seeded_fault_rates_repeat(start_server: StartServer, fault: str, code: str, seed: int) -> None:
    """With the same seed, a fractional rate refuses the same requests; it is neither 0 nor 1, and the
    requests it lets through get their answers."""

    def pattern() -> list[bool]:
        server = start_server(seed=seed, **{fault: 0.5})
        with server.client() as client:
            texts = [client.post_cs([{"a": "us0", "user": "x@example.com"}]).text for _ in range(40)]
        assert all(text == code or text.startswith('[{"v":2') for text in texts)
        return [text == code for text in texts]

    first, second = pattern(), pattern()
    assert first == second
    assert 0 < sum(first) < 40


def uploaded(client: Client, size: int, seed: int) -> tuple[dict, crypto.FileKey, bytes, bytes]:
    """Upload a file; returns (g answer, key, plaintext, ciphertext as sent)."""
    data = payload(size, seed)
    root = client.fetch().root().handle
    node, encrypted = client.upload(root, f"fault-{seed}", data)
    ciphertext = b"".join(piece for _, piece in encrypted.pieces)
    return client.download_info(node=node.handle), encrypted.key, data, ciphertext


def test_drop_closes_a_download_before_its_body_completes(start_server: StartServer) -> None:
    server = start_server()
    with logged_in(server) as client:
        info, key, data, _ = uploaded(client, 400_000, 31)
        server.emulator.set_faults(drop_rate=1.0)
        with pytest.raises(httpx.TransportError):
            client.fetch_range(info["g"], 0, len(data) - 1)
        server.emulator.set_faults(drop_rate=0.0)
        assert client.download(info["g"], key, len(data)) == data


def test_drop_closes_an_upload_before_its_answer(start_server: StartServer) -> None:
    server = start_server()
    with logged_in(server) as client:
        encrypted = encrypt_file(payload(200_000, 32))
        url = client.upload_url(200_000)
        server.emulator.set_faults(drop_rate=1.0)
        with pytest.raises(httpx.TransportError):
            client.post_piece(url, *encrypted.pieces[0])
        server.emulator.set_faults(drop_rate=0.0)
        replies = [client.post_piece(url, *piece).content for piece in encrypted.pieces]
        assert replies[0] == b"" and len(replies[1]) == 36


def test_drop_loses_a_cs_answer_after_the_batch_ran(start_server: StartServer) -> None:
    server = start_server()
    with logged_in(server) as client:
        root = client.fetch().root().handle
        body = [{"a": "p", "t": root, "n": [client.folder_node("made, answer lost")[0]]}]
        server.emulator.set_faults(drop_rate=1.0)
        with pytest.raises(httpx.TransportError):
            client.post_cs(body, req_id="dropped-1")
        server.emulator.set_faults(drop_rate=0.0)
        assert len(client.fetch().named("made, answer lost")) == 1  # it ran
        # the retry (same id, same body) gets the lost answer and runs nothing twice
        retried = client.post_cs(body, req_id="dropped-1")
        assert retried.json()[0]["f"][0]["t"] == 1
        assert len(client.fetch().named("made, answer lost")) == 1


def test_injected_faults_are_counted_by_kind(start_server: StartServer) -> None:
    server = start_server()
    with logged_in(server) as client:
        info, _key, data, _ = uploaded(client, 1000, 35)
        assert server.emulator.faults_injected() == {}
        server.emulator.set_faults(eagain_rate=1.0)
        for _ in range(3):
            assert client.post_cs([{"a": "uq"}]).text == "-3"
        server.emulator.set_faults(eagain_rate=0.0, http500_rate=1.0)
        assert client.post_cs([{"a": "uq"}]).status_code == 500
        with pytest.raises(httpx.HTTPStatusError):
            client.fetch_range(info["g"], 0, len(data) - 1)
        server.emulator.set_faults(http500_rate=0.0, drop_rate=1.0)
        with pytest.raises(httpx.TransportError):
            client.post_cs([{"a": "uq"}])
        server.emulator.set_faults(drop_rate=0.0)
        assert client.post_cs([{"a": "uq"}]).status_code == 200
    assert server.emulator.faults_injected() == {
        "cs:eagain": 3,
        "cs:http500": 1,
        "download:http500": 1,
        "cs:drop": 1,
    }


def test_corrupt_download_fails_the_mac(start_server: StartServer) -> None:
    server = start_server()
    with logged_in(server) as client:
        info, key, data, ciphertext = uploaded(client, 300_000, 33)
        server.emulator.set_faults(corrupt_rate=1.0)
        served = client.fetch_range(info["g"], 0, len(data) - 1)
        assert len(served) == len(ciphertext)
        assert served != ciphertext
        plaintext = crypto.ctr_crypt(key.key, key.nonce, 0, served)
        assert meta_mac_of(key, plaintext) != key.meta_mac
        server.emulator.set_faults(corrupt_rate=0.0)
        clean = client.download(info["g"], key, len(data))
        assert meta_mac_of(key, clean) == key.meta_mac


def test_bandwidth_cap_slows_transfers(start_server: StartServer) -> None:
    bandwidth = 64 * 1024
    size = 32 * 1024  # half a second each way
    server = start_server(bandwidth=bandwidth)
    with logged_in(server) as client:
        encrypted = encrypt_file(payload(size, 34))
        url = client.upload_url(size)
        started = time.monotonic()
        token = client.post_piece(url, *encrypted.pieces[0]).content
        upload_seconds = time.monotonic() - started
        assert len(token) == 36
        root = client.fetch().root().handle
        (node,) = client.put_nodes(root, [client.file_node(token.decode(), encrypted.key, {"n": "slow"})])
        info = client.download_info(node=node.handle)
        started = time.monotonic()
        body = client.fetch_range(info["g"], 0, size - 1)
        download_seconds = time.monotonic() - started
    assert len(body) == size
    floor = 0.95 * size / bandwidth  # 5% for timer granularity
    assert download_seconds >= floor, download_seconds
    assert upload_seconds >= floor, upload_seconds


def test_quota_refuses_u(start_server: StartServer) -> None:
    server = start_server(quota=100_000)
    with logged_in(server) as client:
        assert client.call({"a": "uq", "strg": 1})["mstrg"] == 100_000
        root = client.fetch().root().handle
        client.upload(root, "fits", payload(60_000, 35))
        with pytest.raises(ApiError) as caught:
            client.upload_url(50_000)
        assert caught.value.code == -17
        assert client.upload_url(40_000).startswith("http")  # exactly up to the quota is fine


def test_login_limit(start_server: StartServer) -> None:
    server = start_server(login_limit=3)
    account = new_account(server)
    other = new_account(server)
    with server.client() as client:
        for _ in range(3):
            client.login(account.email, account.password)
        with pytest.raises(ApiError) as caught:
            client.login(account.email, account.password)
        assert caught.value.code == -6
        # per account: another one still logs in, and existing sessions keep working
        client.login(other.email, other.password)
        assert client.call({"a": "ug"})["email"] == other.email


def solve_402(response: httpx.Response) -> str:
    """The X-Hashcash answer to a 402 challenge."""
    challenge = hashcash.parse_challenge(response.headers["X-Hashcash"])
    return hashcash.solution_header(challenge.token, hashcash.solve(challenge.token, challenge.easiness))


def post_solving(client: Client, body: list[dict], req_id: str, **kwargs: Any) -> tuple[int, httpx.Response]:
    """POST ``body``; answer one 402 challenge and resend the same request. Returns (first status, final)."""
    first = client.post_cs(body, req_id=req_id, **kwargs)
    if first.status_code != 402:
        return first.status_code, first
    assert first.content == b""
    return 402, client.post_cs(body, req_id=req_id, headers={"X-Hashcash": solve_402(first)}, **kwargs)


@pytest.mark.parametrize("mode", ["login", "all"])
def test_hashcash(start_server: StartServer, mode: str) -> None:
    server = start_server(hashcash=mode, hashcash_easiness=255)
    account = new_account(server)
    with server.client() as client:
        status, prelogin = post_solving(client, [{"a": "us0", "user": account.email}], "hc-0")
        if mode == "all":
            assert status == 402
        salt = crypto.b64decode(prelogin.json()[0]["s"])
        password_key, auth_key = crypto.derive_v2(account.password, salt)
        us = [{"a": "us", "user": account.email, "uh": crypto.b64encode(auth_key)}]
        challenged = client.post_cs(us, req_id="hc-1")
        assert challenged.status_code == 402
        assert challenged.headers["X-Hashcash"].startswith("1:255:")
        # a wrong answer is challenged again
        wrong = hashcash.solution_header(bytes(48), bytes(4))
        assert client.post_cs(us, req_id="hc-1", headers={"X-Hashcash": wrong}).status_code == 402
        accepted = client.post_cs(us, req_id="hc-1", headers={"X-Hashcash": solve_402(challenged)})
        assert accepted.status_code == 200
        answer = accepted.json()[0]
        master_key = crypto.aes_ecb_decrypt(password_key, crypto.b64decode(answer["k"]))
        blob = crypto.aes_ecb_decrypt(master_key, crypto.b64decode(answer["privk"]))
        sid = crypto.decrypt_session_id(crypto.decode_private_key(blob), answer["csid"])
        status, user = post_solving(client, [{"a": "ug"}], "hc-2", sid=sid)
        assert status == (402 if mode == "all" else 200)
        assert user.status_code == 200 and user.json()[0]["email"] == account.email
