"""``syncer jobs run --schedule``: stay in the foreground and run each job when its ``schedule:`` says.

A schedule is a cron expression (``"0 3 * * *"``: 03:00 every day, in the machine's time zone, as cron
reads it; parsed and stepped by croniter) or an interval (``"every 6h"``, ``"30m"``: first at start-up,
then that long after each start). Jobs run one at a time; a job that overruns the next one's time delays
it, and a run missed that way is not repeated (the next time after now counts), so a slow night never
queues a burst of catch-up runs.

The clock is a parameter: the loop asks it for the time and waits through it, so tests drive it with a
fake clock instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Clock", "Schedule", "SystemClock", "parse_schedule", "run_on_schedule"]

log = logging.getLogger("syncer.schedule")

_INTERVAL = re.compile(r"(?:every\s+)?(\d+(?:\.\d+)?)\s*(s|m|h|d)", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    """A cron expression (``cron``) or an interval in seconds (``every_s``); ``text`` as written."""

    text: str
    cron: str | None = None
    every_s: float | None = None

    def first(self, now: float) -> float:
        """When the first run is due, for a runner started at ``now``."""
        return now if self.every_s is not None else self.after(now)

    def after(self, moment: float) -> float:
        """The first time strictly after ``moment`` that the schedule names."""
        if self.every_s is not None:
            return moment + self.every_s
        from croniter import croniter

        assert self.cron is not None
        start = dt.datetime.fromtimestamp(moment).astimezone()  # local time, as cron reads expressions
        return float(croniter(self.cron, start).get_next(float))


def parse_schedule(text: str) -> Schedule:
    """``text`` as a Schedule; ValueError with a one-line reason for anything else."""
    written = text.strip()
    interval = _INTERVAL.fullmatch(written)
    if interval:
        seconds = float(interval.group(1)) * _UNITS[interval.group(2).lower()]
        if seconds < 1:
            raise ValueError(f"interval {text!r} is shorter than a second")
        return Schedule(written, every_s=seconds)
    from croniter import croniter

    if len(written.split()) != 5 or not croniter.is_valid(written):
        raise ValueError(
            f"not a schedule: {text!r} (a cron expression like '0 3 * * *', or an interval like 'every 6h')"
        )
    return Schedule(written, cron=written)


class Clock(Protocol):
    def now(self) -> float: ...

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Return after ``seconds``, or as soon as ``stop`` is set."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def wait(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(max(0.0, seconds))


def run_on_schedule(
    entries: Sequence[tuple[str, Schedule]],
    run: Callable[[str], int],
    *,
    clock: Clock,
    stop: threading.Event,
) -> list[int]:
    """Run each named entry when due (``run(name)`` returns its exit code) until ``stop`` is set; returns
    the exit codes in the order the runs happened."""
    if not entries:
        return []
    schedules = dict(entries)
    start = clock.now()
    due = {name: schedule.first(start) for name, schedule in entries}
    order = {name: i for i, (name, _) in enumerate(entries)}
    codes: list[int] = []
    while not stop.is_set():
        name = min(due, key=lambda n: (due[n], order[n]))
        when = due[name]
        now = clock.now()
        if when > now:
            log.info("Next: job %s at %s", name, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)))
            clock.wait(when - now, stop)
            if stop.is_set():
                break
            if clock.now() < when:
                continue  # woken early: look again
        log.warning("Job %s: due (%s)", name, schedules[name].text)
        codes.append(run(name))
        due[name] = schedules[name].after(max(when, clock.now()) if schedules[name].cron else when)
        if schedules[name].every_s is not None and due[name] <= clock.now():
            due[name] = schedules[name].after(clock.now())  # overran its own interval: no catch-up burst
    return codes
