"""Fault injection: the current fault settings, seeded dice, the shared bandwidth cap, hashcash challenges and
the per-account transfer quota.

Every fault is off by default and can change while the server runs (``Emulator.set_faults``). Decisions come
from one ``random.Random(seed)`` under a lock, so a test with a seed sees the same sequence of faults for the
same sequence of requests.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from backends.mega import hashcash
from backends.mega.emulator.settings import FAULT_FIELDS, EmulatorSettings

__all__ = ["Faults", "HashcashGate", "TokenBucket", "TransferMeter"]

MAX_CHALLENGES = 4096
CHALLENGE_LIFETIME = 600.0


class TokenBucket:
    """A bandwidth cap shared by every transfer: ``take(n)`` returns once n more bytes may pass.

    No burst credit is saved up: each call books its bytes on one shared timeline that advances by n / rate,
    and waits until its booking ends. So n bytes never pass in less than n / rate seconds, however the
    transfers interleave. A rate of 0 means unlimited; the rate is read on every call, so a change applies
    to transfers already running.
    """

    def __init__(self, rate: Callable[[], int]) -> None:
        self._rate = rate  # bytes per second, read on every call
        self._lock = threading.Lock()
        self._booked_until = 0.0

    def slice_size(self, unlimited: int = 1 << 20) -> int:
        """A good size for one send or receive: ``unlimited`` without a cap, else about a twentieth of a
        second's worth, a multiple of 12 bytes (and of 1 KiB) so upload checksum lanes stay aligned."""
        rate = int(self._rate())
        if rate <= 0:
            return unlimited
        return max(3072, min(1 << 20, rate // 20) // 3072 * 3072)

    def take(self, count: int) -> None:
        rate = float(self._rate())
        if rate <= 0 or count <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._booked_until = max(now, self._booked_until) + count / rate
            wait = self._booked_until - now
        time.sleep(wait)  # the caller's share of the cap: waiting is what a bandwidth limit does


class TransferMeter:
    """MEGA's transfer (bandwidth) quota: the bytes each account's downloads sent in a rolling window.

    ``charge`` books bytes as they are sent, just before each write (a download cut short counts what went
    out, give or take the slice in flight); the quota
    counts downloads only, as MEGA's does. ``time_left`` is None while the account is under its quota, else
    the whole seconds (at least 1) until enough of its bytes leave the window to bring it under again: the
    ``X-MEGA-Time-Left`` of an HTTP 509 and the ``tl`` of ``g`` (``shared/mega-protocol.md`` 9.1, 9.4).

    A request is refused only once the quota is used up, and then served whole: the real service cuts a
    transfer off when the quota runs out, and clients fetch in chunk-sized ranges, so the difference is at
    most one range. It also means that a file larger than the whole quota can still be fetched once. Bytes
    are counted whether or not the quota is on, so switching it on while running judges what was already
    downloaded in the window. The quota and window are read on every call (``Emulator.set_faults``).
    """

    def __init__(
        self,
        quota: Callable[[], int | None],
        window: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quota = quota
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, collections.deque[tuple[float, int]]] = {}

    def _recent(self, account: str, now: float) -> collections.deque[tuple[float, int]]:
        sent = self._sent.setdefault(account, collections.deque())
        cutoff = now - self._window()
        while sent and sent[0][0] <= cutoff:
            sent.popleft()
        return sent

    def charge(self, account: str, count: int) -> None:
        """Book ``count`` bytes sent to ``account``'s downloads now."""
        if count <= 0:
            return
        now = self._clock()
        with self._lock:
            self._recent(account, now).append((now, count))

    def used(self, account: str) -> int:
        """Bytes charged to ``account`` in the current window."""
        with self._lock:
            return sum(count for _, count in self._recent(account, self._clock()))

    def time_left(self, account: str) -> int | None:
        """None while ``account`` may download; else seconds until its usage falls below the quota."""
        quota = self._quota()
        if not quota:
            return None
        now = self._clock()
        with self._lock:
            sent = self._recent(account, now)
            remaining = sum(count for _, count in sent)
            if remaining < quota:
                return None
            window = self._window()
            for when, count in sent:  # oldest first: each leaves the window at when + window
                remaining -= count
                if remaining < quota:
                    return max(1, math.ceil(when + window - now))
        return 1  # not reached: the sum falls to 0, below any positive quota


class HashcashGate:
    """Issues proof-of-work challenges and accepts each solved one once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: OrderedDict[bytes, tuple[int, float]] = OrderedDict()

    def challenge(self, easiness: int) -> str:
        """A fresh challenge's ``X-Hashcash`` header value."""
        challenge = hashcash.new_challenge(easiness)
        with self._lock:
            self._issued[challenge.token] = (easiness, time.monotonic() + CHALLENGE_LIFETIME)
            while len(self._issued) > MAX_CHALLENGES:
                self._issued.popitem(last=False)
        return challenge.header

    def redeem(self, header: str | None) -> bool:
        """Whether ``header`` solves a challenge this gate issued (and not yet redeemed)."""
        if not header:
            return False
        try:
            token, prefix = hashcash.parse_solution(header)
        except hashcash.HashcashError:
            return False
        with self._lock:
            issued = self._issued.pop(token, None)
        if issued is None or issued[1] < time.monotonic():
            return False
        return hashcash.verify(token, issued[0], prefix)


class Faults:
    """The live fault settings and the dice that apply them."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._rng = random.Random(settings.seed)
        self._injected: collections.Counter[str] = collections.Counter()
        self.bandwidth = TokenBucket(lambda: self._settings.bandwidth)
        self.hashcash = HashcashGate()
        self.transfers = TransferMeter(
            lambda: self._settings.transfer_quota, lambda: self._settings.transfer_quota_window
        )

    @property
    def settings(self) -> EmulatorSettings:
        return self._settings

    def update(self, **changes: Any) -> EmulatorSettings:
        """Change fault settings; ValueError for a name that is not a fault or a value out of range."""
        unknown = set(changes) - FAULT_FIELDS
        if unknown:
            raise ValueError(f"not fault settings: {', '.join(sorted(unknown))}")
        with self._lock:
            self._settings = dataclasses.replace(self._settings, **changes)
            return self._settings

    def roll(self, rate: float, fault: str = "") -> bool:
        """True with probability ``rate``; a True roll is counted under ``fault`` (see ``injected``)."""
        if rate <= 0:
            return False
        with self._lock:
            hit = self._rng.random() < rate
            if hit and fault:
                self._injected[fault] += 1
            return hit

    def injected(self) -> dict[str, int]:
        """Faults injected so far, by kind (``"cs:eagain"``, ``"download:drop"``, ...): a test that turns
        faults on can show they really happened, not only that nothing broke."""
        with self._lock:
            return dict(self._injected)

    def below(self, limit: int) -> int:
        """A seeded integer in [0, limit)."""
        with self._lock:
            return self._rng.randrange(limit) if limit > 0 else 0
