"""Counters of one run: errors now, transfers and bytes as the engine grows. Observes, never decides."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from backends.errors import BackendError

from .errors import exit_code_for

__all__ = ["Stats"]

log = logging.getLogger("syncer.accounting")


@dataclass
class Stats:
    """What happened during one command, shared by its worker threads."""

    errors: int = 0
    last_error: BaseException | None = None
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

    def exit_code(self) -> int:
        """0 when nothing failed, else the code of the last error (rclone reports the last one)."""
        if self.last_error is None:
            return 0
        return exit_code_for(self.last_error)
