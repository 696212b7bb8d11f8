"""Accounts and sessions: sign-up (``uc2``/``uc``), prelogin (``us0``), login (``us``), ``ug``, ``sml`` and
``whyamiblocked``.

Like MEGA's server, the emulator never sees a password or a plaintext key: a sign-up hands it the master key
wrapped with the password key, the RSA key pair (private half wrapped with the master key), and a hash of the
login secret (v2: SHA-256 of the auth key, first 16 bytes; v1: the 8-byte user hash). A login compares hashes
and answers the session id RSA-encrypted to the account's public key (``shared/mega-protocol.md`` section 4).

Accounts are confirmed at once: there is no e-mail step. ``uc`` (v1) is an emulator extension, see
``backends.mega.signup``.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backends.mega import crypto
from backends.mega.emulator import ids, totp
from backends.mega.emulator.codes import EARGS, EEXIST, EMFAREQUIRED, ENOENT, ETOOMANY, CommandError
from backends.mega.emulator.context import Caller
from backends.mega.emulator.store import Tx
from backends.mega.emulator.tree import Tree

__all__ = ["Account", "Accounts", "LoginLimiter"]

log = logging.getLogger("syncer.mega.emulator.accounts")

#: Types of the three roots every account gets at sign-up: Cloud Drive, Inbox (Vault), Rubbish Bin.
ROOT_TYPES = (2, 3, 4)
MIN_PRIVK = 256
LIMIT_WINDOW = 60.0
#: ``whyamiblocked`` answer for a blocked account: the SDK's ACCOUNT_BLOCKED_TOS_NON_COPYRIGHT, the generic
#: "terminated for a breach of the Terms of Service" (200 copyright, 400/401 business sub-user, 700 e-mail
#: verification are the others). 0 = not blocked.
BLOCKED_REASON = 300


@dataclass(frozen=True)
class Account:
    handle: str
    email: str
    name: str
    version: int
    salt: bytes | None
    auth: bytes
    k: bytes
    pubk: bytes
    privk: bytes
    mfa_secret: str | None
    created: int


_ACCOUNT_COLUMNS = "handle, email, name, version, salt, auth, k, pubk, privk, mfa_secret, created"


def _account(row: tuple[Any, ...]) -> Account:
    return Account(*row)


class LoginLimiter:
    """At most ``limit()`` logins per account in any rolling minute (0 = no limit); the rest get ETOOMANY.

    Attempts that were let through count, right or wrong password: the limit is on tries, as a guard against
    a client that logs in per operation (what gets real MEGA accounts blocked).
    """

    def __init__(self, limit: Callable[[], int], clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: dict[str, collections.deque[float]] = {}

    def allow(self, account: str) -> bool:
        limit = self._limit()
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            recent = self._attempts.setdefault(account, collections.deque())
            while recent and recent[0] <= now - LIMIT_WINDOW:
                recent.popleft()
            if len(recent) >= limit:
                return False
            recent.append(now)
            return True


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise CommandError(EARGS, "expected a non-empty string")
    return value


def _b64(value: Any, *, size: int | None = None, minimum: int = 1) -> bytes:
    try:
        raw = crypto.b64decode(_text(value))
    except ValueError:
        raise CommandError(EARGS, "not base64") from None
    if (size is not None and len(raw) != size) or len(raw) < minimum:
        raise CommandError(EARGS, "wrong length")
    return raw


class Accounts:
    """The account and session tables, and the commands that use them."""

    def __init__(
        self,
        secret: bytes,
        limiter: LoginLimiter,
        blocked: Callable[[], frozenset[str]] = lambda: frozenset(),
    ) -> None:
        #: stable per data directory: makes the fake salts of unknown e-mails the same after a restart
        self._secret = secret
        self._limiter = limiter
        self._blocked = blocked  # e-mails of blocked accounts, read on every call (a fault switch)

    # -- lookups ---------------------------------------------------------------------------------------------

    def by_handle(self, tx: Tx, handle: str) -> Account | None:
        row = tx.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE handle = ?", (handle,)).fetchone()
        return None if row is None else _account(row)

    def by_email(self, tx: Tx, email: str) -> Account | None:
        row = tx.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE email = ?", (email.lower(),)
        ).fetchone()
        return None if row is None else _account(row)

    def is_blocked(self, tx: Tx, handle: str) -> bool:
        """Whether the account is administratively blocked (the ``blocked`` fault setting)."""
        blocked = self._blocked()
        if not blocked:
            return False
        row = tx.execute("SELECT email FROM accounts WHERE handle = ?", (handle,)).fetchone()
        return row is not None and str(row[0]) in blocked

    def session_user(self, tx: Tx, sid: str) -> str | None:
        """The account handle of a live session, or None."""
        row = tx.execute("SELECT user FROM sessions WHERE sid = ?", (sid,)).fetchone()
        return None if row is None else str(row[0])

    # -- sign-up ---------------------------------------------------------------------------------------------

    def sign_up(self, tx: Tx, command: dict[str, Any]) -> str:
        """Create an account from a ``uc2`` (v2) or ``uc`` (v1) command; returns the new user handle.

        Raises CommandError: EARGS for a missing or malformed field, EEXIST for an e-mail already signed up.
        The account's three roots are created with it.
        """
        version = 2 if command.get("a") == "uc2" else 1
        try:
            email = _b64(command.get("m")).decode("utf-8").strip().lower()
            name = _b64(command.get("n")).decode("utf-8") if command.get("n") else ""
        except UnicodeDecodeError:
            raise CommandError(EARGS, "name or e-mail is not UTF-8") from None
        if "@" not in email:
            raise CommandError(EARGS, "not an e-mail address")
        k = _b64(command.get("k"), size=16)
        pubk = _b64(command.get("pubk"))
        privk = _b64(command.get("privk"), minimum=MIN_PRIVK)
        try:
            n, e = crypto.decode_public_key(pubk)
        except crypto.CryptoError:
            raise CommandError(EARGS, "pubk is not two MPIs") from None
        if n.bit_length() < 2048 or e < 3:
            raise CommandError(EARGS, "RSA keys are at least 2048 bits")
        if version == 2:
            salt: bytes | None = crypto.v2_salt(_b64(command.get("crv"), size=16))
            auth = _b64(command.get("hak"), size=16)
        else:
            salt = None
            auth = _b64(command.get("uh"), size=8)
        if self.by_email(tx, email) is not None:
            raise CommandError(EEXIST, "e-mail already signed up")
        handle = ids.new_user_handle()
        while self.by_handle(tx, handle) is not None:
            handle = ids.new_user_handle()
        now = int(time.time())
        tx.execute(
            f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (handle, email, name, version, salt, auth, k, pubk, privk, now),
        )
        for node_type in ROOT_TYPES:
            tx.execute(
                "INSERT INTO nodes (handle, owner, parent, type, attrs, key, size, ts)"
                " VALUES (?, ?, NULL, ?, '', '', 0, ?)",
                (Tree.free_handle(tx), handle, node_type, now),
            )
        log.info("account %s created (v%d)", handle, version)
        return handle

    def set_mfa_secret(self, tx: Tx, handle: str, secret: str | None) -> None:
        """Turn two-factor login on (a base32 TOTP secret) or off (None). ValueError for a bad secret."""
        if secret is not None:
            totp.decode_secret(secret)
        tx.execute("UPDATE accounts SET mfa_secret = ? WHERE handle = ?", (secret, handle))

    # -- commands --------------------------------------------------------------------------------------------

    def cmd_sign_up(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> str:
        return self.sign_up(tx, command)

    def cmd_us0(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """Prelogin: the account version and (v2) its salt. An unknown e-mail gets a stable made-up v2 salt,
        so the answer does not reveal whether the account exists; its ``us`` then fails with ENOENT."""
        email = _text(command.get("user")).strip().lower()
        account = self.by_email(tx, email)
        if account is None:
            fake = hmac.new(self._secret, b"us0:" + email.encode("utf-8"), hashlib.sha256).digest()
            return {"v": 2, "s": crypto.b64encode(fake)}
        if account.version == 1:
            return {"v": 1}
        assert account.salt is not None
        return {"v": 2, "s": crypto.b64encode(account.salt)}

    def cmd_us(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """Log in: compare the login hash, check the 2FA code, open a session and send its id RSA-encrypted.

        ``us`` without ``user`` is the SDK re-validating a resumed session (the sid on the URL). ``sek``,
        ``si`` and ``sn`` are accepted and ignored, except that ``sek`` is kept with the session and returned
        on such a re-validation. Slot errors: ENOENT (unknown e-mail or wrong password), ETOOMANY (login
        limit), EMFAREQUIRED (2FA code missing or wrong), EARGS (malformed).
        """
        sek = command.get("sek")
        if command.get("user") is None:
            return self._revalidate(tx, caller)
        email = _text(command.get("user")).strip().lower()
        account = self.by_email(tx, email)
        if account is None:
            raise CommandError(ENOENT, "no such account")
        if not self._limiter.allow(account.handle):
            log.info("login limit reached for %s", account.handle)
            raise CommandError(ETOOMANY, "too many logins")
        if not self._hash_matches(account, command.get("uh")):
            raise CommandError(ENOENT, "wrong password")
        if account.mfa_secret is not None and not totp.verify_totp(account.mfa_secret, command.get("mfa")):
            raise CommandError(EMFAREQUIRED, "two-factor code missing or wrong")
        raw_sid = ids.new_sid(account.handle)
        sid = crypto.b64encode(raw_sid)
        session_key = _b64(sek, size=16) if isinstance(sek, str) and sek else None
        tx.execute(
            "INSERT INTO sessions (sid, user, sek, created) VALUES (?, ?, ?, ?)",
            (sid, account.handle, session_key, int(time.time())),
        )
        log.info("login of %s: session %s…", account.handle, sid[:6])
        return {
            "k": crypto.b64encode(account.k),
            "u": account.handle,
            "csid": self._encrypt_sid(account, raw_sid),
            "privk": crypto.b64encode(account.privk),
            "ach": 1,
        }

    def _revalidate(self, tx: Tx, caller: Caller) -> dict[str, Any]:
        if caller.user is None or caller.sid is None:
            raise CommandError(EARGS, "us without user needs a session")
        account = self.by_handle(tx, caller.user)
        if account is None:
            raise CommandError(ENOENT, "account gone")
        answer: dict[str, Any] = {
            "k": crypto.b64encode(account.k),
            "u": account.handle,
            "privk": crypto.b64encode(account.privk),
            "ach": 1,
        }
        row = tx.execute("SELECT sek FROM sessions WHERE sid = ?", (caller.sid,)).fetchone()
        if row is not None and row[0] is not None:
            answer["sek"] = crypto.b64encode(bytes(row[0]))
        return answer

    @staticmethod
    def _hash_matches(account: Account, user_hash: Any) -> bool:
        try:
            given = crypto.b64decode(_text(user_hash))
        except (ValueError, CommandError):
            return False
        if account.version == 2:
            given = crypto.hashed_auth_key(given)
        return hmac.compare_digest(given, account.auth)

    @staticmethod
    def _encrypt_sid(account: Account, raw_sid: bytes) -> str:
        """Raw RSA of sid ‖ random padding, as long as the modulus minus two bytes (what clients decrypt)."""
        n, e = crypto.decode_public_key(account.pubk)
        size = (n.bit_length() + 7) // 8 - 2
        plaintext = raw_sid + os.urandom(size - len(raw_sid))
        return crypto.b64encode(crypto.rsa_encrypt_session(n, e, plaintext))

    def cmd_ug(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """The logged-in user: handle, e-mail, name, wrapped keys, account version (and v2 salt)."""
        assert caller.user is not None
        account = self.by_handle(tx, caller.user)
        if account is None:
            raise CommandError(ENOENT, "account gone")
        answer: dict[str, Any] = {
            "u": account.handle,
            "email": account.email,
            "name": account.name,
            "k": crypto.b64encode(account.k),
            "pubk": crypto.b64encode(account.pubk),
            "privk": crypto.b64encode(account.privk),
            "since": account.created,
            "aav": account.version,
        }
        if account.salt is not None:
            answer["aas"] = crypto.b64encode(account.salt)
        return answer

    def cmd_whyamiblocked(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Why this session's account is blocked: ``BLOCKED_REASON``, or 0 when it is not (the SDK then
        unblocks its client). The one command a blocked account's session may still send (see api.py)."""
        assert caller.user is not None
        return BLOCKED_REASON if self.is_blocked(tx, caller.user) else 0

    def cmd_sml(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Log out: the session id answers ESID from now on."""
        tx.execute("DELETE FROM sessions WHERE sid = ?", (caller.sid,))
        log.info("logout of %s: session %s…", caller.user, (caller.sid or "")[:6])
        return 0
