"""The fingerprint attribute 'c' against shared/mega-protocol.md 11.7, and its round trips."""

from __future__ import annotations

import io
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends.mega import fingerprint as fp
from backends.mega.crypto import CryptoError, b64decode

MTIME = 1700000000


def pattern(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


@pytest.mark.parametrize(
    ("data", "mtime", "expected"),
    [
        (pattern(300000), MTIME, "lGjTAJjxdKIc32EmgYbPLQQA8VNl"),
        (pattern(1000), MTIME, "uHuZrLdYYGYBj-mKdbboGQQA8VNl"),
        (b"hello", MTIME, "aGVsbG8AAAAAAAAAAAAAAAQA8VNl"),
        (b"", 0, "AAAAAAAAAAAAAAAAAAAAAAA"),
    ],
)
def test_vectors(data: bytes, mtime: int, expected: str) -> None:
    assert fp.fingerprint_of_bytes(data, mtime) == expected
    assert fp.parse_fingerprint(expected) == (fp.content_crc(len(data), lambda o, n: data[o : o + n]), mtime)


def test_crcs_of_the_300000_byte_file() -> None:
    crc = fp.crc_of_file(io.BytesIO(pattern(300000)), 300000)
    assert crc.hex() == "9468d30098f174a21cdf61268186cf2d"
    small = pattern(1000)
    assert fp.content_crc(1000, lambda o, n: small[o : o + n]).hex() == "b87b99acb7586066018fe98a75b6e819"


def test_mtime_serialisation() -> None:
    assert b64decode(fp.fingerprint(bytes(16), MTIME))[16:] == bytes.fromhex("0400f15365")
    assert b64decode(fp.fingerprint(bytes(16), 0))[16:] == b"\0"
    assert fp.parse_fingerprint(fp.fingerprint(bytes(16), 0))[1] == 0


@given(st.binary(min_size=17, max_size=8192))
def test_dense_crcs_are_four_quarter_crcs(data: bytes) -> None:
    size = len(data)
    quarters = [data[i * size // 4 : (i + 1) * size // 4] for i in range(4)]
    expected = b"".join(zlib.crc32(q).to_bytes(4, "big") for q in quarters)
    assert fp.content_crc(size, lambda o, n: data[o : o + n]) == expected


@given(st.binary(max_size=20000), st.integers(0, 2**40))
def test_round_trip(data: bytes, mtime: int) -> None:
    value = fp.fingerprint_of_bytes(data, mtime)
    crc, parsed = fp.parse_fingerprint(value)
    assert parsed == mtime
    assert crc == fp.crc_of_file(io.BytesIO(data), len(data))


@pytest.mark.parametrize("bad", ["", "AAAA", "AAAAAAAAAAAAAAAAAAAAAAk", "!!"])
def test_malformed_fingerprints_are_errors(bad: str) -> None:
    with pytest.raises(CryptoError):
        fp.parse_fingerprint(bad)
