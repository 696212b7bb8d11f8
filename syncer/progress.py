"""Showing a run while it happens: ``-P`` (a live display on a terminal), ``--stats`` (periodic log lines).

Only reads Stats. On a terminal ``-P`` redraws in place; without one (CI, a pipe, ``CI=true``) it falls back
to plain log lines, since a redrawn display turns into noise in a log.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from types import TracebackType
from typing import Any

from .accounting import Stats
from .humanize import size_suffix

__all__ = ["Reporter", "interactive"]

log = logging.getLogger("syncer")

#: Plain progress lines for -P without a terminal come this often (seconds).
PLAIN_PROGRESS_INTERVAL = 5.0


def interactive(env: dict[str, str] | None = None) -> bool:
    """Whether stderr is a terminal a person watches (not CI)."""
    env = dict(os.environ) if env is None else env
    if env.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return sys.stderr.isatty()


class Reporter:
    """Context manager around a run: reports its progress from a background thread until the block ends."""

    def __init__(
        self,
        stats: Stats,
        *,
        progress: bool = False,
        interval: float | None = None,
        one_line: bool = False,
        live: bool | None = None,
    ) -> None:
        self.stats = stats
        self.one_line = one_line
        self.live = progress and (interactive() if live is None else live)
        if self.live:
            self.period: float | None = 0.5
        elif progress:
            self.period = interval or PLAIN_PROGRESS_INTERVAL
        else:
            self.period = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._display: Any = None

    def __enter__(self) -> Reporter:
        if self.period:
            if self.live:
                from rich.console import Console
                from rich.live import Live

                self._display = Live(self._render(), console=Console(stderr=True), transient=False)
                self._display.start()
            self._thread = threading.Thread(target=self._loop, name="syncer-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._display is not None:
            self._display.update(self._render())
            self._display.stop()

    def _loop(self) -> None:
        assert self.period
        while not self._stop.wait(self.period):
            self.report()

    def report(self) -> None:
        """One update: redraw the live display, or log the stats."""
        if self._display is not None:
            self._display.update(self._render())
        elif self.one_line:
            log.info("%s", self.stats.one_line())
        else:
            log.info("%s", self.stats.summary())

    def _render(self) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right")
        table.add_column()
        table.add_row("Transferred:", self.stats.one_line())
        figures = self.stats.snapshot()
        table.add_row("Checks:", f"{int(figures['checks'])}")
        table.add_row("Deleted:", f"{int(figures['deletes'])}")
        table.add_row("Errors:", f"{int(figures['errors'])}")
        table.add_row("Elapsed time:", f"{figures['elapsed']:.1f}s")
        flights = self.stats.flights()
        if flights:
            table.add_row("Transferring:", "")
            for path, size, done, rate in flights[:10]:
                percent = f"{100 * done / size:.0f}%" if size else "-"
                table.add_row("*", f"{path}: {percent} /{size_suffix(int(size))}, {size_suffix(int(rate))}/s")
        return table
