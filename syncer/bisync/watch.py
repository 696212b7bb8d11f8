"""``bisync --watch``: stay running and bisync again after each settled burst of changes on either side.

Each side reports changes through its backend's ``watch`` (local folders: watchdog; MEGA: the ``sc``
action-packet channel, which also keeps the account's tree current); a side that cannot report them is
polled. A burst is "settled" when no change has been reported for ``settle_s`` (or ``max_settle_s`` after
its first change, so a folder that never stops changing is still synced). Each pass is a whole bisync:
it re-lists both sides (a local walk, MEGA's tree in memory) and carries only what changed.

Ctrl-C sets ``stop``: the pass in hand finishes the action it is doing, starts no other, and the command
exits cleanly; the state records exactly what was done. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from backends import Backend
from backends.errors import BackendError

from ..debris import DEBRIS_DIR

__all__ = ["WatchTiming", "Watcher"]

log = logging.getLogger("syncer.bisync")


@dataclass(frozen=True)
class WatchTiming:
    settle_s: float = 0.5
    max_settle_s: float = 5.0
    #: how often a side that cannot report changes is looked at
    poll_s: float = 10.0
    #: the wait before a failed change channel is opened again
    retry_s: float = 5.0


class Watcher:
    """Change reports from both sides, gathered into one "something changed" signal."""

    def __init__(self, sides: Mapping[int, Backend], timing: WatchTiming, stop: threading.Event) -> None:
        self.sides, self.timing, self.stop = sides, timing, stop
        self._changed = threading.Event()
        self._last = time.monotonic()
        self._seen: set[int] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _notify(self, side: int, path: str) -> None:
        if path == DEBRIS_DIR or path.startswith(f"{DEBRIS_DIR}/"):
            return  # where this command puts what it replaces: not a change to carry
        with self._lock:
            self._last = time.monotonic()
            self._seen.add(side)
        self._changed.set()

    def _follow(self, side: int) -> None:
        backend = self.sides[side]
        while not self.stop.is_set():
            if not backend.features.change_notify:
                if not self.stop.wait(self.timing.poll_s):
                    self._notify(side, "")
                continue
            try:
                backend.watch(lambda path: self._notify(side, path), self.stop)
            except BackendError as exc:
                log.error("%s: watching for changes failed (%s); trying again", backend.describe(), exc)
                self.stop.wait(self.timing.retry_s)

    def start(self) -> None:
        for side in self.sides:
            thread = threading.Thread(
                target=self._follow, args=(side,), name=f"watch-path{side}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def join(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def settled(self) -> set[int] | None:
        """Wait for a burst of changes to settle; the sides that changed, or None once ``stop`` is set."""
        while not self.stop.is_set():
            if not self._changed.wait(0.2):
                continue
            first = time.monotonic()
            while not self.stop.is_set():
                now = time.monotonic()
                with self._lock:
                    quiet = now - self._last
                if quiet >= self.timing.settle_s or now - first >= self.timing.max_settle_s:
                    break
                self.stop.wait(min(0.1, self.timing.settle_s - quiet))
            with self._lock:
                self._changed.clear()
                sides, self._seen = self._seen, set()
            if not self.stop.is_set():
                return sides
        return None
