"""Client-side sign-up arithmetic (``backends.mega.signup``): what it sends decrypts back to its keys."""

from __future__ import annotations

import pytest

from backends.mega import crypto
from backends.mega.signup import signup_command

MASTER_KEY = bytes(range(16))


@pytest.fixture(scope="module")
def rsa_key() -> crypto.RsaPrivateKey:
    return crypto.generate_rsa_key()


def test_v2_command(rsa_key: crypto.RsaPrivateKey) -> None:
    command = signup_command("Me@Example.com", "pässwörd", master_key=MASTER_KEY, rsa_key=rsa_key)
    assert set(command) == {"a", "n", "m", "crv", "hak", "k", "pubk", "privk", "v"}
    assert (command["a"], command["v"]) == ("uc2", 2)
    assert crypto.b64decode(command["m"]) == b"me@example.com"
    assert crypto.b64decode(command["n"]) == b"me"
    client_random = crypto.b64decode(command["crv"])
    assert len(client_random) == 16
    password_key, auth_key = crypto.derive_v2("pässwörd", crypto.v2_salt(client_random))
    assert crypto.b64decode(command["hak"]) == crypto.hashed_auth_key(auth_key)
    assert crypto.aes_ecb_decrypt(password_key, crypto.b64decode(command["k"])) == MASTER_KEY
    blob = crypto.aes_ecb_decrypt(MASTER_KEY, crypto.b64decode(command["privk"]))
    assert len(blob) >= 256 and len(blob) % 16 == 0
    assert crypto.decode_private_key(blob) == rsa_key
    assert crypto.decode_public_key(crypto.b64decode(command["pubk"])) == (rsa_key.n, rsa_key.e)


def test_v1_command(rsa_key: crypto.RsaPrivateKey) -> None:
    command = signup_command("user@example.com", "password123", name="Ann", version=1, rsa_key=rsa_key)
    assert (command["a"], command["v"]) == ("uc", 1)
    assert "crv" not in command and "hak" not in command
    # the vector of shared/mega-protocol.md 11.2
    assert command["uh"] == "9QPYw5-wtJM"
    assert crypto.b64decode(command["n"]) == b"Ann"
    master_key = crypto.aes_ecb_decrypt(crypto.prepare_key_v1("password123"), crypto.b64decode(command["k"]))
    blob = crypto.aes_ecb_decrypt(master_key, crypto.b64decode(command["privk"]))
    assert crypto.decode_private_key(blob) == rsa_key


def test_fresh_randomness_each_time(rsa_key: crypto.RsaPrivateKey) -> None:
    one = signup_command("a@b.c", "pw", rsa_key=rsa_key)
    two = signup_command("a@b.c", "pw", rsa_key=rsa_key)
    assert one["crv"] != two["crv"] and one["k"] != two["k"]


@pytest.mark.parametrize("kwargs", [{"version": 3}, {"master_key": b"short"}])
def test_bad_arguments(rsa_key: crypto.RsaPrivateKey, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        signup_command("a@b.c", "pw", rsa_key=rsa_key, **kwargs)  # type: ignore[arg-type]
