"""Progress reporting and the bandwidth limit, with fake clocks where time matters."""

from __future__ import annotations

import io
import logging
import threading

import pytest

from backends.memory import MemoryBackend
from syncer.accounting import Stats
from syncer.bwlimit import BandwidthLimit, parse_rate
from syncer.operations import copy_file
from syncer.progress import Reporter, interactive


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bandwidth_limit_waits_for_what_exceeds_the_rate() -> None:
    clock = FakeClock()
    limit = BandwidthLimit(1000, clock=clock, sleep=clock.sleep)
    limit.take(1000)  # the first second's worth goes at once
    assert clock.slept == []
    limit.take(500)
    assert clock.slept == [pytest.approx(0.5)]
    clock.now += 10  # idle time refills at most one second's worth
    limit.take(1000)
    limit.take(1000)
    assert clock.slept[-1] == pytest.approx(1.0)
    assert sum(clock.slept) == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("off", None),
        ("0", None),
        ("10M", 10 << 20),
        ("512k", 512 << 10),
        ("1.5G", 1.5 * (1 << 30)),
        ("100", 100 << 10),
    ],
)
def test_parse_rate(text: str, rate: float | None) -> None:
    assert parse_rate(text) == rate


def test_parse_rate_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="invalid --bwlimit"):
        parse_rate("fast")


def test_streamed_copy_counts_bytes_as_they_flow() -> None:
    src, dst = MemoryBackend("a", ""), MemoryBackend("b", "")
    entry = src.put("f", io.BytesIO(b"x" * 3_000_000), size=3_000_000, mtime_ns=1)
    stats = Stats()
    stats.begin("f", entry.size)
    seen: list[int] = []

    def flowed(count: int) -> None:
        seen.append(count)
        stats.flowed("f", count)

    copy_file(src, entry, dst, "f", on_bytes=flowed)
    assert sum(seen) == 3_000_000 and len(seen) >= 3  # several blocks, not one
    stats.end("f", ok=True, size=entry.size)
    assert (stats.transfers, stats.bytes, stats.in_flight) == (1, 3_000_000, {})


def test_failed_transfer_takes_its_bytes_back() -> None:
    stats = Stats()
    stats.begin("f", 100)
    stats.flowed("f", 60)
    stats.end("f", ok=False, size=100)
    assert (stats.transfers, stats.bytes) == (0, 0)


def test_server_side_copy_counts_its_size_at_the_end() -> None:
    stats = Stats()
    stats.begin("f", 100)
    stats.end("f", ok=True, size=100)
    assert (stats.transfers, stats.bytes) == (1, 100)


def test_one_line_stats() -> None:
    stats = Stats()
    stats.planned_bytes, stats.planned_transfers = 2048, 2
    stats.begin("a", 1024)
    stats.flowed("a", 1024)
    stats.end("a", ok=True, size=1024)
    line = stats.one_line()
    assert line.startswith("1 KiB / 2 KiB, 50%, ")
    assert "(xfr#1/2, chk#0, err#0)" in line


def test_plain_reporter_logs_periodically(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="syncer")
    stats = Stats()
    reported = threading.Event()
    handler = logging.Handler()
    handler.emit = lambda record: reported.set()  # type: ignore[method-assign]
    logging.getLogger("syncer").addHandler(handler)
    try:
        with Reporter(stats, interval=0.01, one_line=True, live=False):
            assert reported.wait(10), "no progress line within 10 s"
    finally:
        logging.getLogger("syncer").removeHandler(handler)
    assert any("xfr#0/0" in r.getMessage() for r in caplog.records)


def test_progress_without_a_terminal_is_plain() -> None:
    assert interactive({"CI": "true"}) is False
    reporter = Reporter(Stats(), progress=True, live=False)
    assert reporter.live is False and reporter.period == 5.0


def test_run_parallel_does_every_item_once_and_raises_a_bug() -> None:
    from syncer.parallel import run_parallel

    seen: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> None:
        with lock:
            seen.append(item)

    run_parallel(list(range(1000)), work, workers=4)
    assert sorted(seen) == list(range(1000))

    def broken(item: int) -> None:
        if item == 7:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        run_parallel(list(range(100)), broken, workers=3)
