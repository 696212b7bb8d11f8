"""Counters of one run, shared by its worker threads. Observes, never decides."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from backends.errors import BackendError

from .errors import exit_code_for
from .humanize import size_suffix

__all__ = ["Stats"]

log = logging.getLogger("syncer.accounting")


@dataclass
class Stats:
    """What happened during one command."""

    errors: int = 0
    last_error: BaseException | None = None
    transfers: int = 0
    bytes: int = 0
    checks: int = 0
    deletes: int = 0
    dirs_deleted: int = 0
    renames: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def error(self, exc: BaseException, context: str = "") -> None:
        """Record an error that did not stop the run, and log it as one line."""
        with self._lock:
            self.errors += 1
            self.last_error = exc
        # The context names the object; a backend error's own path would repeat it.
        reason = exc.message if isinstance(exc, BackendError) and context else str(exc)
        if context:
            log.error("%s: %s", context, reason)
        else:
            log.error("%s", reason)

    def count(self, *, transfers: int = 0, bytes: int = 0, checks: int = 0, deletes: int = 0,
              dirs_deleted: int = 0, renames: int = 0) -> None:  # fmt: skip
        with self._lock:
            self.transfers += transfers
            self.bytes += bytes
            self.checks += checks
            self.deletes += deletes
            self.dirs_deleted += dirs_deleted
            self.renames += renames

    def reset_errors(self) -> None:
        """Forget the errors of a failed attempt before the whole run is retried (``--retries``)."""
        with self._lock:
            self.errors = 0
            self.last_error = None

    def exit_code(self) -> int:
        """0 when nothing failed, else the code of the last error (rclone reports the last one)."""
        if self.last_error is None:
            return 0
        return exit_code_for(self.last_error)

    def summary(self) -> str:
        """rclone's closing stats block."""
        elapsed = time.monotonic() - self.started
        rate = self.bytes / elapsed if elapsed > 0 else 0.0
        return (
            f"\nTransferred:   {size_suffix(self.bytes)}, {size_suffix(int(rate))}/s\n"
            f"Checks:        {self.checks}\n"
            f"Deleted:       {self.deletes} (files), {self.dirs_deleted} (dirs)\n"
            f"Renamed:       {self.renames}\n"
            f"Transferred:   {self.transfers} files\n"
            f"Errors:        {self.errors}\n"
            f"Elapsed time:  {elapsed:.1f}s"
        )
