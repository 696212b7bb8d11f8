"""MEGA login, cached sessions, transparent re-login and logout (``shared/mega-protocol.md`` sections 4, 13).

Why sessions are cached: MEGA rations logins. About 90 back-to-back logins made an account refuse logins for a
week (rclone docs), so the backend logs in once, keeps the session on disk and resumes it in later runs with
no login request at all (a MEGA session is just the sid and the master key). Only when MEGA answers ESID (the
session expired or was killed) does ``open_session``'s ``relogin`` log in again, once, for all threads.

Why the cache file is not encrypted: it sits in the user's own state directory as a 0600 file in a 0700
directory (``backends/private_files.py``), like rclone's config. Whoever can read it can read the config that
holds the password too, so a key stored next to it would add nothing; a key derived from the password would
cost a PBKDF2 run per command and would not protect the sid, which alone grants access to the account. The
password itself is never written anywhere. The RSA key is kept in MEGA's own form (``privk``: wrapped with
the master key), which is also what ``ug`` returns.

Errors are one line that says why (wrong password, 2FA code needed, blocked, too many logins), never a
protocol dump and never the password: ``Credentials`` and ``Session`` keep their secrets out of ``repr``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.errors import AuthError, BackendError, IntegrityError, RateLimited
from backends.mega import crypto
from backends.mega.api import MegaApi
from backends.mega.errors import (
    EBLOCKED,
    EMFAREQUIRED,
    ENOENT,
    ERATELIMIT,
    ESID,
    ETOOMANY,
    SessionExpired,
    code_of,
    translate,
)
from backends.private_files import private_dir, write_private

__all__ = [
    "Credentials",
    "Session",
    "SessionCache",
    "login",
    "logout",
    "open_session",
]

log = logging.getLogger(__name__)

#: bytes 16..26 of a decrypted session id are the b64 user handle (section 4.5 step 6).
_SID_USER = slice(16, 27)
_CACHE_FORMAT = 1
#: Codes that, bare or in the slot of ``us0``/``us``, mean MEGA refused this login (and say why).
_LOGIN_REFUSALS = frozenset({ENOENT, EMFAREQUIRED, EBLOCKED, ETOOMANY, ERATELIMIT})


@dataclass(frozen=True)
class Credentials:
    """What a user gives to log in. ``password`` and ``mfa`` (the current 6-digit TOTP code) stay out of repr
    so that a traceback or a debug print of the options never shows them."""

    email: str
    password: str = field(repr=False)
    mfa: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Session:
    """A logged-in MEGA session: all a client needs to resume without logging in (section 4.6).

    ``private_key`` is None for accounts without an RSA key (``tsid`` logins). The sid and the keys stay out
    of repr: the sid alone grants access to the account, the master key decrypts all of it.
    """

    sid: str = field(repr=False)
    master_key: bytes = field(repr=False)
    user_handle: str
    private_key: crypto.RsaPrivateKey | None = field(repr=False)
    email: str


# -- login ---------------------------------------------------------------------------------------------------


def _login_error(code: int, creds: Credentials) -> BackendError:
    """The one-line error for a refused login; MEGA's code name is kept for support, the payload never."""
    error: BackendError
    if code == ENOENT:
        error = AuthError("MEGA login failed: wrong e-mail or password (ENOENT)")
    elif code == EMFAREQUIRED and creds.mfa is None:
        error = AuthError(
            "MEGA login needs a two-factor code: pass the current one with --mega-2fa (EMFAREQUIRED)"
        )
    elif code == EMFAREQUIRED:
        error = AuthError(
            "MEGA refused the two-factor code (wrong or expired): pass the current one with --mega-2fa"
            " (EMFAREQUIRED)"
        )
    elif code == EBLOCKED:
        error = AuthError("MEGA has blocked this account (EBLOCKED): log in on mega.nz to see why")
    elif code == ETOOMANY:
        # not retryable on purpose: trying again is exactly what keeps (or gets) the account blocked
        error = AuthError(
            "MEGA refuses logins for now: too many logins in a short time (ETOOMANY);"
            " wait a while before trying again"
        )
    elif code == ERATELIMIT:
        error = RateLimited("MEGA is rate limiting logins (ERATELIMIT); try again later")
    else:
        error = translate(code, "us")
    error.mega_code = code  # type: ignore[attr-defined]  # read back through code_of()
    return error


def _login_call(api: MegaApi, command: dict[str, Any], creds: Credentials) -> dict[str, Any]:
    """One login command; a refusal, in its slot or bare, becomes ``_login_error``."""
    try:
        (answer,) = api.request([command])
    except BackendError as exc:
        code = code_of(exc)
        if code not in _LOGIN_REFUSALS:  # transport failures keep their own message (attempts, HTTP status)
            raise
        raise _login_error(code, creds) from None
    if isinstance(answer, int) and answer < 0:
        raise _login_error(answer, creds)
    if not isinstance(answer, dict):
        raise BackendError(f"malformed answer from MEGA to {command['a']!r} (expected an object)")
    return answer


def _b64_field(answer: dict[str, Any], name: str) -> bytes:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise BackendError(f"malformed login answer from MEGA (no {name!r})")
    try:
        return crypto.b64decode(value)
    except ValueError:
        raise BackendError(f"malformed login answer from MEGA ({name!r} is not base64)") from None


def _password_key_and_hash(api: MegaApi, email: str, creds: Credentials) -> tuple[bytes, str]:
    """Prelogin (``us0``) and the v1 or v2 derivation: the password key and the ``uh`` login hash."""
    prelogin = _login_call(api, {"a": "us0", "user": email}, creds)
    version = prelogin.get("v")
    if version == 1:
        password_key = crypto.prepare_key_v1(creds.password)
        return password_key, crypto.user_hash_v1(email, password_key)
    if version == 2:
        salt = _b64_field(prelogin, "s")
        password_key, auth_key = crypto.derive_v2(creds.password, salt)
        return password_key, crypto.b64encode(auth_key)
    raise BackendError(f"MEGA account version {version!r} is not supported (expected 1 or 2)")


def _session_from_tsid(tsid: bytes, master_key: bytes) -> str:
    """A temporary session (no RSA key): r(16) ‖ 11 bytes ‖ AES(MK, r), checked as the SDK's ``checktsid``."""
    if len(tsid) != crypto.SID_LENGTH or crypto.aes_ecb_encrypt(master_key, tsid[:16]) != tsid[-16:]:
        raise AuthError("MEGA login failed: the temporary session does not match the master key (tsid)")
    return crypto.b64encode(tsid)


def login(api: MegaApi, creds: Credentials, ask_mfa: Callable[[str], str] | None = None) -> Session:
    """Log in with ``us0`` + ``us`` and decrypt the session; sets ``api.sid`` to the new sid.

    When MEGA wants a two-factor code and ``creds`` has none, ``ask_mfa`` (given the question) is asked for
    one and ``us`` is sent again with it, as MEGA's apps do; without ``ask_mfa`` that is an AuthError saying
    to pass ``--mega-2fa``. Every call is a login that MEGA counts: callers should go through
    ``open_session``, which caches.
    """
    email = creds.email.strip().lower()  # every client lower-cases before us0, us and the v1 hash
    api.sid = None  # us0/us carry no sid, and a dead one would get the whole request refused with ESID
    password_key, user_hash = _password_key_and_hash(api, email, creds)
    command: dict[str, Any] = {"a": "us", "user": email, "uh": user_hash}
    if creds.mfa is not None:
        command["mfa"] = creds.mfa.strip()
    try:
        answer = _login_call(api, command, creds)
    except AuthError as exc:
        if code_of(exc) != EMFAREQUIRED or creds.mfa is not None or ask_mfa is None:
            raise
        creds = dataclasses.replace(creds, mfa=ask_mfa(f"MEGA two-factor code for {email}: ").strip())
        command["mfa"] = creds.mfa
        answer = _login_call(api, command, creds)

    wrapped_key = _b64_field(answer, "k")
    if len(wrapped_key) != 16:
        raise BackendError("malformed login answer from MEGA ('k' is not 16 bytes)")
    master_key = crypto.aes_ecb_decrypt(password_key, wrapped_key)
    user_handle = answer.get("u")
    if not isinstance(user_handle, str) or len(user_handle) != 11:
        raise BackendError("malformed login answer from MEGA (no user handle 'u')")

    private_key: crypto.RsaPrivateKey | None = None
    if "csid" in answer:
        try:
            private_key = crypto.decode_private_key(
                crypto.aes_ecb_decrypt(master_key, _b64_field(answer, "privk"))
            )
            sid = crypto.decrypt_session_id(private_key, str(answer["csid"]))
        except crypto.CryptoError as exc:
            raise IntegrityError(f"MEGA login failed: the account keys do not decrypt ({exc})") from None
        if crypto.b64decode(sid)[_SID_USER] != user_handle.encode("ascii"):
            raise IntegrityError("MEGA login failed: the session id does not belong to this user")
    elif "tsid" in answer:
        sid = _session_from_tsid(_b64_field(answer, "tsid"), master_key)
    else:
        raise BackendError("malformed login answer from MEGA (neither 'csid' nor 'tsid')")
    api.sid = sid
    log.info("logged in to MEGA as user %s", user_handle)
    return Session(sid, master_key, user_handle, private_key, email)


# -- the cache -----------------------------------------------------------------------------------------------


class SessionCache:
    """Sessions on disk: one 0600 JSON file per (API URL, e-mail) in ``<state_dir>/mega/sessions`` (0700).

    File names are a hash of both, so the directory listing does not reveal the e-mail addresses. A file
    that does not parse or check out is treated as absent (and replaced at the next save): a lost session
    costs one login, a crash on a corrupt cache would cost the user a manual fix.
    """

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.directory = Path(state_dir) / "mega" / "sessions"

    def path(self, api_url: str, email: str) -> Path:
        """The file of this account on this API endpoint."""
        key = f"{_normal_url(api_url)}\0{email.strip().lower()}".encode()
        return self.directory / f"{hashlib.sha256(key).hexdigest()[:32]}.json"

    def load(self, api_url: str, email: str) -> Session | None:
        """The cached session, or None when there is none or it is unusable."""
        path = self.path(api_url, email)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable MEGA session cache %s (%s)", path.name, type(exc).__name__)
            return None
        try:
            return _session_from_json(data, email)
        except (KeyError, TypeError, ValueError, crypto.CryptoError) as exc:
            log.warning("ignoring invalid MEGA session cache %s (%s)", path.name, type(exc).__name__)
            return None

    def save(self, api_url: str, session: Session) -> None:
        """Write ``session`` atomically as a 0600 file (creating the 0700 directories)."""
        private_dir(self.directory)
        privk = None
        if session.private_key is not None:
            blob = crypto.encode_private_key(session.private_key)
            privk = crypto.b64encode(crypto.aes_ecb_encrypt(session.master_key, blob))
        data = {
            "format": _CACHE_FORMAT,
            "api_url": _normal_url(api_url),
            "email": session.email,
            "sid": session.sid,
            "master_key": crypto.b64encode(session.master_key),
            "user_handle": session.user_handle,
            "privk": privk,
            "saved": int(time.time()),
        }
        write_private(self.path(api_url, session.email), json.dumps(data, indent=1) + "\n")

    def forget(self, api_url: str, email: str) -> None:
        """Remove the cached session, if any."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(api_url, email))


def _normal_url(api_url: str) -> str:
    return api_url if api_url.endswith("/") else api_url + "/"


def _session_from_json(data: Any, email: str) -> Session:
    if not isinstance(data, dict) or data.get("format") != _CACHE_FORMAT:
        raise ValueError("unknown format")
    if str(data["email"]).lower() != email.strip().lower():
        raise ValueError("another account")
    sid, user_handle = str(data["sid"]), str(data["user_handle"])
    master_key = crypto.b64decode(data["master_key"])
    if len(master_key) != 16:
        raise ValueError("master key length")
    raw_sid = crypto.b64decode(sid)
    if len(raw_sid) != crypto.SID_LENGTH:
        raise ValueError("sid length")
    private_key = None
    if data.get("privk") is not None:
        blob = crypto.aes_ecb_decrypt(master_key, crypto.b64decode(data["privk"]))
        private_key = crypto.decode_private_key(blob)
        if raw_sid[_SID_USER] != user_handle.encode("ascii"):
            raise ValueError("sid of another user")
    return Session(sid, master_key, user_handle, private_key, str(data["email"]))


# -- open, re-login, logout ----------------------------------------------------------------------------------

#: One lock per cache file, process-wide: threads (or several MegaApi objects) of one account log in once.
_file_locks: dict[Path, threading.RLock] = {}
_file_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.RLock:
    with _file_locks_guard:
        return _file_locks.setdefault(path, threading.RLock())


class _Relogin:
    """``api.relogin``: on ESID, take a session another thread or MegaApi already renewed, else log in once.

    Runs under the cache file's lock (MegaApi also serialises its own ESID handling), so threads that hit
    ESID together produce one login. A login that itself meets ESID raises instead of recursing.
    """

    def __init__(
        self,
        api: MegaApi,
        creds: Credentials,
        cache: SessionCache,
        session: Session,
        ask_mfa: Callable[[str], str] | None = None,
    ) -> None:
        self._api = api
        self._creds = creds
        self._ask_mfa = ask_mfa
        self._cache = cache
        self.session = session
        self._lock = _lock_for(cache.path(api.api_url, creds.email))
        self._busy = threading.local()

    def __call__(self) -> str:
        if getattr(self._busy, "active", False):
            raise translate(ESID, "us")
        with self._lock:
            self._busy.active = True
            try:
                cached = self._cache.load(self._api.api_url, self._creds.email)
                if cached is not None and cached.sid != self.session.sid:
                    log.debug("MEGA session was renewed elsewhere; using it")
                    self.session = cached
                else:
                    log.info("MEGA session expired or was killed (ESID); logging in again")
                    self.session = login(self._api, self._creds, self._ask_mfa)
                    self._cache.save(self._api.api_url, self.session)
            finally:
                self._busy.active = False
            self._api.sid = self.session.sid
            return self.session.sid


def open_session(
    api: MegaApi, creds: Credentials, cache: SessionCache, ask_mfa: Callable[[str], str] | None = None
) -> Session:
    """The session for ``creds`` on ``api``: resumed from ``cache`` without any request, else a login (saved;
    ``ask_mfa`` as for ``login``).

    A resumed sid is not checked here: MEGA validates it on the next command, and if it is dead the
    ``relogin`` installed on ``api`` logs in once, saves the new session and resends the command.
    """
    with _lock_for(cache.path(api.api_url, creds.email)):
        session = cache.load(api.api_url, creds.email)
        if session is None:
            session = login(api, creds, ask_mfa)
            cache.save(api.api_url, session)
        else:
            log.debug("resuming cached MEGA session of user %s", session.user_handle)
    api.sid = session.sid
    relogin: Callable[[], str] = _Relogin(api, creds, cache, session, ask_mfa)
    api.relogin = relogin
    return session


def logout(api: MegaApi, session: Session, cache: SessionCache) -> None:
    """End the session on MEGA (``sml``) and forget it locally.

    An already dead session (ESID) counts as logged out: the cache is forgotten all the same, and no re-login
    is attempted just to log out. Other failures leave the cache so that the logout can be retried.
    """
    api.relogin = None
    try:
        api.call({"a": "sml"})
    except SessionExpired:
        log.debug("MEGA session was already gone at logout")
    cache.forget(api.api_url, session.email)
    api.sid = None
