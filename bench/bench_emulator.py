#!/usr/bin/env python3
"""How fast does the MEGA emulator move bytes? Upload and download of one 1 GiB file over loopback.

The emulator must never be what limits a transfer benchmark of the MEGA backend: the target is at least
400 MB/s (10^6 bytes) each way on a 2-core machine.

How it is measured, and why:

* The emulator runs as its own process (``python -m backends.mega.emulator``, what ``syncer mega-emulator``
  runs), so it shares no interpreter lock with the client.
* Its data directory is on ``/dev/shm`` (RAM) when that exists, because a benchmark of the server must not
  measure the disk: on this VM, writing a few GiB into the page cache soon gets the writer throttled to the
  disk's ~250 MB/s (dirty-page writeback), whoever the writer is. ``--data-parent DIR`` measures on a disk.
* The client is httpx, our backend's transport, in ``--procs`` processes (default 2) of ``--threads``
  threads each (default 2): one Python process of httpx reads about 300-450 MB/s, so a single client
  process would measure itself. It logs in with MEGA's real key derivation, asks ``u`` for an upload URL and
  POSTs the file in pieces that start and end on MEGA's chunk boundaries (7.5 MiB, then 8 MiB each); then
  attaches the node with ``p``, asks ``g`` for the download URL and streams 8 MiB ranges.
* The bytes are "ciphertext" the server cannot tell from real: seeded random, made by every client process
  before timing. Every piece after the first starts at the same offset modulo 8 MiB, so three bodies serve the
  whole file. ``--checksum`` adds the web client's ``?c=`` piece checksum (computed before timing), which the
  server then verifies.
* The clock runs from the first request to the last answer; client processes are started before, and an
  untimed round (``--warmup``) comes first: on this VM the first touch of fresh memory is several times
  slower than any later round. Every downloaded byte is compared with what was uploaded, inside the timing
  (a memory compare). The table shows the best and the median of ``--runs`` upload+download rounds.

Results: one JSON line (the last line of the output, and ``--json FILE``) and a table. A missed target prints
``TARGET MISSED`` but does not fail; a wrong byte or answer does (``BENCHMARK FAILED``, exit code 1).
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from bench_listing import emit_record

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.mega import crypto  # noqa: E402

MIB = 1024 * 1024
PERIOD = 8 * MIB
TARGET_MB_S = 400.0
EMAIL = "bench@example.com"
SEED = 20261123


class BenchError(Exception):
    """The emulator answered something wrong: the benchmark's numbers would mean nothing."""


def file_window() -> bytes:
    """Two periods of the file's content: any 8 MiB window of the file is a slice of this."""
    return random.Random(SEED).randbytes(PERIOD) * 2


def start_emulator(data_dir: Path, config: Path, password: str) -> tuple[subprocess.Popen[str], str]:
    """The emulator as a child process with one account; returns it and its API URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "backends.mega.emulator", "--data", str(data_dir), "--port", "0",
         "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "BENCH_EMULATOR_PASSWORD": password},
    )  # fmt: skip
    api_url = api_url_of(process)
    if api_url is None:
        process.kill()
        raise BenchError("the emulator did not start")
    return process, api_url


def api_url_of(process: subprocess.Popen[str], timeout_s: float = 60) -> str | None:
    """The API URL a starting emulator prints on its stdout; None if it exits or prints none in time."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        found = re.search(r"https?://\S+/", line)
        if found:
            return found.group(0)
        if not line and process.poll() is not None:
            break
    return None


# -- client processes ---------------------------------------------------------------------------------------

_data = b""
_http: httpx.Client | None = None


def _init_worker(threads: int) -> None:
    global _data, _http
    _data = file_window()
    limits = httpx.Limits(max_connections=threads + 1, max_keepalive_connections=threads + 1)
    _http = httpx.Client(timeout=120, limits=limits, trust_env=False)


def _warm_up(_: int) -> int:
    time.sleep(0.1)
    return os.getpid()


def _upload_share(job: tuple[str, list[tuple[int, int]], int, bool]) -> list[bytes]:
    """POST this process's pieces over ``threads`` connections; returns the non-empty replies."""
    url, pieces, threads, checksum = job
    assert _http is not None
    http = _http
    bodies: dict[tuple[int, int], tuple[bytes, str]] = {}
    for offset, length in pieces:
        key = (offset % PERIOD, length)
        if key not in bodies:
            body = _data[key[0] : key[0] + length]
            query = f"?c={crypto.b64encode(crypto.upload_checksum(body))}" if checksum else ""
            bodies[key] = (body, query)

    def send(piece: tuple[int, int]) -> bytes:
        body, query = bodies[(piece[0] % PERIOD, piece[1])]
        response = http.post(f"{url}/{piece[0]}{query}", content=body)
        if response.status_code != 200 or (response.content and len(response.content) != 36):
            raise BenchError(f"piece {piece[0]}: HTTP {response.status_code} {response.content[:40]!r}")
        return response.content

    with ThreadPoolExecutor(threads) as pool:
        return [reply for reply in pool.map(send, pieces) if reply]


def _download_share(job: tuple[str, list[tuple[int, int]], int]) -> int:
    """Stream this process's ranges over ``threads`` connections, comparing every byte; returns the count."""
    url, ranges, threads = job
    assert _http is not None
    http = _http

    def fetch(span: tuple[int, int]) -> int:
        start, end = span
        position = start % PERIOD
        received = 0
        with http.stream("GET", f"{url}/{start}-{end}") as response:
            if response.status_code != 200:
                raise BenchError(f"range {start}-{end}: HTTP {response.status_code}")
            for chunk in response.iter_raw(MIB):
                if chunk != _data[position : position + len(chunk)]:
                    raise BenchError(f"range {start}-{end}: wrong bytes at {start + received}")
                position += len(chunk)
                received += len(chunk)
        if received != end - start + 1:
            raise BenchError(f"range {start}-{end}: {received} bytes")
        return received

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(fetch, ranges))


class Api:
    """Just enough of a MEGA client: login, u, p, g."""

    def __init__(self, http: httpx.Client, api_url: str) -> None:
        self.http = http
        self.base = api_url
        self.seq = 0
        self.sid = ""
        self.master_key = b""

    def call(self, command: dict[str, Any]) -> Any:
        self.seq += 1
        params = {"id": str(self.seq), **({"sid": self.sid} if self.sid else {})}
        response = self.http.post(f"{self.base}cs", params=params, json=[command])
        answer = response.json()
        if isinstance(answer, int) or (isinstance(answer[0], int) and answer[0] < 0):
            raise BenchError(f"{command['a']} failed: {answer}")
        return answer[0]

    def login(self, email: str, password: str) -> None:
        salt = crypto.b64decode(self.call({"a": "us0", "user": email})["s"])
        password_key, auth_key = crypto.derive_v2(password, salt)
        answer = self.call({"a": "us", "user": email, "uh": crypto.b64encode(auth_key)})
        self.master_key = crypto.aes_ecb_decrypt(password_key, crypto.b64decode(answer["k"]))
        blob = crypto.aes_ecb_decrypt(self.master_key, crypto.b64decode(answer["privk"]))
        self.sid = crypto.decrypt_session_id(crypto.decode_private_key(blob), answer["csid"])


def upload_pieces(size: int) -> list[tuple[int, int]]:
    """(offset, length): the largest chunk-aligned pieces of at most 8 MiB."""
    pieces, start = [], 0
    while start < size:
        end = min(size, start + PERIOD)
        if end < size:
            end = crypto.chunk_floor(end)
        pieces.append((start, end - start))
        start = end
    return pieces


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def deal(items: Sequence[tuple[int, int]], hands: int) -> list[list[tuple[int, int]]]:
    """Round-robin shares, so every process works over the whole file at once."""
    return [list(items[i::hands]) for i in range(hands)]


def default_data_parent() -> Path | None:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--procs", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="parallel requests per process (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="timed upload+download rounds (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--checksum", action="store_true", help="send ?c= piece checksums")
    parser.add_argument(
        "--data-parent", type=Path, default=default_data_parent(), help="where the emulator keeps its data"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON result line here")
    args = parser.parse_args(argv)
    size = args.size * MIB
    password = crypto.b64encode(os.urandom(12))
    uploads: list[float] = []
    downloads: list[float] = []
    pieces = upload_pieces(size)
    ranges = [(start, min(size, start + PERIOD) - 1) for start in range(0, size, PERIOD)]
    with (
        tempfile.TemporaryDirectory(prefix="bench-emulator-", dir=args.data_parent) as scratch,
        ProcessPoolExecutor(args.procs, initializer=_init_worker, initargs=(args.threads,)) as clients,
    ):
        work = Path(scratch)
        config = work / "accounts.yaml"
        config.write_text(f'accounts:\n  - email: {EMAIL}\n    password: "${{BENCH_EMULATOR_PASSWORD}}"\n')
        list(clients.map(_warm_up, range(args.procs * 4)))
        process, api_url = start_emulator(work / "data", config, password)
        try:
            with httpx.Client(timeout=120, trust_env=False) as http:
                api = Api(http, api_url)
                api.login(EMAIL, password)
                root = next(n["h"] for n in api.call({"a": "f", "c": 1})["f"] if n["t"] == 2)
                for run in range(-args.warmup, args.runs):
                    url = api.call({"a": "u", "s": size})["p"]
                    replies: list[bytes] = []

                    def upload(url: str = url, replies: list[bytes] = replies) -> None:
                        jobs = [
                            (url, share, args.threads, args.checksum) for share in deal(pieces, args.procs)
                        ]
                        for share_replies in clients.map(_upload_share, jobs):
                            replies.extend(share_replies)

                    upload_seconds = timed(upload)
                    if len(replies) != 1:
                        raise BenchError(f"expected one completion token, got {len(replies)}")
                    node_key = crypto.b64encode(crypto.aes_ecb_encrypt(api.master_key, os.urandom(32)))
                    attrs = crypto.b64encode(os.urandom(32))
                    node = {"h": replies[0].decode("ascii"), "t": 0, "a": attrs, "k": node_key}
                    handle = api.call({"a": "p", "t": root, "n": [node]})["f"][0]["h"]
                    download_url = api.call({"a": "g", "g": 1, "n": handle})["g"]

                    def download(url: str = download_url) -> None:
                        jobs = [(url, share, args.threads) for share in deal(ranges, args.procs)]
                        if sum(clients.map(_download_share, jobs)) != size:
                            raise BenchError("download came short")

                    download_seconds = timed(download)
                    api.call({"a": "d", "n": handle})
                    label = "warm-up" if run < 0 else f"run {run + 1}"
                    print(
                        f"{label}: upload {size / upload_seconds / 1e6:.0f} MB/s,"
                        f" download {size / download_seconds / 1e6:.0f} MB/s",
                        file=sys.stderr,
                    )
                    if run >= 0:
                        uploads.append(upload_seconds)
                        downloads.append(download_seconds)
        except BenchError as exc:
            print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            process.terminate()
            process.wait(30)

    def rate(seconds: float) -> float:
        return round(size / seconds / 1e6, 1)

    where = args.data_parent or tempfile.gettempdir()
    print(
        f"\nMEGA emulator, {args.size} MiB over loopback, data in {where}, httpx clients: "
        f"{args.procs} processes x {args.threads} requests{', ?c= checksums' if args.checksum else ''}; "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'':10} {'best MB/s':>10} {'median MB/s':>12} {'target':>8}")
    record: dict[str, Any] = {
        "bench": "emulator",
        "size_bytes": size,
        "procs": args.procs,
        "threads": args.threads,
        "checksum": args.checksum,
        "data_parent": str(where),
        "runs": args.runs,
        "cpus": os.cpu_count(),
    }
    missed = []
    for name, seconds in (("upload", uploads), ("download", downloads)):
        best, median = rate(min(seconds)), rate(statistics.median(seconds))
        print(f"{name:10} {best:>10.0f} {median:>12.0f} {TARGET_MB_S:>8.0f}")
        record[f"{name}_mb_s_best"] = best
        record[f"{name}_mb_s_median"] = median
        record[f"{name}_seconds"] = [round(s, 3) for s in seconds]
        if median < TARGET_MB_S:
            missed.append(f"TARGET MISSED: {name} median {median:.0f} MB/s < {TARGET_MB_S:.0f} MB/s")
    for line in missed:
        print(line)
    record["target_met"] = not missed
    emit_record(record, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
