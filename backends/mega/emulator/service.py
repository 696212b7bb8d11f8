"""``Emulator``: a local MEGA-compatible server, assembled from the store, the command handlers and HTTP.

It speaks MEGA's real protocol with MEGA's real client-side cryptography, so independent MEGA clients
(rclone through go-mega, mega.py, megajs, our own backend) can use it; it never offers a shortcut the real
service does not have. Its own accounts are made by the same client-side sign-up arithmetic a MEGA app runs
(``backends.mega.signup``), so the server keeps only what MEGA's server would. Accounts are confirmed at once:
there is no e-mail step.

Routes (paths relative to the API URL)::

    POST /cs?id=..[&sid=..|&n=..]       command batches (api.py)
    GET|POST /sc, /wsc, /sc/wsc         action packets (actions.py)
    GET|POST /wait/<ticket>             the long poll an ``sc`` answer's ``w`` points at
    POST /ul/<upload>/<offset>          upload pieces (transfers.py)
    GET /dl/<token>[/<start>-<end>]     downloads

With a certificate the API is HTTPS and a second, plain-HTTP listener serves the transfer paths, because
MEGA's transfer URLs are ``http://`` unless a client asks for ``ssl=2``.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import threading
from types import TracebackType
from typing import Any

from backends.mega.emulator.accounts import Accounts, LoginLimiter
from backends.mega.emulator.actions import ActionLog
from backends.mega.emulator.api import MAX_BODY, Api, Reply
from backends.mega.emulator.codes import EEXIST, CommandError
from backends.mega.emulator.context import Urls
from backends.mega.emulator.faults import Faults
from backends.mega.emulator.httpd import Exchange, HttpServer
from backends.mega.emulator.links import Links
from backends.mega.emulator.nodes import Nodes
from backends.mega.emulator.settings import EmulatorSettings
from backends.mega.emulator.store import Store
from backends.mega.emulator.transfers import Downloads, Uploads
from backends.mega.emulator.tree import Tree
from backends.mega.signup import signup_command

__all__ = ["AccountExists", "Emulator"]

log = logging.getLogger("syncer.mega.emulator")

_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class AccountExists(ValueError):
    """``add_account`` for an e-mail that already has an account."""


class Emulator:
    """One emulator over one data directory. Usable as a context manager (starts on enter, stops on exit).

    Raises ``store.StoreLocked`` when another emulator uses the data directory.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self._faults = Faults(settings)
        self._store = Store(settings.data_dir)
        with self._store.transaction() as tx:
            secret_hex = Store.get_meta(tx, "secret")
            if secret_hex is None:
                secret_hex = secrets.token_hex(32)
                Store.set_meta(tx, "secret", secret_hex)
        secret = bytes.fromhex(secret_hex)
        self._actions = ActionLog()
        self._accounts = Accounts(
            secret,
            LoginLimiter(lambda: self._faults.settings.login_limit),
            blocked=lambda: self._faults.settings.blocked,
        )
        tree = Tree(self._actions)
        self._nodes = Nodes(
            self._store,
            tree,
            self._actions,
            quota=lambda: self._faults.settings.quota,
            attach_upload=lambda tx, user, token: self._uploads.attach(tx, user, token),
        )
        self._uploads = Uploads(self._store, self._faults, self._nodes)
        self._downloads = Downloads(self._store, self._faults, tree, secret)
        self._api = Api(
            self._store,
            self._faults,
            self._accounts,
            self._nodes,
            Links(tree),
            self._uploads,
            self._downloads,
            self._actions,
        )
        self._main: HttpServer | None = None
        self._plain: HttpServer | None = None
        self._closed = False
        self._served = {"http": 0, "https": 0}
        self._served_lock = threading.Lock()

    # -- life cycle ------------------------------------------------------------------------------------------

    @property
    def settings(self) -> EmulatorSettings:
        """The settings in force (faults included, as last changed by ``set_faults``)."""
        return self._faults.settings

    @property
    def api_url(self) -> str:
        """``http(s)://HOST:PORT/`` once started."""
        if self._main is None:
            raise RuntimeError("the emulator is not started")
        scheme = "https" if self._main.tls else "http"
        host = self.settings.host
        return f"{scheme}://{_url_host('127.0.0.1' if host in _WILDCARD_HOSTS else host)}:{self._main.port}/"

    def start(self) -> str:
        """Listen and serve in background threads; returns the API URL (idempotent).

        OSError when the address cannot be bound, ssl.SSLError / OSError for an unusable certificate; the
        emulator then serves nothing (``stop`` still closes its store).
        """
        if self._closed:
            raise RuntimeError("the emulator was stopped")
        if self._main is None:
            settings = self.settings
            tls = None
            if settings.tls_cert is not None:
                tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                tls.load_cert_chain(settings.tls_cert, settings.tls_key)
            main = HttpServer(settings.host, settings.port, self, tls)
            try:
                if tls is not None:
                    self._plain = HttpServer(settings.host, 0, _TransferRoutes(self))
                    self._plain.start()
            except BaseException:
                main.stop()
                raise
            self._main = main
            main.start()
            log.info("MEGA emulator serving %s (data in %s)", self.api_url, settings.data_dir)
        return self.api_url

    def stop(self) -> None:
        """Stop serving, release long polls and connections, close the store (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._actions.stop()
        for server in (self._main, self._plain):
            if server is not None:
                server.stop()
        self._store.close()
        log.info("MEGA emulator stopped")

    def __enter__(self) -> Emulator:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # -- administration --------------------------------------------------------------------------------------

    def add_account(self, email: str, password: str, version: int = 2, mfa_secret: str | None = None) -> str:
        """Sign up an account the way a MEGA app does (client-side keys, then ``uc2``/``uc``); returns its
        user handle. ``mfa_secret`` (base32) turns on two-factor login. AccountExists if the e-mail is taken,
        ValueError for a bad version or secret."""
        command = signup_command(email, password, version=version)
        try:
            with self._store.transaction() as tx:
                handle = self._accounts.sign_up(tx, command)
                if mfa_secret is not None:
                    self._accounts.set_mfa_secret(tx, handle, mfa_secret)
        except CommandError as error:
            if error.code == EEXIST:
                raise AccountExists(f"{email.lower()} already has an account") from None
            raise ValueError(f"sign-up refused: {error.reason} ({error.code})") from None
        return handle

    def has_account(self, email: str) -> bool:
        with self._store.transaction() as tx:
            return self._accounts.by_email(tx, email) is not None

    def set_faults(self, **changes: Any) -> None:
        """Change fault settings while running (any of ``settings.FAULT_FIELDS``). ValueError otherwise."""
        self._faults.update(**changes)

    def faults_injected(self) -> dict[str, int]:
        """How many faults of each kind were injected since start (``"cs:eagain"``, ``"upload:drop"``, ...;
        kinds never injected are absent)."""
        return self._faults.injected()

    def transfers_served(self) -> dict[str, int]:
        """Transfer requests (upload pieces and downloads) served since start, by scheme (``http``,
        ``https``): what shows whether a client asked for ``ssl=2`` URLs."""
        with self._served_lock:
            return dict(self._served)

    # -- routing ---------------------------------------------------------------------------------------------

    def _urls(self, ex: Exchange) -> Urls:
        assert self._main is not None
        host = self.settings.host
        if host in _WILDCARD_HOSTS:
            host = _host_of(ex.host_header) or "127.0.0.1"
        host = _url_host(host)
        main = f"{'https' if self._main.tls else 'http'}://{host}:{self._main.port}/"
        if self._plain is None:
            return Urls(main, main)
        return Urls(main, f"http://{host}:{self._plain.port}/", main)

    def handle(self, ex: Exchange) -> None:
        """Route one request (the HttpServer calls this from a connection thread)."""
        path = ex.path
        if path == "/cs":
            if ex.method != "POST":
                ex.reply(405, b"", content_type="text/plain", headers={"Allow": "POST"})
                return
            body = ex.read_body(MAX_BODY)
            reply = self._api.handle_cs(ex.query, body, ex.headers.get("X-Hashcash"), self._urls(ex))
            if reply.status == 200 and self._faults.roll(self.settings.drop_rate, "cs:drop"):
                # the batch ran but its answer is lost: only the request id makes a retry safe
                log.debug("drop fault: the answer to /cs id=%s is lost", ex.query.get("id"))
                ex.abort()
                return
            self._send(ex, reply)
        elif path in ("/sc", "/wsc", "/sc/wsc"):
            self._send(ex, self._api.handle_sc(ex.query, self._urls(ex)))
        elif path.startswith("/wait/"):
            ex.discard_body(1 << 16)
            self._actions.wait(path[len("/wait/") :], self.settings.sc_wait)
            ex.reply(200, b"", content_type="text/plain")
        elif not self.route_transfer(ex):
            ex.discard_body(1 << 16)
            ex.reply(404, b"", content_type="text/plain")

    def route_transfer(self, ex: Exchange) -> bool:
        """Serve an upload piece or a download; False when the path is neither."""
        parts = ex.path.split("/")
        if len(parts) == 4 and parts[1] == "ul" and ex.method in ("POST", "PUT"):
            self._count_transfer(ex)
            self._uploads.receive(ex, parts[2], parts[3])
            return True
        if len(parts) in (3, 4) and parts[1] == "dl" and ex.method in ("GET", "POST"):
            self._count_transfer(ex)
            self._downloads.send(ex, parts[2], parts[3] if len(parts) == 4 else None)
            return True
        return False

    def _count_transfer(self, ex: Exchange) -> None:
        with self._served_lock:
            self._served["https" if ex.tls else "http"] += 1

    @staticmethod
    def _send(ex: Exchange, reply: Reply) -> None:
        ex.reply(reply.status, reply.body, headers=reply.headers)


class _TransferRoutes:
    """The plain-HTTP listener of a TLS emulator: transfer paths only."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def handle(self, ex: Exchange) -> None:
        if not self._emulator.route_transfer(ex):
            ex.discard_body(1 << 16)
            ex.reply(404, b"", content_type="text/plain")


def _host_of(header: str | None) -> str | None:
    if not header:
        return None
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
