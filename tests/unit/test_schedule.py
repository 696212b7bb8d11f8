"""``syncer.schedule``: schedules parsed (cron expressions and intervals), and the runner driven by a fake
clock, so hours of schedule take no time: order, timing, no catch-up burst after an overrun, stop."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from syncer.schedule import Schedule, parse_schedule, run_on_schedule

#: 2027-01-15 08:00:00 UTC: the start of a minute in every time zone (offsets are whole minutes)
T0 = 1_800_000_000.0
assert T0 % 60 == 0


class FakeClock:
    """Time moves only when the runner waits or a job runs."""

    def __init__(self, start: float) -> None:
        self.time = start
        self.waits: list[float] = []

    def now(self) -> float:
        return self.time

    def wait(self, seconds: float, stop: threading.Event) -> None:
        self.waits.append(seconds)
        if not stop.is_set():
            self.time += seconds


def _runner(
    clock: FakeClock, stop: threading.Event, runs: int, took: dict[str, float] | None = None
) -> tuple[Callable[[str], int], list[tuple[str, float]]]:
    """A job runner that records (name, start time), takes ``took[name]`` seconds (1 s by default) and
    stops the schedule after ``runs`` runs; the job named "bad" exits 3."""
    happened: list[tuple[str, float]] = []

    def run(name: str) -> int:
        happened.append((name, clock.now()))
        clock.time += (took or {}).get(name, 1.0)
        if len(happened) >= runs:
            stop.set()
        return 0 if name != "bad" else 3

    return run, happened


@pytest.mark.parametrize(
    ("text", "every"),
    [
        ("every 6h", 21600),
        ("30m", 1800),
        ("every 1.5h", 5400),
        ("10s", 10),
        ("every 2d", 172800),
        ("5 M", 300),
    ],
)
def test_intervals(text: str, every: float) -> None:
    schedule = parse_schedule(text)
    assert schedule.every_s == every and schedule.cron is None
    assert schedule.first(T0) == T0  # an interval job runs at start-up
    assert schedule.after(T0) == T0 + every


@pytest.mark.parametrize("text", ["0 3 * * *", "*/15 * * * *", "0 0 1 1 *", " 30 2 * * 1-5 "])
def test_cron_expressions(text: str) -> None:
    schedule = parse_schedule(text)
    assert schedule.cron == text.strip() and schedule.every_s is None


@pytest.mark.parametrize(
    "text", ["every", "0 3 * *", "61 * * * *", "0 3 * * * *", "0.5s", "soon", "", "every -1h"]
)
def test_not_schedules(text: str) -> None:
    with pytest.raises(ValueError, match=r"schedule|interval"):
        parse_schedule(text)


def test_cron_steps_to_the_next_match() -> None:
    quarter = parse_schedule("*/15 * * * *")
    assert quarter.first(T0 + 7 * 60 + 30) == T0 + 15 * 60
    assert quarter.after(T0 + 15 * 60) == T0 + 30 * 60  # strictly after
    minute = parse_schedule("* * * * *")
    assert minute.after(T0 + 0.5) == T0 + 60


def test_jobs_run_in_order_and_on_time() -> None:
    clock, stop = FakeClock(T0 + 10), threading.Event()
    run, happened = _runner(clock, stop, runs=6)
    codes = run_on_schedule(
        [("often", parse_schedule("every 30s")), ("minutely", parse_schedule("* * * * *"))],
        run,
        clock=clock,
        stop=stop,
    )
    assert codes == [0] * 6
    assert happened == [
        ("often", T0 + 10),  # at start-up
        ("often", T0 + 40),
        ("minutely", T0 + 60),  # the first minute boundary
        ("often", T0 + 70),
        ("often", T0 + 100),
        ("minutely", T0 + 120),
    ]


def test_a_job_that_overruns_its_interval_is_not_repeated_in_a_burst() -> None:
    clock, stop = FakeClock(T0), threading.Event()
    run, happened = _runner(clock, stop, runs=3, took={"slow": 250.0})
    run_on_schedule([("slow", parse_schedule("every 60s"))], run, clock=clock, stop=stop)
    # each run takes 250 s: the next one is one interval after it ended, not four runs back to back
    assert [t - T0 for _, t in happened] == [0, 310, 620]


def test_a_late_job_delays_the_next_and_keeps_its_exit_code() -> None:
    clock, stop = FakeClock(T0), threading.Event()
    run, happened = _runner(clock, stop, runs=3, took={"bad": 90.0})
    codes = run_on_schedule(
        [("bad", parse_schedule("every 1h")), ("minutely", parse_schedule("* * * * *"))],
        run,
        clock=clock,
        stop=stop,
    )
    assert [name for name, _ in happened] == ["bad", "minutely", "minutely"]
    assert happened[1][1] == T0 + 90  # due at T0 + 60, started when "bad" ended
    assert happened[2][1] == T0 + 120
    assert codes == [3, 0, 0]


def test_stop_ends_the_wait() -> None:
    clock, stop = FakeClock(T0), threading.Event()
    stop.set()
    assert (
        run_on_schedule([("daily", parse_schedule("0 3 * * *"))], lambda name: 0, clock=clock, stop=stop)
        == []
    )
    assert run_on_schedule([], lambda name: 0, clock=clock, stop=threading.Event()) == []


def test_schedule_is_plain_data() -> None:
    assert parse_schedule("every 6h") == Schedule("every 6h", every_s=21600)
