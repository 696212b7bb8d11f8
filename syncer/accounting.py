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
    #: Transfers in flight: path -> [size, bytes done, start time].
    in_flight: dict[str, list[float]] = field(default_factory=dict)
    #: Bytes of the planned transfers, for percentages and the ETA (0: unknown yet).
    planned_bytes: int = 0
    planned_transfers: int = 0
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

    def begin(self, path: str, size: int) -> None:
        """A transfer starts (its bytes are then counted as they flow)."""
        with self._lock:
            self.in_flight[path] = [float(max(size, 0)), 0.0, time.monotonic()]

    def flowed(self, path: str, count: int) -> None:
        """``count`` more bytes of ``path`` went through."""
        with self._lock:
            self.bytes += count
            item = self.in_flight.get(path)
            if item is not None:
                item[1] += count

    def end(self, path: str, *, ok: bool, size: int) -> None:
        """A transfer ended; bytes not seen flowing (server-side copies) are counted now."""
        with self._lock:
            item = self.in_flight.pop(path, None)
            seen = int(item[1]) if item is not None else 0
            if ok:
                self.transfers += 1
                self.bytes += max(size, 0) - seen
            else:
                self.bytes -= seen

    def snapshot(self) -> dict[str, float]:
        """The figures a progress display needs, read consistently."""
        with self._lock:
            elapsed = max(time.monotonic() - self.started, 1e-9)
            return {
                "bytes": self.bytes,
                "planned_bytes": self.planned_bytes,
                "transfers": self.transfers,
                "planned_transfers": self.planned_transfers,
                "checks": self.checks,
                "deletes": self.deletes,
                "errors": self.errors,
                "elapsed": elapsed,
                "rate": self.bytes / elapsed,
            }

    def flights(self) -> list[tuple[str, float, float, float]]:
        """(path, size, done, rate) of each transfer in flight."""
        now = time.monotonic()
        with self._lock:
            return [
                (path, size, done, done / max(now - began, 1e-9))
                for path, (size, done, began) in sorted(self.in_flight.items())
            ]

    def one_line(self) -> str:
        """``--stats-one-line``: bytes done / planned, percentage, rate, ETA."""
        s = self.snapshot()
        done, planned = int(s["bytes"]), int(s["planned_bytes"])
        percent = f"{100 * done // planned}%" if planned else "-"
        remaining = planned - done
        eta = f"{remaining / s['rate']:.0f}s" if planned and s["rate"] > 0 and remaining > 0 else "-"
        return (
            f"{size_suffix(done)} / {size_suffix(planned)}, {percent}, {size_suffix(int(s['rate']))}/s, "
            f"ETA {eta} (xfr#{int(s['transfers'])}/{int(s['planned_transfers'])}, "
            f"chk#{int(s['checks'])}, err#{int(s['errors'])})"
        )

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
