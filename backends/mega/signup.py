"""The client-side arithmetic of creating a MEGA account: what a MEGA app computes before it signs up.

The server is only ever given wrapped keys and hashes: the master key MK encrypted with the password key
(``k``), the RSA private key encrypted with MK (``privk``), the public key (``pubk``) and either the v2 hashed
auth key with the client's salt randomness (``hak``, ``crv``) or the v1 user hash (``uh``). This module builds
that command from an e-mail and a password (``shared/mega-protocol.md`` sections 4.2, 4.3 and 4.5), so the
emulator's own accounts are made exactly as MEGA's clients would make them and the server code never touches a
password.

v2 (``uc2``) is MEGA's current sign-up. v1 (``uc``) is an emulator extension: MEGA's real v1 sign-up went
through an ephemeral account and an e-mail confirmation; the emulator takes the same key material in one
command so that tests can exercise v1 logins.
"""

from __future__ import annotations

import os
from typing import Any

from backends.mega import crypto

__all__ = ["MASTER_KEY_SIZE", "signup_command"]

MASTER_KEY_SIZE = 16
CLIENT_RANDOM_SIZE = 16


def signup_command(
    email: str,
    password: str,
    *,
    name: str | None = None,
    version: int = 2,
    master_key: bytes | None = None,
    rsa_key: crypto.RsaPrivateKey | None = None,
) -> dict[str, Any]:
    """The sign-up command for ``email``/``password``: ``uc2`` (version 2) or ``uc`` (version 1).

    ``name`` defaults to the e-mail's local part. ``master_key`` (16 bytes) and ``rsa_key`` default to fresh
    random ones; passing them lets tests reuse one slow-to-generate RSA key. The e-mail is lower-cased, as
    every MEGA client does before hashing or sending it. ValueError for an unknown version or a bad key size.
    """
    email = email.strip().lower()
    if version not in (1, 2):
        raise ValueError(f"account version must be 1 or 2, not {version}")
    mk = os.urandom(MASTER_KEY_SIZE) if master_key is None else master_key
    if len(mk) != MASTER_KEY_SIZE:
        raise ValueError("the master key is 16 bytes")
    key = crypto.generate_rsa_key() if rsa_key is None else rsa_key
    display_name = email.partition("@")[0] if name is None else name
    common = {
        "n": crypto.b64encode(display_name.encode("utf-8")),
        "m": crypto.b64encode(email.encode("utf-8")),
        "pubk": crypto.b64encode(crypto.encode_public_key(key.n, key.e)),
        "privk": crypto.b64encode(crypto.aes_ecb_encrypt(mk, crypto.encode_private_key(key))),
    }
    if version == 2:
        client_random = os.urandom(CLIENT_RANDOM_SIZE)
        password_key, auth_key = crypto.derive_v2(password, crypto.v2_salt(client_random))
        return {
            "a": "uc2",
            **common,
            "crv": crypto.b64encode(client_random),
            "hak": crypto.b64encode(crypto.hashed_auth_key(auth_key)),
            "k": crypto.b64encode(crypto.aes_ecb_encrypt(password_key, mk)),
            "v": 2,
        }
    password_key = crypto.prepare_key_v1(password)
    return {
        "a": "uc",
        **common,
        "uh": crypto.user_hash_v1(email, password_key),
        "k": crypto.b64encode(crypto.aes_ecb_encrypt(password_key, mk)),
        "v": 1,
    }
