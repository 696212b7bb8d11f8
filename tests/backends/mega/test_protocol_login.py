"""Sign-up, login (v1 and v2), sessions, 2FA and HTTPS against a running emulator, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import ssl
import struct
import time
from pathlib import Path

import httpx
import pytest
from protocol_client import Account, ApiError, Client, Server, StartServer, new_account, random_name

from backends.mega import crypto
from backends.mega.emulator.tls import self_signed
from backends.mega.signup import signup_command

pytestmark = pytest.mark.timeout(60)


def totp(secret_b32: str, at: float | None = None, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1), what authenticator apps show for a MEGA 2FA secret."""
    counter = int((time.time() if at is None else at) // step)
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


@pytest.fixture(scope="module")
def rsa_key() -> crypto.RsaPrivateKey:
    """One RSA key for the sign-ups of this module (generating one takes a while)."""
    return crypto.generate_rsa_key()


@pytest.mark.parametrize("version", [2, 1])
def test_sign_up_over_http_then_log_in(server: Server, rsa_key: crypto.RsaPrivateKey, version: int) -> None:
    email = f"{random_name('signup')}@example.com"
    password = f"pw-{random_name()}"
    master_key = os.urandom(16)
    command = signup_command(email, password, version=version, master_key=master_key, rsa_key=rsa_key)
    with server.client() as client:
        handle = client.call(command)
        assert isinstance(handle, str) and len(crypto.b64decode(handle)) == 8
        prelogin = client.call({"a": "us0", "user": email})
        assert prelogin["v"] == version
        if version == 2:
            assert crypto.b64decode(prelogin["s"]) == crypto.v2_salt(crypto.b64decode(command["crv"]))
        answer = client.login(email, password)
        assert answer["u"] == handle
        assert client.master_key == master_key
        assert (
            crypto.decode_private_key(crypto.aes_ecb_decrypt(master_key, crypto.b64decode(answer["privk"])))
            == rsa_key
        )
        tree = client.fetch()
        assert sorted(node.type for node in tree.nodes.values()) == [2, 3, 4]
        # the same e-mail cannot sign up twice; the first password still works
        again = signup_command(email, "another", version=version, rsa_key=rsa_key)
        (refused,) = client.request([again])
        assert isinstance(refused, int) and refused < 0
    with server.client() as fresh:
        fresh.login(email, password)
        with pytest.raises(ApiError):
            fresh.login(email, "another")


def test_v2_login_gives_a_session_that_embeds_the_user_handle(server: Server, account: Account) -> None:
    with server.client() as client:
        prelogin = client.call({"a": "us0", "user": account.email})
        assert prelogin["v"] == 2
        assert len(crypto.b64decode(prelogin["s"])) == 32
        answer = client.login(account.email, account.password)
        assert answer["u"] == account.user_handle
        assert client.sid is not None and len(client.sid) == 58
        sid = crypto.b64decode(client.sid)
        assert len(sid) == 43 and sid[0] != 0
        assert sid[16:27].decode("ascii") == account.user_handle
        assert len(crypto.b64decode(answer["privk"])) >= 256
        user = client.call({"a": "ug"})
        assert user["u"] == account.user_handle
        assert user["email"] == account.email


def test_v1_account_logs_in(server: Server) -> None:
    account = new_account(server, version=1)
    with server.client() as client:
        assert client.call({"a": "us0", "user": account.email})["v"] == 1
        client.login(account.email, account.password)
        tree = client.fetch()
        assert {node.type for node in tree.nodes.values()} >= {2, 3, 4}


def test_email_case_does_not_matter(server: Server, account: Account) -> None:
    with server.client() as client:
        client.login(account.email.upper(), account.password)
        assert client.user_handle == account.user_handle


@pytest.mark.parametrize("version", [1, 2])
def test_wrong_password_is_enoent(server: Server, version: int) -> None:
    account = new_account(server, version=version)
    with server.client() as client:
        with pytest.raises(ApiError) as caught:
            client.login(account.email, account.password + "x")
        assert caught.value.code == -9
        assert client.sid is None


def test_unknown_email_fails_like_a_wrong_password(server: Server) -> None:
    with server.client() as client:
        email = f"{random_name('nobody')}@example.com"
        prelogin = client.call({"a": "us0", "user": email})
        assert prelogin["v"] in (1, 2)
        if prelogin["v"] == 2:
            assert len(crypto.b64decode(prelogin["s"])) == 32
            # stable, so that asking twice does not reveal that the account does not exist
            assert client.call({"a": "us0", "user": email}) == prelogin
        with pytest.raises(ApiError) as caught:
            client.login(email, "whatever")
        assert caught.value.code == -9


def test_session_resumes_with_sid_and_master_key_alone(server: Server, client: Client) -> None:
    root = client.fetch().root().handle
    folder = client.mkdir(root, "made before the resume")
    assert client.sid is not None and client.master_key is not None
    with Client(server.api_url, sid=client.sid, master_key=client.master_key) as resumed:
        tree = resumed.fetch()
        assert tree.nodes[folder.handle].name == "made before the resume"
        # the resumed session writes too, and the first session sees it
        resumed.mkdir(root, "made after the resume")
    assert [n.name for n in client.fetch().children(root)].count("made after the resume") == 1


def test_dead_sid_gets_bare_esid(server: Server, client: Client) -> None:
    forged = crypto.b64encode(b"\x01" * 43)
    response = client.post_cs([{"a": "uq"}], sid=forged)
    assert response.status_code == 200
    assert response.text == "-15"


def test_sml_kills_the_session(server: Server, client: Client) -> None:
    sid = client.sid
    assert client.call({"a": "uq", "strg": 1})["cstrg"] >= 0
    assert client.call({"a": "sml"}) == 0
    response = client.post_cs([{"a": "uq", "strg": 1}], sid=sid)
    assert response.text == "-15"
    # and so does every command of a batch, and sc
    assert client.post_cs([{"a": "f", "c": 1}, {"a": "ug"}], sid=sid).text == "-15"


def test_other_sessions_survive_sml(server: Server, account: Account) -> None:
    with server.client() as first, server.client() as second:
        first.login(account.email, account.password)
        second.login(account.email, account.password)
        assert first.sid != second.sid
        assert first.call({"a": "sml"}) == 0
        assert second.call({"a": "ug"})["u"] == account.user_handle


def test_two_factor_login(server: Server) -> None:
    secret = base64.b32encode(b"0123456789abcdefghij").decode("ascii")
    account = new_account(server, mfa_secret=secret)
    with server.client() as client:
        with pytest.raises(ApiError) as missing:
            client.login(account.email, account.password)
        assert missing.value.code == -26
        now = time.time()
        near = {totp(secret, now + delta) for delta in (-60, -30, 0, 30, 60)}
        wrong = next(
            code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in near
        )
        with pytest.raises(ApiError) as wrong_code:
            client.login(account.email, account.password, mfa=wrong)
        assert wrong_code.value.code == -26
        assert client.sid is None
        client.login(account.email, account.password, mfa=totp(secret))
        assert client.call({"a": "ug"})["u"] == account.user_handle


def test_two_factor_still_checks_the_password(server: Server) -> None:
    secret = base64.b32encode(b"abcdefghij0123456789").decode("ascii")
    account = new_account(server, mfa_secret=secret)
    with server.client() as client, pytest.raises(ApiError) as caught:
        client.login(account.email, account.password + "x", mfa=totp(secret))
    assert caught.value.code == -9


def test_https_with_a_self_signed_certificate(start_server: StartServer, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = start_server(tls_cert=cert, tls_key=key)
    assert server.api_url.startswith("https://127.0.0.1:")
    account = new_account(server)
    trusting = ssl.create_default_context(cafile=str(cert))
    with server.client(verify=trusting) as client:
        client.login(account.email, account.password)
        root = client.fetch().root().handle
        assert client.mkdir(root, "over tls").name == "over tls"
        data = os.urandom(200_000)
        node, encrypted = client.upload(root, "over tls.bin", data)
        info = client.download_info(node=node.handle)
        assert client.download(info["g"], encrypted.key, info["s"]) == data
    # a client that does not trust the certificate refuses to talk
    with server.client(verify=ssl.create_default_context()) as stranger, pytest.raises(httpx.ConnectError):
        stranger.call({"a": "us0", "user": account.email})
