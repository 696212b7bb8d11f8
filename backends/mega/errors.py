"""MEGA's negative error codes and their translation into the project's error tree (``backends/errors.py``).

This is the one place where a MEGA code becomes a ``BackendError``: the transport (``api.py``) and, later, the
backend call ``translate`` and never build errors from codes themselves, so every user-visible message names
MEGA's own code ("quota exceeded (EOVERQUOTA)") and every code lands in a class whose ``retryable``/``fatal``
flags the engine can act on. ``shared/mega-protocol.md`` section 3 is the reference for names and meanings.

The code is kept on the error (``code_of``) because some callers must tell codes apart that share a class
(``EAGAIN`` and ``ETEMPUNAVAIL`` are both transient, but only the first means "nothing ran").
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.errors import (
    AlreadyExists,
    AuthError,
    BackendError,
    IntegrityError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    TransientError,
)

__all__ = [
    "CODES",
    "EAGAIN",
    "EARGS",
    "EBLOCKED",
    "EMFAREQUIRED",
    "ENOENT",
    "ERATELIMIT",
    "ESID",
    "ETOOMANY",
    "CodeInfo",
    "SequenceTooOld",
    "SessionExpired",
    "code_of",
    "name_of",
    "translate",
]

EINTERNAL = -1
EARGS = -2
EAGAIN = -3
ERATELIMIT = -4
ETOOMANY = -6
ENOENT = -9
ESID = -15
EBLOCKED = -16
EMFAREQUIRED = -26


class SessionExpired(AuthError):
    """The session id is no longer valid (ESID).

    A subclass of AuthError because, without a way to log in again, nothing but new credentials helps; the
    transport catches exactly this class (or the code) to log in once and resend before giving up.
    """

    default_message = "session expired or invalid (ESID)"


class SequenceTooOld(BackendError):
    """The ``sc`` channel refused our sequence number (ETOOMANY on ``sc``): the whole tree must be re-fetched.

    Not retryable as such: polling again with the same ``sn`` gets the same answer.
    """

    default_message = "action packet sequence too old, the tree must be reloaded (ETOOMANY)"


@dataclass(frozen=True)
class CodeInfo:
    """One MEGA code: its SDK name, what it means in words a user reads, and the class it becomes."""

    name: str
    meaning: str
    error: type[BackendError]


#: Every code of ``shared/mega-protocol.md`` section 3. Codes only a client produces locally (-20, -21, -23)
#: are listed too, since other clients' messages use the same numbers.
CODES: dict[int, CodeInfo] = {
    EINTERNAL: CodeInfo("EINTERNAL", "internal server error", TransientError),
    EARGS: CodeInfo("EARGS", "invalid arguments", BackendError),
    EAGAIN: CodeInfo("EAGAIN", "server busy, try again", TransientError),
    ERATELIMIT: CodeInfo("ERATELIMIT", "too many requests, slow down", RateLimited),
    -5: CodeInfo("EFAILED", "the operation failed", BackendError),
    ETOOMANY: CodeInfo("ETOOMANY", "too many requests or connections", RateLimited),
    -7: CodeInfo("ERANGE", "out of range", BackendError),
    -8: CodeInfo("EEXPIRED", "resource expired", TransientError),
    ENOENT: CodeInfo("ENOENT", "object not found", NotFound),
    -10: CodeInfo("ECIRCULAR", "circular linkage (move into its own subtree)", BackendError),
    -11: CodeInfo("EACCESS", "access denied", PermissionDenied),
    -12: CodeInfo("EEXIST", "already exists", AlreadyExists),
    -13: CodeInfo("EINCOMPLETE", "incomplete request", BackendError),
    -14: CodeInfo("EKEY", "cryptographic or integrity check failed", IntegrityError),
    ESID: CodeInfo("ESID", "session expired or invalid", SessionExpired),
    EBLOCKED: CodeInfo("EBLOCKED", "account or resource blocked by MEGA", AuthError),
    -17: CodeInfo("EOVERQUOTA", "quota exceeded", QuotaExceeded),
    -18: CodeInfo("ETEMPUNAVAIL", "temporarily unavailable", TransientError),
    -19: CodeInfo("ETOOMANYCONNECTIONS", "too many connections on this resource", RateLimited),
    -20: CodeInfo("EWRITE", "write failed", BackendError),
    -21: CodeInfo("EREAD", "read failed", BackendError),
    -22: CodeInfo("EAPPKEY", "invalid application key", AuthError),
    -23: CodeInfo("ESSL", "SSL verification failed", BackendError),
    -24: CodeInfo("EGOINGOVERQUOTA", "not enough quota for this operation", QuotaExceeded),
    -25: CodeInfo("EROLLEDBACK", "request rolled back", TransientError),
    EMFAREQUIRED: CodeInfo("EMFAREQUIRED", "two-factor authentication code required or wrong", AuthError),
    -27: CodeInfo("EMASTERONLY", "not allowed for a business sub-user", PermissionDenied),
    -28: CodeInfo("EBUSINESSPASTDUE", "business account expired", AuthError),
    -29: CodeInfo("EPAYWALL", "over the storage quota: account restricted until upgraded", QuotaExceeded),
    -30: CodeInfo("ESUBUSERKEYMISSING", "business sub-user key missing", PermissionDenied),
    -400: CodeInfo("ETOOERR", "too many errors", BackendError),
    -401: CodeInfo("ESHAREROVERQUOTA", "share owner is over quota", QuotaExceeded),
}

#: Commands after which ENOENT means refused credentials, not a missing object (section 3: wrong e-mail or
#: password at ``us``).
_LOGIN_COMMANDS = frozenset({"us"})


def name_of(code: int) -> str:
    """MEGA's name for ``code`` (``"E?<code>"`` when unknown), for log lines that must not carry payloads."""
    info = CODES.get(code)
    return info.name if info is not None else f"E?{code}"


def translate(code: int, context: str = "") -> BackendError:
    """The ``BackendError`` for MEGA code ``code``; ``context`` is the command (``"us"``, ``"p"``) or channel.

    The message is MEGA's meaning followed by its name, e.g. "quota exceeded (EOVERQUOTA)", and the context
    when given. Unknown codes become a plain BackendError carrying the number, never a crash: MEGA adds codes.
    """
    info = CODES.get(code)
    suffix = f" in {context!r}" if context else ""
    if info is None:
        error = BackendError(f"MEGA error {code}{suffix}")
    elif code == ENOENT and context in _LOGIN_COMMANDS:
        error = AuthError(f"wrong e-mail or password ({info.name}){suffix}")
    else:
        error = info.error(f"{info.meaning} ({info.name}){suffix}")
    error.mega_code = code  # type: ignore[attr-defined]  # read back through code_of()
    return error


def code_of(error: BaseException) -> int | None:
    """The MEGA code an error was translated from, or None for errors that did not come from a code."""
    code = getattr(error, "mega_code", None)
    return code if isinstance(code, int) else None
