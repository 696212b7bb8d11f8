"""Fault machinery: seeded dice, runtime changes, the shared bandwidth timeline, one-use hashcash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from backends.mega import hashcash
from backends.mega.emulator.faults import Faults, HashcashGate, TokenBucket, TransferMeter
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


def test_new_faults_change_at_runtime(tmp_path: Path) -> None:
    faults = Faults(EmulatorSettings(data_dir=tmp_path))
    changed = faults.update(ratelimit_rate=1.0, blocked={"X@y.z"}, transfer_quota=10, transfer_quota_window=5)
    assert (changed.ratelimit_rate, changed.blocked) == (1.0, frozenset({"x@y.z"}))
    assert (changed.transfer_quota, changed.transfer_quota_window) == (10, 5.0)


def test_transfer_meter_rolls_its_window() -> None:
    now = [1000.0]
    quota: list[int | None] = [100]
    meter = TransferMeter(lambda: quota[0], lambda: 60.0, clock=lambda: now[0])
    meter.charge("u1", 60)
    assert meter.time_left("u1") is None  # under the quota
    now[0] += 10
    meter.charge("u1", 50)  # crosses it: served whole, the next one waits
    assert meter.used("u1") == 110
    assert meter.time_left("u1") == 50  # the first 60 bytes leave the window at 1060
    assert meter.time_left("u2") is None  # per account
    now[0] += 49.5
    assert meter.time_left("u1") == 1  # rounded up, never 0
    now[0] += 0.5
    assert meter.used("u1") == 50
    assert meter.time_left("u1") is None
    meter.charge("u1", 200)  # more than the whole quota: both charges must leave
    assert meter.time_left("u1") == 60
    quota[0] = None  # off
    assert meter.time_left("u1") is None
    quota[0] = 0  # off as well
    assert meter.time_left("u1") is None
