"""``--bwlimit``: one token bucket shared by every transfer of a run, so the total rate stays under it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["BandwidthLimit", "parse_rate"]


class BandwidthLimit:
    """Blocks readers so that bytes flow at no more than ``rate`` per second on average (bursts of one
    second's worth allowed)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._clock, self._sleep = clock, sleep
        self._tokens = rate
        self._last = clock()
        self._lock = threading.Lock()

    def take(self, count: int) -> None:
        """Account ``count`` bytes, waiting first if they would exceed the rate."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= count
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


def parse_rate(text: str) -> float | None:
    """rclone's ``--bwlimit`` value in bytes per second: its size syntax (``10M`` = 10 MiB/s, ``512k``, a
    bare number is KiB/s); ``off`` or ``0`` for no limit. Raises ValueError."""
    from filters import FilterError, parse_size

    try:
        rate = parse_size(text.strip())
    except FilterError:
        raise ValueError(f"invalid --bwlimit {text!r} (e.g. 10M, 512k, off)") from None
    return float(rate) if rate else None
