#!/usr/bin/env python3
"""How close does MEGA's file crypto in ``backends/mega/crypto.py`` come to the machine's AES limit?

An upload encrypts every byte (AES-128-CTR) and MACs every byte (a CBC-MAC per chunk); a download decrypts
and MACs. The CBC-MAC is inherently serial, so one core can never do better than its AES-128-CBC speed: that
speed, measured in the same run, is the limit this benchmark reports against (target: at least 0.7 of it per
core).

* The limit is taken two ways: ``openssl speed -evp aes-128-cbc`` on 1 MiB blocks (the machine's own figure,
  one core) and ``cryptography``'s CBC encryptor over 1 MiB blocks written into a reused buffer (the same
  library and call pattern our code uses). The ratio is reported against the faster of the two.
* The work is one 1 GiB file in MEGA's chunks (128 KiB growing to 1 MiB), in process, from memory: the content
  is a random 1 MiB block repeated, so the data is not compressible by anything on the way but costs no time
  to make. Upload = ``ChunkCipher.encrypt`` on every chunk + the meta-MAC; download = ``ChunkCipher.decrypt``
  on the ciphertext of the upload + the meta-MAC.
* The work is proved outside the timing: the download's meta-MAC must equal the upload's, and sampled chunks
  of the upload's ciphertext must equal a one-shot ``ctr_crypt`` of the same bytes.
* Two threads (each with its own ``ChunkCipher``, chunks dealt round-robin) show whether the work scales
  across this machine's cores: ``cryptography`` releases the interpreter lock inside OpenSSL calls.
* Best of ``--runs`` (default 3) per measurement, median printed beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_listing import emit_record
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from backends.mega import crypto

MIB = 1 << 20
TARGET = 0.7


def openssl_cbc_mb_s(seconds: int) -> float | None:
    """One core's AES-128-CBC speed on 1 MiB blocks as ``openssl speed`` measures it, in MB/s."""
    binary = shutil.which("openssl")
    if binary is None:
        return None
    out = subprocess.run(
        [binary, "speed", "-elapsed", "-seconds", str(seconds), "-bytes", str(MIB), "-evp", "aes-128-cbc"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = re.search(r"^AES-128-CBC\s+([\d.]+)k", out, re.MULTILINE | re.IGNORECASE)
    return float(match.group(1)) * 1000 / 1e6 if match else None


def timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def cryptography_cbc(total: int, block: bytes) -> Callable[[], None]:
    key = os.urandom(16)
    out = bytearray(len(block) + 16)

    def run() -> None:
        enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
        for _ in range(total // len(block)):
            enc.update_into(block, out)

    return run


class FileWork:
    """A 1 GiB file in MEGA's chunks, as views into a repeated 1 MiB block (no 1 GiB of plaintext)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.block = os.urandom(MIB)
        self.chunks = crypto.chunk_bounds(size)
        self.key = os.urandom(16)
        self.nonce = os.urandom(8)
        # chunk k's plaintext: the first `length` bytes of a 2 MiB ring, rotated by its offset
        self.ring = memoryview(self.block * 2)
        self.ciphertext: dict[int, bytes] = {}

    def plaintext(self, offset: int, length: int) -> memoryview:
        start = offset % MIB
        return self.ring[start : start + length]

    def upload(self, threads: int, keep: bool = False) -> bytes:
        collector = crypto.MacCollector(self.key, self.size)

        def worker(part: Sequence[tuple[int, int]]) -> None:
            cipher = crypto.ChunkCipher(self.key, self.nonce)
            for offset, length in part:
                ct, mac = cipher.encrypt(offset, self.plaintext(offset, length))
                collector.add(offset, mac)
                if keep:
                    self.ciphertext[offset] = ct

        run_split(worker, self.chunks, threads)
        return collector.meta_mac()

    def download(self, threads: int) -> bytes:
        collector = crypto.MacCollector(self.key, self.size)

        def worker(part: Sequence[tuple[int, int]]) -> None:
            cipher = crypto.ChunkCipher(self.key, self.nonce)
            for offset, _ in part:
                _, mac = cipher.decrypt(offset, self.ciphertext[offset])
                collector.add(offset, mac)

        run_split(worker, self.chunks, threads)
        return collector.meta_mac()


def run_split(
    worker: Callable[[Sequence[tuple[int, int]]], None], chunks: list[tuple[int, int]], threads: int
) -> None:
    if threads == 1:
        worker(chunks)
        return
    pool = [threading.Thread(target=worker, args=(chunks[i::threads],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the JSON result to FILE")
    args = parser.parse_args(argv)
    size = args.size_mib * MIB

    work = FileWork(size)
    print(f"crypto benchmark: {args.size_mib} MiB, best of {args.runs}, python {platform.python_version()}")

    openssl = openssl_cbc_mb_s(3)
    cbc_times = timed(cryptography_cbc(size, work.block), args.runs)
    lib_cbc = size / min(cbc_times) / 1e6
    limit = max(openssl or 0.0, lib_cbc)

    # the ciphertext kept by one upload feeds the download runs and the proof
    upload_meta_mac = work.upload(1, keep=True)
    for offset, length in work.chunks[:: max(1, len(work.chunks) // 7)]:
        expected = crypto.ctr_crypt(work.key, work.nonce, offset, bytes(work.plaintext(offset, length)))
        if work.ciphertext[offset] != expected:
            print(f"error: ciphertext of the chunk at {offset} differs from one-shot CTR", file=sys.stderr)
            return 1

    results: dict[str, dict[str, float]] = {}
    for name, threads, run in (
        ("upload-1t", 1, lambda: work.upload(1)),
        ("download-1t", 1, lambda: work.download(1)),
        ("upload-2t", 2, lambda: work.upload(2)),
        ("download-2t", 2, lambda: work.download(2)),
    ):
        times = timed(run, args.runs)
        mb_s = size / min(times) / 1e6
        results[name] = {
            "threads": threads,
            "best_s": round(min(times), 3),
            "median_s": round(statistics.median(times), 3),
            "mb_s": round(mb_s, 1),
            "ratio_per_core": round(mb_s / threads / limit, 3),
        }
    if work.download(2) != upload_meta_mac or work.upload(2) != upload_meta_mac:
        print("error: meta-MACs disagree between upload, download and thread counts", file=sys.stderr)
        return 1

    print(
        f"AES-128-CBC limit, one core: openssl {openssl or float('nan'):.0f} MB/s, "
        f"cryptography {lib_cbc:.0f} MB/s"
    )
    print(f"{'scenario':<14}{'MB/s':>9}{'best s':>9}{'median s':>10}{'per core vs limit':>20}")
    for name, r in results.items():
        flag = "" if r["ratio_per_core"] >= TARGET else "  TARGET MISSED"
        print(
            f"{name:<14}{r['mb_s']:>9.0f}{r['best_s']:>9.2f}{r['median_s']:>10.2f}{r['ratio_per_core']:>20.2f}{flag}"
        )

    record = {
        "benchmark": "crypto",
        "size_mib": args.size_mib,
        "runs": args.runs,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "limit_mb_s": {"openssl_cbc": openssl and round(openssl, 1), "cryptography_cbc": round(lib_cbc, 1)},
        "results": results,
        "target_ratio": TARGET,
    }
    emit_record(record, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
