"""MEGA's proof of work ("hashcash"), both halves: the server's challenge and the client's answer.

An API server may refuse a request with HTTP 402 and ``X-Hashcash: 1:<easiness>:<timestamp>:<token>`` (the
token is 48 random bytes in MEGA base64). The client then searches a 4-byte prefix such that SHA-256 of
``prefix ‖ token * 262144`` (about 12 MiB) starts with a big-endian 32-bit number no larger than
``threshold(easiness)``, and resends the same request with ``X-Hashcash: 1:<token>:<b64 prefix>``
(``shared/mega-protocol.md`` section 2.5). The prefix is counted up as a little-endian integer, like the
SDK's and go-mega's solvers, so every client finds the same first answer.

The cost is the 12 MiB hash per attempt; the buffer is built once per token and only its first four bytes
change between attempts. ``hashlib`` hashes it without holding the GIL.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass

from backends.mega.crypto import b64decode, b64encode

__all__ = [
    "PREFIX_SIZE",
    "TOKEN_SIZE",
    "Challenge",
    "HashcashError",
    "new_challenge",
    "parse_challenge",
    "parse_solution",
    "solution_header",
    "solve",
    "threshold",
    "verify",
]

TOKEN_SIZE = 48
PREFIX_SIZE = 4
#: How often the token is repeated after the prefix: 262144 x 48 bytes = 12 MiB, the work per attempt.
_REPEAT = 262144
_VERSION = "1"


class HashcashError(ValueError):
    """A malformed challenge or solution header, or a token of the wrong size."""


def threshold(easiness: int) -> int:
    """The largest acceptable leading 32-bit word for ``easiness`` (0..255; higher is easier).

    The low six bits give an odd mantissa, the top two bits a shift of 3, 10, 17 or 24 bits.
    """
    if not 0 <= easiness <= 255:
        raise HashcashError(f"easiness must be 0..255, not {easiness}")
    return (((easiness & 63) << 1) + 1) << ((easiness >> 6) * 7 + 3)


def _work_buffer(token: bytes) -> bytearray:
    if len(token) != TOKEN_SIZE:
        raise HashcashError(f"a hashcash token is {TOKEN_SIZE} bytes, not {len(token)}")
    return bytearray(PREFIX_SIZE) + token * _REPEAT


def _leading_word(buffer: bytearray) -> int:
    return int.from_bytes(hashlib.sha256(buffer).digest()[:4], "big")


def solve(token: bytes, easiness: int) -> bytes:
    """The first 4-byte prefix (counting up from 1, little-endian) that meets ``threshold(easiness)``.

    The expected number of attempts is about 2^32 / threshold; each costs one 12 MiB SHA-256. Raises
    HashcashError if the whole 32-bit space fails (practically impossible for easiness >= 64).
    """
    limit = threshold(easiness)
    buffer = _work_buffer(token)
    for counter in range(1, 1 << 32):
        buffer[:PREFIX_SIZE] = counter.to_bytes(PREFIX_SIZE, "little")
        if _leading_word(buffer) <= limit:
            return bytes(buffer[:PREFIX_SIZE])
    raise HashcashError("no prefix meets the threshold")  # pragma: no cover - 2^32 attempts


def verify(token: bytes, easiness: int, prefix: bytes) -> bool:
    """Whether ``prefix`` solves the challenge ``token`` at ``easiness`` (one 12 MiB hash)."""
    if len(prefix) != PREFIX_SIZE or len(token) != TOKEN_SIZE:
        return False
    buffer = _work_buffer(token)
    buffer[:PREFIX_SIZE] = prefix
    return _leading_word(buffer) <= threshold(easiness)


@dataclass(frozen=True)
class Challenge:
    """One challenge as the server states it in its 402 answer."""

    token: bytes
    easiness: int
    timestamp: int

    @property
    def header(self) -> str:
        """The ``X-Hashcash`` value of the 402 answer."""
        return f"{_VERSION}:{self.easiness}:{self.timestamp}:{b64encode(self.token)}"


def new_challenge(easiness: int, now: float | None = None) -> Challenge:
    """A fresh challenge: 48 random bytes, the easiness and the time (clients ignore the time)."""
    threshold(easiness)  # validates
    stamp = int(time.time() if now is None else now)
    return Challenge(os.urandom(TOKEN_SIZE), easiness, stamp)


def parse_challenge(header: str) -> Challenge:
    """Client side: read a 402 answer's ``X-Hashcash`` value. Raises HashcashError when malformed."""
    parts = header.strip().split(":")
    if len(parts) != 4 or parts[0] != _VERSION:
        raise HashcashError(f"not a hashcash challenge: {header[:80]!r}")
    try:
        easiness, stamp, token = int(parts[1]), int(parts[2] or 0), b64decode(parts[3])
    except ValueError as exc:
        raise HashcashError(f"not a hashcash challenge: {header[:80]!r}") from exc
    threshold(easiness)
    if len(token) != TOKEN_SIZE:
        raise HashcashError(f"a hashcash token is {TOKEN_SIZE} bytes, not {len(token)}")
    return Challenge(token, easiness, stamp)


def solution_header(token: bytes, prefix: bytes) -> str:
    """Client side: the ``X-Hashcash`` value to send with the retried request."""
    return f"{_VERSION}:{b64encode(token)}:{b64encode(prefix)}"


def parse_solution(header: str) -> tuple[bytes, bytes]:
    """Server side: (token, prefix) from a retried request's ``X-Hashcash``. Raises HashcashError."""
    parts = header.strip().split(":")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise HashcashError("malformed hashcash solution")
    try:
        token, prefix = b64decode(parts[1]), b64decode(parts[2])
    except ValueError as exc:
        raise HashcashError("malformed hashcash solution") from exc
    if len(token) != TOKEN_SIZE or len(prefix) != PREFIX_SIZE:
        raise HashcashError("malformed hashcash solution")
    return token, prefix
