"""Fault machinery: seeded dice, runtime changes, the shared bandwidth timeline, one-use hashcash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from backends.mega import hashcash
from backends.mega.emulator.faults import Faults, HashcashGate, TokenBucket
from backends.mega.emulator.settings import EmulatorSettings


def test_same_seed_same_decisions(tmp_path: Path) -> None:
    def decisions(seed: int) -> list[bool]:
        faults = Faults(EmulatorSettings(data_dir=tmp_path, seed=seed))
        return [faults.roll(0.5) for _ in range(64)]

    assert decisions(1) == decisions(1)
    assert decisions(1) != decisions(2)


def test_rates_zero_and_one(tmp_path: Path) -> None:
    faults = Faults(EmulatorSettings(data_dir=tmp_path))
    assert not any(faults.roll(0.0) for _ in range(100))
    assert all(faults.roll(1.0) for _ in range(100))


def test_update_changes_faults_only(tmp_path: Path) -> None:
    faults = Faults(EmulatorSettings(data_dir=tmp_path))
    assert faults.update(eagain_rate=0.5, quota=10).eagain_rate == 0.5
    assert faults.settings.quota == 10
    with pytest.raises(ValueError):
        faults.update(port=80)
    with pytest.raises(ValueError):
        faults.update(drop_rate=2.0)
    assert faults.settings.drop_rate == 0.0


def test_bandwidth_books_bytes_on_one_timeline() -> None:
    rate = 200_000
    bucket = TokenBucket(lambda: rate)
    started = time.monotonic()
    for _ in range(4):
        bucket.take(10_000)
    assert time.monotonic() - started >= 40_000 / rate
    assert TokenBucket(lambda: 0).slice_size() == 1 << 20
    assert TokenBucket(lambda: 0).slice_size(12345) == 12345
    assert bucket.slice_size() == 9216  # 10,000 bytes (1/20 s) down to a multiple of 12 and of 1 KiB
    assert TokenBucket(lambda: 1000).slice_size() == 3072


def test_unlimited_bandwidth_never_waits() -> None:
    bucket = TokenBucket(lambda: 0)
    started = time.monotonic()
    bucket.take(1 << 40)
    assert time.monotonic() - started < 0.5


def test_hashcash_gate_accepts_each_solution_once() -> None:
    gate = HashcashGate()
    challenge = hashcash.parse_challenge(gate.challenge(255))
    answer = hashcash.solution_header(challenge.token, hashcash.solve(challenge.token, 255))
    assert not gate.redeem(None)
    assert gate.redeem(answer)
    assert not gate.redeem(answer)  # used up
    forged = hashcash.new_challenge(255)  # never issued by this gate
    assert not gate.redeem(hashcash.solution_header(forged.token, hashcash.solve(forged.token, 255)))
