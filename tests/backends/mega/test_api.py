"""``backends.mega.api.MegaApi`` against the real emulator over sockets, and ``backends.mega.errors``.

No test sleeps: ``MegaApi`` gets a sleep that records the delays (and, where a test needs the fault to clear
mid-way, switches the emulator's fault off from inside that sleep), and a ``random`` of 1.0 so the jitter is
at its ceiling and the delays are predictable.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from protocol_client import Account, Client, Server, StartServer, new_account, random_name

from backends import errors as be
from backends.mega import crypto
from backends.mega.api import MegaApi
from backends.mega.errors import CODES, SequenceTooOld, SessionExpired, code_of, translate

pytestmark = pytest.mark.timeout(60)

BASE, CAP = 0.001, 0.004


@dataclass
class Sleeps:
    """An injected ``sleep``: records each delay and runs ``hook`` (given the count so far), never waits."""

    delays: list[float] = field(default_factory=list)
    hook: Callable[[int], None] | None = None

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.hook is not None:
            self.hook(len(self.delays))


def make_api(api_url: str, sleeps: Sleeps, **kwargs: Any) -> MegaApi:
    options: dict[str, Any] = {
        "max_attempts": 5,
        "backoff_base": BASE,
        "backoff_cap": CAP,
        "sleep": sleeps,
        "random": lambda: 1.0,
        "timeout": 10.0,
        **kwargs,
    }
    return MegaApi(api_url, **options)


def login(api: MegaApi, account: Account) -> str:
    """us0 + us through ``api`` (v2 accounts), returning the decrypted session id; ``api.sid`` is set too."""
    email = account.email.lower()
    pre = api.call({"a": "us0", "user": email})
    password_key, auth_key = crypto.derive_v2(account.password, crypto.b64decode(pre["s"]))
    answer = api.call({"a": "us", "user": email, "uh": crypto.b64encode(auth_key)})
    master_key = crypto.aes_ecb_decrypt(password_key, crypto.b64decode(answer["k"]))
    private_key = crypto.decode_private_key(
        crypto.aes_ecb_decrypt(master_key, crypto.b64decode(answer["privk"]))
    )
    sid = crypto.decrypt_session_id(private_key, answer["csid"])
    api.sid = sid
    return sid


def assert_backoff(delays: list[float]) -> None:
    """Exponential up to the cap, never above it (random() = 1.0 puts full jitter at its ceiling)."""
    assert delays, "no backoff happened"
    assert all(0 < d <= CAP for d in delays), delays
    assert delays == sorted(delays), delays
    assert delays[0] == pytest.approx(BASE)
    if len(delays) >= 3:
        assert delays[1] == pytest.approx(2 * BASE) and delays[-1] == pytest.approx(CAP)


# -- errors.py ---------------------------------------------------------------------------------------------

EXPECTED: dict[int, type[be.BackendError]] = {
    -1: be.TransientError,
    -3: be.TransientError,
    -4: be.RateLimited,
    -6: be.RateLimited,
    -8: be.TransientError,
    -9: be.NotFound,
    -11: be.PermissionDenied,
    -12: be.AlreadyExists,
    -14: be.IntegrityError,
    -15: SessionExpired,
    -16: be.AuthError,
    -17: be.QuotaExceeded,
    -18: be.TransientError,
    -19: be.RateLimited,
    -22: be.AuthError,
    -24: be.QuotaExceeded,
    -25: be.TransientError,
    -26: be.AuthError,
    -27: be.PermissionDenied,
    -28: be.AuthError,
    -29: be.QuotaExceeded,
    -30: be.PermissionDenied,
    -401: be.QuotaExceeded,
}
PLAIN = [-2, -5, -7, -10, -13, -20, -21, -23, -400]


def test_every_listed_code_has_an_intended_class() -> None:
    assert set(CODES) == set(EXPECTED) | set(PLAIN)


@pytest.mark.parametrize("code", sorted(CODES))
def test_translate_maps_each_code(code: int) -> None:
    error = translate(code, "p")
    expected = EXPECTED.get(code, be.BackendError)
    assert type(error) is expected
    assert f"({CODES[code].name})" in str(error) and "'p'" in str(error)
    assert code_of(error) == code


def test_translate_flags_and_messages() -> None:
    assert str(translate(-17)) == "quota exceeded (EOVERQUOTA)"
    assert str(translate(-2)) == "invalid arguments (EARGS)"
    for code in (-3, -4, -18, -19):
        assert translate(code).retryable
    for code in (-16, -17, -24, -26):
        assert translate(code).fatal
    blocked = translate(-16)
    assert isinstance(blocked, be.AuthError) and not isinstance(blocked, SessionExpired)
    assert isinstance(
        translate(-15), be.AuthError
    )  # without a relogin, ESID is as good as refused credentials
    assert not translate(-9).fatal and not translate(-11).retryable


def test_enoent_at_login_is_refused_credentials() -> None:
    error = translate(-9, "us")
    assert isinstance(error, be.AuthError) and "ENOENT" in str(error) and "password" in str(error)
    assert isinstance(translate(-9, "f"), be.NotFound)


def test_unknown_code_is_a_plain_error_with_its_number() -> None:
    error = translate(-12345, "xyz")
    assert type(error) is be.BackendError and "-12345" in str(error) and code_of(error) == -12345
    assert code_of(ValueError()) is None


# -- requests against the emulator -----------------------------------------------------------------------


def test_batch_returns_slot_errors_and_call_raises_them(server: Server, account: Account) -> None:
    with make_api(server.api_url, Sleeps()) as api:
        login(api, account)
        quota, missing, unknown = api.request(
            [{"a": "uq"}, {"a": "m", "n": "AAAAAAAA", "t": "BBBBBBBB"}, {"a": "no-such-command"}]
        )
        assert isinstance(quota, dict)
        assert missing == -9 and unknown == -2
        with pytest.raises(be.NotFound, match="ENOENT"):
            api.call({"a": "m", "n": "AAAAAAAA", "t": "BBBBBBBB"})
        with pytest.raises(be.BackendError, match=r"invalid arguments \(EARGS\)"):
            api.call({"a": "no-such-command"})
        assert api.request([]) == []


def test_wrong_password_is_an_auth_error(server: Server, account: Account) -> None:
    with make_api(server.api_url, Sleeps()) as api, pytest.raises(be.AuthError, match="ENOENT"):
        login(api, Account(account.email, "wrong", account.user_handle))


def test_bare_esid_without_relogin_raises_session_expired(server: Server) -> None:
    with make_api(server.api_url, Sleeps(), sid="not-a-session") as api, pytest.raises(SessionExpired):
        api.call({"a": "uq"})


def test_esid_logs_in_again_once(server: Server, account: Account) -> None:
    calls: list[str] = []

    def relogin() -> str:
        calls.append("relogin")
        with make_api(server.api_url, Sleeps()) as other:
            return login(other, account)

    with make_api(server.api_url, Sleeps(), sid="expired-session", relogin=relogin) as api:
        assert isinstance(api.call({"a": "uq"}), dict)
        assert calls == ["relogin"]
        assert api.sid not in (None, "expired-session")


def test_a_second_esid_raises(server: Server) -> None:
    calls: list[str] = []

    def relogin() -> str:
        calls.append("relogin")
        return "still-not-a-session"

    with make_api(server.api_url, Sleeps(), sid="expired", relogin=relogin) as api:
        with pytest.raises(SessionExpired, match="ESID"):
            api.call({"a": "uq"})
        assert calls == ["relogin"]


def test_blocked_account_is_fatal(start_server: StartServer) -> None:
    server = start_server(blocked=["blocked@example.com"])
    server.emulator.add_account("blocked@example.com", "pw-blocked")
    relogins: list[str] = []

    def relogin() -> str:
        relogins.append("relogin")
        return ""

    with make_api(server.api_url, Sleeps(), relogin=relogin) as api:
        login(api, Account("blocked@example.com", "pw-blocked", ""))  # MEGA lets blocked accounts log in
        with pytest.raises(be.AuthError, match="EBLOCKED") as raised:
            api.call({"a": "uq"})
        assert raised.value.fatal and not isinstance(raised.value, SessionExpired)
        assert relogins == []


# -- retries -------------------------------------------------------------------------------------------------


def test_eagain_retries_then_gives_up(start_server: StartServer) -> None:
    server = start_server(eagain_rate=1.0)
    sleeps = Sleeps()
    with make_api(server.api_url, sleeps, max_attempts=6) as api:
        with pytest.raises(be.TransientError, match=r"EAGAIN.*6 attempts") as raised:
            api.call({"a": "us0", "user": "someone@example.com"})
        assert code_of(raised.value) == -3
    assert len(sleeps.delays) == 5
    assert_backoff(sleeps.delays)


def test_eagain_half_the_time_succeeds(start_server: StartServer) -> None:
    server = start_server(seed=7, eagain_rate=0.5)
    account = new_account(server)
    sleeps = Sleeps()
    with make_api(server.api_url, sleeps, max_attempts=12) as api:
        login(api, account)
        root = next(node["h"] for node in api.call({"a": "f", "c": 1})["f"] if node["t"] == 2)
        assert isinstance(root, str)
        assert isinstance(api.call({"a": "uq"}), dict)
    assert sleeps.delays, "the seeded dice never said EAGAIN"


def test_ratelimit_retries_then_raises_rate_limited(start_server: StartServer) -> None:
    server = start_server(ratelimit_rate=1.0)
    sleeps = Sleeps()
    with make_api(server.api_url, sleeps) as api, pytest.raises(be.RateLimited, match="ERATELIMIT"):
        api.call({"a": "us0", "user": "someone@example.com"})
    assert len(sleeps.delays) == 4
    assert_backoff(sleeps.delays)


def test_http_500_is_retried_until_it_clears(start_server: StartServer) -> None:
    server = start_server(http500_rate=1.0)

    def clear(count: int) -> None:
        if count == 3:
            server.emulator.set_faults(http500_rate=0.0)

    sleeps = Sleeps(hook=clear)
    with make_api(server.api_url, sleeps) as api:
        assert api.call({"a": "us0", "user": "someone@example.com"})["v"] in (1, 2)
    assert len(sleeps.delays) == 3
    assert_backoff(sleeps.delays)


def test_http_500_gives_up_as_transient(start_server: StartServer) -> None:
    server = start_server(http500_rate=1.0)
    with (
        make_api(server.api_url, Sleeps(), max_attempts=3) as api,
        pytest.raises(be.TransientError, match=r"HTTP 500.*3 attempts"),
    ):
        api.call({"a": "us0", "user": "someone@example.com"})


@pytest.mark.parametrize("mode", ["login", "all"])
def test_hashcash_is_solved_transparently(start_server: StartServer, mode: str) -> None:
    server = start_server(hashcash=mode, hashcash_easiness=255)
    account = new_account(server)
    sleeps = Sleeps()
    with make_api(server.api_url, sleeps) as api:
        login(api, account)
        assert api.call({"a": "ug"})["email"] == account.email
    assert sleeps.delays == []  # a solved challenge is resent at once


# -- dropped connections and timeouts, on a tiny local server ------------------------------------------------


@dataclass
class FlakyServer:
    """An HTTP/1.1 server on a raw socket: the first ``failures`` connections are closed unanswered (or left
    hanging when ``stall``), later ones answer ``[0]``. Records each request's target and body."""

    failures: int
    stall: bool = False
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    listener: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        with conn:
            target, body = self.read_request(conn)
            with self.lock:
                self.requests.append((target, body))
                failing = len(self.requests) <= self.failures
            if failing:
                if self.stall:  # hang until the test ends: the client's read timeout must fire
                    self.release.wait(10)
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
                b"Connection: close\r\n\r\n[0]"
            )

    @staticmethod
    def read_request(conn: socket.socket) -> tuple[str, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return "", b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(
            (int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0
        )
        while len(body) < length:
            body += conn.recv(65536)
        return lines[0].split(" ")[1], body


@pytest.fixture
def flaky() -> Iterator[Callable[..., FlakyServer]]:
    started: list[FlakyServer] = []

    def start(failures: int, *, stall: bool = False) -> FlakyServer:
        one = FlakyServer(failures, stall)
        threading.Thread(target=one.serve, daemon=True).start()
        started.append(one)
        return one

    yield start
    for one in started:
        one.release.set()
        one.listener.close()


def test_a_dropped_connection_is_retried_with_the_same_id_and_body(
    flaky: Callable[..., FlakyServer],
) -> None:
    server = flaky(2)
    sleeps = Sleeps()
    with make_api(server.url, sleeps, sid="s3cret") as api:
        assert api.call({"a": "uq", "x": 1}) == 0
    assert len(server.requests) == 3
    assert len({request for request in server.requests}) == 1  # same target (id, sid) and body each time
    target, body = server.requests[0]
    assert target.startswith("/cs?id=") and "sid=s3cret" in target
    assert json.loads(body) == [{"a": "uq", "x": 1}]
    assert_backoff(sleeps.delays)


def test_connections_that_keep_dropping_raise_connection_error(flaky: Callable[..., FlakyServer]) -> None:
    server = flaky(100)
    with (
        make_api(server.url, Sleeps(), max_attempts=3) as api,
        pytest.raises(be.ConnectionError, match="3 attempts") as raised,
    ):
        api.call({"a": "uq"})
    assert isinstance(raised.value.__cause__, httpx.TransportError)
    assert raised.value.retryable and len(server.requests) == 3


def test_a_timeout_is_retried(flaky: Callable[..., FlakyServer]) -> None:
    server = flaky(1, stall=True)
    with make_api(server.url, Sleeps(), timeout=0.3) as api:
        assert api.call({"a": "uq"}) == 0
    assert len(server.requests) == 2


def test_request_ids_advance_per_request(flaky: Callable[..., FlakyServer]) -> None:
    server = flaky(0)
    with make_api(server.url, Sleeps()) as api:
        api.call({"a": "uq"})
        api.call({"a": "uq"})
    first, second = (int(target.split("id=")[1].split("&")[0]) for target, _ in server.requests)
    assert second == (first + 1) % 2**32


# -- secrets stay out of the logs ----------------------------------------------------------------------------


def test_sid_is_never_logged(server: Server, account: Account, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with make_api(server.api_url, Sleeps()) as api:
        sid = login(api, account)
        api.call({"a": "uq"})
    assert "uq" in caplog.text and "<redacted>" in caplog.text
    assert sid not in caplog.text and account.password not in caplog.text


# -- the sc channel ------------------------------------------------------------------------------------------


def sn_and_root(api: MegaApi) -> tuple[str, str]:
    tree = api.call({"a": "f", "c": 1})
    return str(tree["sn"]), next(str(node["h"]) for node in tree["f"] if node["t"] == 2)


def test_wait_for_packets_sees_a_change_from_another_client(server: Server, client: Client) -> None:
    with make_api(server.api_url, Sleeps(), sid=client.sid) as api:
        sn, root = sn_and_root(api)
        name = random_name("sc")
        timer = threading.Timer(0.3, lambda: client.mkdir(root, name))
        timer.start()
        try:
            answer = api.wait_for_packets(sn, timeout=15)
        finally:
            timer.join()
        assert [packet["a"] for packet in answer["a"]] == ["t"]
        assert answer["sn"] != sn


def test_wait_for_packets_times_out_empty(server: Server, client: Client) -> None:
    with make_api(server.api_url, Sleeps(), sid=client.sid) as api:
        sn, _ = sn_and_root(api)
        assert api.wait_for_packets(sn, timeout=0.3) == {"a": [], "sn": sn}


def test_sc_retries_http_500_and_reports_a_stale_sn(start_server: StartServer) -> None:
    server = start_server()
    account = new_account(server)
    sleeps = Sleeps(hook=lambda count: server.emulator.set_faults(http500_rate=0.0) if count == 2 else None)
    with make_api(server.api_url, sleeps) as api:
        login(api, account)
        sn, _ = sn_and_root(api)
        server.emulator.set_faults(http500_rate=1.0)
        answer = api.sc_poll(sn)
        assert answer["sn"] == sn and "w" in answer
        assert len(sleeps.delays) == 2
        with pytest.raises(SequenceTooOld):
            api.sc_poll(crypto.b64encode(b"\xff" * 8))
