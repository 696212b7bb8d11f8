"""``backends.mega.session``: login, the session cache, re-login on ESID and logout, against the emulator.

Every test talks to a real emulator over sockets, except the ``tsid`` one (the emulator only makes RSA
accounts). ``CountingApi`` records the commands sent, so tests can assert how many logins (``us``) happened.
No test sleeps: the transport's sleep is replaced by one that records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from protocol_client import Account, Server, StartServer, new_account

from backends import errors as be
from backends.mega import crypto
from backends.mega.api import Json, MegaApi
from backends.mega.errors import SessionExpired, code_of
from backends.mega.session import Credentials, Session, SessionCache, login, logout, open_session

pytestmark = pytest.mark.timeout(120)


class CountingApi(MegaApi):
    """A MegaApi that records the name of every command it sends (thread-safe)."""

    def __init__(self, api_url: str, **kwargs: Any) -> None:
        options: dict[str, Any] = {
            "max_attempts": 3,
            "backoff_base": 0.001,
            "sleep": lambda _: None,
            "timeout": 20.0,
            **kwargs,
        }
        super().__init__(api_url, **options)
        self.sent: list[str] = []
        self._sent_lock = threading.Lock()

    def request(self, commands: Sequence[Mapping[str, Json]]) -> list[Json]:
        with self._sent_lock:
            self.sent.extend(str(command.get("a")) for command in commands)
        return super().request(commands)

    def __enter__(self) -> CountingApi:
        return self

    def logins(self) -> int:
        return self.sent.count("us")


def totp(secret_b32: str, at: float | None = None) -> str:
    """RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits), as in test_protocol_login."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**6).zfill(6)


def creds_of(account: Account, **kwargs: Any) -> Credentials:
    return Credentials(account.email, account.password, **kwargs)


def fetch_root(api: MegaApi) -> str:
    nodes = api.call({"a": "f", "c": 1})["f"]
    return str(next(node["h"] for node in nodes if node["t"] == 2))


def is_dead(server: Server, sid: str) -> bool:
    with CountingApi(server.api_url, sid=sid) as probe:
        try:
            probe.call({"a": "uq"})
        except SessionExpired:
            return True
    return False


def kill(server: Server, sid: str) -> None:
    """What another client logging this session out (or MEGA expiring it) looks like to us."""
    with CountingApi(server.api_url, sid=sid) as other:
        assert other.call({"a": "sml"}) == 0


# -- login ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 1])
def test_login_decrypts_the_session(server: Server, version: int) -> None:
    account = new_account(server, version=version)
    with CountingApi(server.api_url) as api:
        session = login(api, Credentials(account.email.upper(), account.password))
        assert api.sent == ["us0", "us"] and api.sid == session.sid
        assert session.user_handle == account.user_handle and session.email == account.email
        raw = crypto.b64decode(session.sid)
        assert len(raw) == 43 and raw[16:27].decode() == account.user_handle
        assert len(session.master_key) == 16 and session.private_key is not None
        assert fetch_root(api)
        shown = repr(session)
        assert session.sid not in shown and crypto.b64encode(session.master_key) not in shown
        assert str(session.master_key) not in shown and "RsaPrivateKey" not in shown


def test_credentials_repr_hides_the_password_and_code() -> None:
    creds = Credentials("me@example.com", "hunter2-secret", mfa="123456")
    assert "hunter2-secret" not in repr(creds) and "123456" not in repr(creds)
    assert "me@example.com" in repr(creds)


@pytest.mark.parametrize("version", [2, 1])
def test_wrong_password_is_a_clear_auth_error(server: Server, version: int) -> None:
    account = new_account(server, version=version)
    wrong = account.password + "-Wr0ng"
    with CountingApi(server.api_url) as api, pytest.raises(be.AuthError) as caught:
        login(api, Credentials(account.email, wrong))
    error = caught.value
    assert "wrong e-mail or password" in str(error) and "ENOENT" in str(error)
    assert error.fatal and not error.retryable and "\n" not in str(error)
    for text in (str(error), repr(error)):
        assert wrong not in text and account.password not in text


def test_unknown_email_is_the_same_error(server: Server) -> None:
    with CountingApi(server.api_url) as api, pytest.raises(be.AuthError, match="wrong e-mail or password"):
        login(api, Credentials("nobody-here@example.com", "whatever"))


def test_two_factor(server: Server) -> None:
    secret = base64.b32encode(b"session-2fa-secret!!").decode("ascii")
    account = new_account(server, mfa_secret=secret)
    with CountingApi(server.api_url) as api:
        with pytest.raises(be.AuthError, match="--mega-2fa") as missing:
            login(api, creds_of(account))
        assert "EMFAREQUIRED" in str(missing.value) and "needs a two-factor code" in str(missing.value)
        near = {totp(secret, offset) for offset in _near_times()}
        wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in near)
        with pytest.raises(be.AuthError, match="refused the two-factor code") as refused:
            login(api, creds_of(account, mfa=wrong))
        assert "--mega-2fa" in str(refused.value) and wrong not in repr(creds_of(account, mfa=wrong))
        session = login(api, creds_of(account, mfa=totp(secret)))
        assert session.user_handle == account.user_handle and fetch_root(api)


def _near_times() -> list[float]:
    now = time.time()
    return [now + delta for delta in (-60, -30, 0, 30, 60)]


def test_too_many_logins_says_so(start_server: StartServer) -> None:
    server = start_server(login_limit=1)
    account = new_account(server)
    with CountingApi(server.api_url) as api:
        login(api, creds_of(account))
        with pytest.raises(be.AuthError) as caught:
            login(api, creds_of(account))
    message = str(caught.value)
    assert "MEGA refuses logins for now: too many logins in a short time" in message and "ETOOMANY" in message
    assert code_of(caught.value) == -6 and not caught.value.retryable


def test_blocked_account_is_fatal_and_names_eblocked(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(blocked=["blocked-session@example.com"])
    server.emulator.add_account("blocked-session@example.com", "pw-blocked")
    with CountingApi(server.api_url) as api:
        open_session(api, Credentials("blocked-session@example.com", "pw-blocked"), SessionCache(tmp_path))
        with pytest.raises(be.AuthError, match="EBLOCKED") as caught:
            api.call({"a": "f", "c": 1})
        assert caught.value.fatal and not isinstance(caught.value, SessionExpired)
        assert api.logins() == 1  # no re-login attempts on a blocked account


class CannedApi(MegaApi):
    """Answers us0/us from a script, for the ``tsid`` login the emulator does not make."""

    def __init__(self, answers: dict[str, Json]) -> None:
        super().__init__("http://127.0.0.1:9/")
        self.answers = answers

    def request(self, commands: Sequence[Mapping[str, Json]]) -> list[Json]:
        return [self.answers[str(command["a"])] for command in commands]


def test_tsid_login_checks_the_temporary_session() -> None:
    salt, master_key, r = os.urandom(32), os.urandom(16), os.urandom(16)
    password_key, _ = crypto.derive_v2("pw", salt)
    tsid = r + b"ABEiM0RVZnc" + crypto.aes_ecb_encrypt(master_key, r)
    answers: dict[str, Json] = {
        "us0": {"v": 2, "s": crypto.b64encode(salt)},
        "us": {
            "k": crypto.b64encode(crypto.aes_ecb_encrypt(password_key, master_key)),
            "u": "ABEiM0RVZnc",
            "tsid": crypto.b64encode(tsid),
        },
    }
    with CannedApi(answers) as api:
        session = login(api, Credentials("t@example.com", "pw"))
        assert session.sid == crypto.b64encode(tsid) and session.private_key is None
        assert session.master_key == master_key
        answers["us"]["tsid"] = crypto.b64encode(tsid[:-1] + bytes([tsid[-1] ^ 1]))
        with pytest.raises(be.AuthError, match="tsid"):
            login(api, Credentials("t@example.com", "pw"))


# -- cache ---------------------------------------------------------------------------------------------------


def test_cache_file_is_private_and_round_trips(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path / "state")
    with CountingApi(server.api_url) as api:
        session = open_session(api, creds_of(account), cache)
    path = cache.path(server.api_url, account.email)
    assert path.parent == tmp_path / "state" / "mega" / "sessions"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert account.email not in path.name and "example" not in path.name
    text = path.read_text()
    assert account.password not in text
    assert json.loads(text)["sid"] == session.sid
    assert cache.load(server.api_url, account.email.upper()) == session
    assert cache.load(server.api_url + "other/", account.email) is None
    cache.forget(server.api_url, account.email)
    assert not path.exists() and cache.load(server.api_url, account.email) is None
    cache.forget(server.api_url, account.email)  # forgetting twice is fine


def test_corrupt_cache_is_ignored_and_replaced(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    path = cache.path(server.api_url, account.email)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with CountingApi(server.api_url) as api:
        session = open_session(api, creds_of(account), cache)
        assert api.logins() == 1
    assert cache.load(server.api_url, account.email) == session


def test_fifty_opens_log_in_once(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(login_limit=1)  # a second login would be refused with ETOOMANY
    account = new_account(server)
    cache = SessionCache(tmp_path)
    logins = 0
    sids = set()
    for _ in range(50):
        with CountingApi(server.api_url) as api:
            session = open_session(api, creds_of(account), cache)
            assert fetch_root(api)
            logins += api.logins()
            sids.add(session.sid)
    assert logins == 1 and len(sids) == 1


# -- re-login and logout -------------------------------------------------------------------------------------


def test_killed_session_logs_in_again_once(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    with CountingApi(server.api_url) as api:
        first = open_session(api, creds_of(account), cache)
        kill(server, first.sid)
        assert fetch_root(api)
        assert api.logins() == 2 and api.sid != first.sid
        cached = cache.load(server.api_url, account.email)
        assert cached is not None and cached.sid == api.sid and cached.master_key == first.master_key
        assert fetch_root(api) and api.logins() == 2
    # the next run resumes the new session without logging in
    with CountingApi(server.api_url) as again:
        assert open_session(again, creds_of(account), cache).sid == cached.sid
        assert fetch_root(again) and again.logins() == 0


def test_concurrent_esid_logs_in_once(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    with CountingApi(server.api_url) as api:
        first = open_session(api, creds_of(account), cache)
        kill(server, first.sid)
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                barrier.wait()
                api.call({"a": "uq"})
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and api.logins() == 2


def test_two_apis_sharing_a_cache_log_in_once(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    with CountingApi(server.api_url) as one, CountingApi(server.api_url) as two:
        first = open_session(one, creds_of(account), cache)
        open_session(two, creds_of(account), cache)
        kill(server, first.sid)
        assert fetch_root(one) and fetch_root(two)
        assert one.logins() + two.logins() == 2 and one.sid == two.sid


def test_logout_kills_the_session_and_forgets_it(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    with CountingApi(server.api_url) as api:
        session = open_session(api, creds_of(account), cache)
        logout(api, session, cache)
        assert api.sid is None and api.relogin is None
    assert cache.load(server.api_url, account.email) is None
    assert not cache.path(server.api_url, account.email).exists()
    assert is_dead(server, session.sid)


def test_logout_of_a_dead_session_still_forgets(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    with CountingApi(server.api_url) as api:
        session = open_session(api, creds_of(account), cache)
        kill(server, session.sid)
        logout(api, session, cache)
        assert api.logins() == 1  # no login just to log out
    assert cache.load(server.api_url, account.email) is None


def test_session_equality_survives_the_cache(server: Server, account: Account, tmp_path: Path) -> None:
    cache = SessionCache(tmp_path)
    with CountingApi(server.api_url) as api:
        session = login(api, creds_of(account))
    cache.save(server.api_url, session)
    loaded = cache.load(server.api_url, account.email)
    assert isinstance(loaded, Session) and loaded == session
