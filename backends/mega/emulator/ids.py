"""Identifiers the emulator hands out: handles of MEGA's sizes, session ids, tokens and ``sn`` values.

All are random except ``sn``, which is the big-endian commit counter of the action-packet log, base64ed
(clients treat it as opaque; the SDK insists on exactly 8 bytes).
"""

from __future__ import annotations

import os
import secrets

from backends.mega.crypto import b64decode, b64encode

__all__ = [
    "NODE_HANDLE_SIZE",
    "SID_SIZE",
    "USER_HANDLE_SIZE",
    "completion_token",
    "decode_sn",
    "encode_sn",
    "new_node_handle",
    "new_sid",
    "new_upload_id",
    "new_user_handle",
    "sid_user",
]

NODE_HANDLE_SIZE = 6
USER_HANDLE_SIZE = 8
SN_SIZE = 8
SID_SIZE = 43
#: bytes 16..26 of a session id carry the b64 user handle (the SDK checks it).
_SID_USER = slice(16, 27)
TOKEN_LENGTH = 36
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def new_node_handle() -> str:
    """8 characters: node handles and public link handles."""
    return b64encode(os.urandom(NODE_HANDLE_SIZE))


def new_user_handle() -> str:
    """11 characters."""
    return b64encode(os.urandom(USER_HANDLE_SIZE))


def new_upload_id() -> str:
    return b64encode(os.urandom(16))


def new_sid(user_handle: str) -> bytes:
    """43 raw bytes: random, first byte non-zero (clients that strip leading zeros still work), the b64 user
    handle at bytes 16..26."""
    user = user_handle.encode("ascii")
    if len(user) != _SID_USER.stop - _SID_USER.start:
        raise ValueError("a user handle is 11 characters")
    first = bytes([secrets.randbelow(255) + 1])
    return first + os.urandom(15) + user + os.urandom(SID_SIZE - _SID_USER.stop)


def sid_user(sid: str) -> str | None:
    """The user handle a session id string embeds, or None when it is not a session id at all."""
    try:
        raw = b64decode(sid)
    except ValueError:
        return None
    if len(raw) != SID_SIZE:
        return None
    return raw[_SID_USER].decode("ascii", "replace")


def completion_token() -> str:
    """36 ASCII characters of the base64url alphabet: valid as text for go-mega and mega.py, and its byte 35
    is never 1, so the web client reads it as text too (protocol section 8.6)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def encode_sn(seq: int) -> str:
    return b64encode(seq.to_bytes(SN_SIZE, "big"))


def decode_sn(text: str) -> int | None:
    """The counter of an ``sn``, or None when the text is not 8 bytes of base64."""
    try:
        raw = b64decode(text)
    except ValueError:
        return None
    return int.from_bytes(raw, "big") if len(raw) == SN_SIZE else None
