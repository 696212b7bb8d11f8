"""TOTP codes for two-factor logins: RFC 6238's SHA-1 vectors, cut to MEGA's six digits."""

from __future__ import annotations

import pytest

from backends.mega.emulator.totp import decode_secret, totp, verify_totp

# base32 of the RFC's ASCII key "12345678901234567890"
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
    ],
)
def test_rfc6238_vectors(at: int, code: str) -> None:
    assert totp(SECRET, at) == code


def test_one_step_either_side_is_accepted() -> None:
    at = 1_700_000_000
    assert verify_totp(SECRET, totp(SECRET, at - 30), at)
    assert verify_totp(SECRET, totp(SECRET, at + 30), at)
    assert not verify_totp(SECRET, totp(SECRET, at - 90), at)


@pytest.mark.parametrize("code", [None, 123456, "12345", "1234567", "12a456", ""])
def test_malformed_codes_fail(code: object) -> None:
    assert not verify_totp(SECRET, code, 59)


def test_secrets_are_base32_in_any_case_with_spaces() -> None:
    assert decode_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq") == b"12345678901234567890"
    with pytest.raises(ValueError):
        decode_secret("not base32!")
