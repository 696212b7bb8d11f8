"""Ctrl-C as a request to stop: long-running commands (``bisync --watch``, ``jobs run --schedule``) finish
the action in hand, start no other and exit cleanly; a second Ctrl-C interrupts at once."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

__all__ = ["interrupt_sets"]

log = logging.getLogger("syncer")


def interrupt_sets(stop: threading.Event) -> Callable[[], None]:
    """Make Ctrl-C set ``stop`` (a second one raises KeyboardInterrupt); returns what restores the old
    handler. Only possible from the main thread; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("Stopping after the action in hand (Ctrl-C again to stop at once)")
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore
