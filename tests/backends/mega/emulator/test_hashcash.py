"""MEGA's proof of work (``backends.mega.hashcash``): threshold, solver, verifier, header formats."""

from __future__ import annotations

import hashlib

import pytest

from backends.mega import hashcash
from backends.mega.crypto import b64encode

TOKEN = bytes(range(48))


@pytest.mark.parametrize(
    ("easiness", "expected"),
    [
        (0, 1 << 3),
        (1, 3 << 3),
        (63, 127 << 3),
        (64, 1 << 10),
        (128, 1 << 17),
        (192, 1 << 24),
        (255, 127 << 24),
    ],
)
def test_threshold(easiness: int, expected: int) -> None:
    assert hashcash.threshold(easiness) == expected


@pytest.mark.parametrize("easiness", [-1, 256])
def test_threshold_range(easiness: int) -> None:
    with pytest.raises(hashcash.HashcashError):
        hashcash.threshold(easiness)


def leading_word(prefix: bytes) -> int:
    return int.from_bytes(hashlib.sha256(prefix + TOKEN * 262144).digest()[:4], "big")


def test_solve_finds_the_first_counter_that_meets_the_threshold() -> None:
    easiness = 250
    prefix = hashcash.solve(TOKEN, easiness)
    limit = hashcash.threshold(easiness)
    counter = int.from_bytes(prefix, "little")
    assert counter >= 1 and leading_word(prefix) <= limit
    for earlier in range(1, counter):
        assert leading_word(earlier.to_bytes(4, "little")) > limit
    assert hashcash.verify(TOKEN, easiness, prefix)


def test_verify_rejects_wrong_answers() -> None:
    easiness = 250
    prefix = hashcash.solve(TOKEN, easiness)
    assert not hashcash.verify(TOKEN, 0, prefix)  # far harder: this answer is (practically) not good enough
    assert not hashcash.verify(TOKEN, easiness, b"\0\0\0")
    assert not hashcash.verify(TOKEN[:-1], easiness, prefix)


def test_challenge_header_round_trip() -> None:
    challenge = hashcash.new_challenge(200, now=1_700_000_000)
    assert challenge.header.startswith("1:200:1700000000:")
    assert hashcash.parse_challenge(challenge.header) == challenge
    header = hashcash.solution_header(challenge.token, b"\x01\x02\x03\x04")
    assert header == f"1:{b64encode(challenge.token)}:AQIDBA"
    assert hashcash.parse_solution(header) == (challenge.token, b"\x01\x02\x03\x04")


@pytest.mark.parametrize(
    "header", ["", "1:2:3", "2:200:0:" + b64encode(TOKEN), "1:x:0:" + b64encode(TOKEN), "1:200:0:AAAA"]
)
def test_malformed_challenges(header: str) -> None:
    with pytest.raises(hashcash.HashcashError):
        hashcash.parse_challenge(header)


@pytest.mark.parametrize(
    "header", ["", "1:abc", f"1:{b64encode(TOKEN)}:AAAAAAAA", f"1:AAAA:{b64encode(b'1234')}"]
)
def test_malformed_solutions(header: str) -> None:
    with pytest.raises(hashcash.HashcashError):
        hashcash.parse_solution(header)
