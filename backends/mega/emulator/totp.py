"""Time-based one-time passwords (RFC 6238) as MEGA's two-factor login uses them.

Six digits, 30-second steps, HMAC-SHA-1 over the step counter, from a base32 secret. The server accepts the
current step and one step either side, for clocks that drift and codes typed just before a step ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

__all__ = ["DIGITS", "STEP", "decode_secret", "totp", "verify_totp"]

DIGITS = 6
STEP = 30
WINDOW = 1


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret (spaces and case ignored, padding optional). ValueError if invalid."""
    cleaned = secret.replace(" ", "").upper().rstrip("=")
    if not cleaned:
        raise ValueError("empty TOTP secret")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as exc:
        raise ValueError("a TOTP secret is base32") from exc


def totp(secret: str, at: float | None = None) -> str:
    """The code for ``secret`` at time ``at`` (default: now)."""
    return _code(decode_secret(secret), int((time.time() if at is None else at) // STEP))


def _code(key: bytes, counter: int) -> str:
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def verify_totp(secret: str, code: object, at: float | None = None) -> bool:
    """Whether ``code`` (a 6-digit string) is valid for ``secret`` at ``at``, one step either side."""
    if not isinstance(code, str) or len(code) != DIGITS or not code.isdigit():
        return False
    key = decode_secret(secret)
    step = int((time.time() if at is None else at) // STEP)
    return any(hmac.compare_digest(_code(key, step + delta), code) for delta in range(-WINDOW, WINDOW + 1))
