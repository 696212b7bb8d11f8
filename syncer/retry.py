"""Low-level retries: one operation tried again when the failure says a retry may help."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from backends.errors import BackendError

__all__ = ["with_retries"]

log = logging.getLogger("syncer.retry")

T = TypeVar("T")


def with_retries(
    operation: Callable[[], T],
    *,
    attempts: int,
    what: str,
    base_delay: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``; on a retryable BackendError try again, up to ``attempts`` tries in all, with
    exponential backoff and jitter. Other errors, and the last retryable one, propagate."""
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return operation()
        except BackendError as exc:
            if not exc.retryable or attempt >= attempts:
                raise
            delay = min(10.0, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random())
            log.debug("%s: low level retry %d/%d (%s), waiting %.2fs", what, attempt, attempts, exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
