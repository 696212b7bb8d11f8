#!/usr/bin/env python3
"""How do ``syncer copy`` / ``sync`` / ``check`` compare with rclone's, in time and in peak memory?

Scenarios (local disk to local disk, source and destination on the same filesystem):

1. ``copy-10k``: ``copy`` of 10,000 files (1-16 KiB, 100 folders) into an empty destination, fresh per run;
2. ``noop-10k``: ``sync`` of the same tree onto a complete destination: nothing to do;
3. ``copy-1g``: ``copy`` of 1 GiB in four 256 MiB files into an empty destination, fresh per run;
4. ``check-10k``: ``check`` of the 10,000 files against an identical tree (both tools hash every file);
5. ``noop-200k`` (``--scale``): ``sync`` of 200,000 tiny files in 2,000 folders onto a complete destination.

Why it is built this way (the listing benchmark's reasons hold here too; see ``bench_listing.py``):

* Whole processes are timed, start-up included, strictly alternating syncer / rclone after a warm-up round,
  with medians (and minimums) per tool; the tools run with their defaults (``--checkers 8 --transfers 4``),
  no user config and no ``RCLONE_*`` / ``SYNCER_*`` / ``PYTHON*`` variables.
* Peak memory is the child's own maximum resident set size, from ``os.wait4`` on its pid (``ru_maxrss``, KiB
  on Linux). ``getrusage(RUSAGE_CHILDREN)`` cannot give it per run: it is a maximum over all children ever
  reaped, so deltas of it are meaningless. A kernel detail decides who starts the tools: a child's
  ``ru_maxrss`` is at least its parent's RSS high-water mark (``exec`` keeps the mark of the address space
  it replaces, which after a vfork or posix_spawn is the parent's), so a child of this process would report
  at least this process's own peak (24-27 MB once the trees are built and checked; syncer's no-op sync
  needs about 16). The tools are therefore started by a launcher: a minimal Python process started first (only
  ``os``, ``sys``, ``time``; about 8.5 MB), which times each one and reaps it with ``os.wait4``. That floor
  is measured (``true`` run the same way) and printed, and any result near it is flagged.
* The work is proved after every run, outside the timing: the exit code must be 0; after a copy the
  destination must hold exactly the source's files (no more, no temp files) with the same sizes and
  nanosecond mtimes, and a few files' contents (chunks of the big ones) must equal the source's; a no-op
  sync must leave every destination file untouched (same inode, size, mtime and ctime: a file rewritten or
  re-stamped would show); ``check`` must report every file matching.
* Each copy goes to a fresh, empty destination; ``sync()`` flushes the disk before every run, so no run
  pays for an earlier run's writeback. The 1 GiB copies are deleted after each run; the 10,000-file ones at
  the end of their scenario, not between runs: on ext4 without a journal (this VM's), a file created within
  60-360 s of many deletions makes the inode allocator skip every recently freed inode (the kernel's
  ``recently_deleted``), and deleting one run's 10,000 files made the next run's creates up to 8 s slower
  in the kernel, for whichever tool came next. Copies go from the page cache to the page cache (the warm-up
  round loads the source): the benchmark measures the tools, not the disk.
* The source trees are deterministic (seeded sizes, contents and nanosecond mtimes; the 1 GiB of data is
  random, written once) and, like the complete destinations, reused across runs of the script once a check
  of every file's size and mtime passes; the 200,000-file trees take a while to create.
* A missed target is reported (``TARGET MISSED``), not turned into a failing exit code; a wrong result is an
  error (exit code 1).

Run with the project's venv Python (``make bench``); the binaries are looked up next to ``sys.executable``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from bench_listing import (
    BenchError,
    clean_env,
    emit_record,
    find_binaries,
    syncer_bytecode_cached,
    tool_version,
)

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work" / "transfer"
TOOLS = ("syncer", "rclone")
SEED = 20261123
#: mtimes fall in the year after this instant (2023-11-14T22:13:20Z), each with its own nanoseconds.
BASE_MTIME_NS = 1_700_000_000 * 10**9
MTIME_SPREAD_NS = 365 * 86_400 * 10**9
KIB, MIB = 1024, 1024 * 1024
MB = 1_000_000  # memory is reported in MB (10^6 bytes); ru_maxrss comes in KiB
BLOCK = MIB  # how this process reads and writes file data: it must stay small (see the module docstring)
RUN_PREFIX = ".run-"  # fresh destinations: <work dir>/.run-XXXX, removed after each run or scenario
#: Fresh destinations of more files than this are kept until their scenario ends (see run_scenario).
KEEP_FRESH_ABOVE_FILES = 100

TIME_TARGET_COPY = 1.0
TIME_TARGET_NOOP = 1.5
SYNCER_RSS_LIMIT_MB = 150.0

_MATCHING = re.compile(r"\b(\d+) matching files\b")
_DIFFERENCES = re.compile(r"\b(\d+) differences found\b")
_MISSING = re.compile(r"\b(\d+) files missing\b")


# -- the trees ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileSpec:
    path: str  # relative, "/"-separated
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Shape:
    """A source tree: ``folders`` folders (0: the files lie in the root) of ``files_per_folder`` files."""

    key: str
    folders: int
    files_per_folder: int
    min_size: int
    max_size: int
    #: Content from os.urandom (not reproducible: written once, then reused) instead of a seeded generator.
    urandom: bool = False

    @property
    def total_files(self) -> int:
        return max(1, self.folders) * self.files_per_folder

    def folder_names(self) -> list[str]:
        """The folders, "" for the root when the files lie there."""
        width = len(str(max(0, self.folders - 1)))
        return [f"dir-{i:0{width}d}" for i in range(self.folders)] or [""]

    def folder_spec(self, folder: str) -> list[FileSpec]:
        """One folder's files, the same on every machine; each folder is seeded alone, so a tree can be
        created and checked one folder at a time."""
        rng = random.Random(f"{SEED}:{self.key}:{folder}")
        prefix = f"{folder}/" if folder else ""
        return [
            FileSpec(
                f"{prefix}file-{index:03d}.bin",
                rng.randint(self.min_size, self.max_size),
                BASE_MTIME_NS + rng.randrange(MTIME_SPREAD_NS),
            )
            for index in range(self.files_per_folder)
        ]

    def describe(self) -> str:
        where = f"in {self.folders} folders" if self.folders else "in one folder"
        return f"{self.total_files:,} files of {_size_range(self.min_size, self.max_size)} {where}"


def _size_range(low: int, high: int) -> str:
    def one(n: int) -> str:
        if n >= MIB and n % MIB == 0:
            return f"{n // MIB} MiB"
        if n >= KIB and n % KIB == 0:
            return f"{n // KIB} KiB"
        return f"{n} B"

    return one(low) if low == high else f"{one(low)}-{one(high)}"


SMALL_10K = Shape("small-10k", folders=100, files_per_folder=100, min_size=1 * KIB, max_size=16 * KIB)
BIG_1G = Shape("big-1g", folders=0, files_per_folder=4, min_size=256 * MIB, max_size=256 * MIB, urandom=True)
TINY_200K = Shape("tiny-200k", folders=2000, files_per_folder=100, min_size=0, max_size=64)


@dataclass(frozen=True, slots=True)
class Item:
    """What a directory holds under one name: a file (size, mtime) or a directory (size -1)."""

    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int

    @property
    def is_dir(self) -> bool:
        return self.size < 0


def _scan(directory: Path) -> dict[str, Item]:
    """One directory's entries (symlinks and special files count as foreign: a 0-size dir-less item)."""
    items: dict[str, Item] = {}
    with os.scandir(directory) as scan:
        for entry in scan:
            st = entry.stat(follow_symlinks=False)
            if entry.is_dir(follow_symlinks=False):
                items[entry.name] = Item(-1, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
            elif entry.is_file(follow_symlinks=False):
                items[entry.name] = Item(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
            else:
                items[entry.name] = Item(-2, 0, st.st_ino, st.st_ctime_ns)  # matches neither kind
    return items


def _foreign_error(root: Path, foreign: Sequence[str]) -> BenchError:
    shown = ", ".join(sorted(foreign)[:3]) + (", ..." if len(foreign) > 3 else "")
    return BenchError(
        f"{root} holds {len(foreign)} entries the benchmark did not create ({shown}); "
        "remove it or pass another --work-dir"
    )


def _write_file(target: Path, spec: FileSpec, urandom: bool) -> None:
    with open(target, "wb") as out:
        if urandom:
            left = spec.size
            while left:
                out.write(os.urandom(min(BLOCK, left)))
                left -= min(BLOCK, left)
        else:
            out.write(random.Random(f"{SEED}:{spec.path}").randbytes(spec.size))
    os.utime(target, ns=(spec.mtime_ns, spec.mtime_ns))


def ensure_source(root: Path, shape: Shape) -> int:
    """Create or repair the source tree at ``root``, one folder at a time; the number of files written.

    Entries the benchmark did not create are refused, never deleted (as in the listing benchmark).
    """
    folders = shape.folder_names()
    root.mkdir(parents=True, exist_ok=True)
    if shape.folders:
        foreign = [name for name, item in _scan(root).items() if name not in folders or not item.is_dir]
        if foreign:
            raise _foreign_error(root, foreign)
    written = 0
    for folder in folders:
        directory = root / folder if folder else root
        directory.mkdir(exist_ok=True)
        want = shape.folder_spec(folder)
        have = _scan(directory)
        names = {spec.path.rpartition("/")[2] for spec in want}
        foreign = [f"{folder}/{name}" if folder else name for name in have if name not in names]
        if foreign:
            raise _foreign_error(root, foreign)
        for spec in want:
            item = have.get(spec.path.rpartition("/")[2])
            if item is None or item.size != spec.size or item.mtime_ns != spec.mtime_ns:
                _write_file(root / spec.path, spec, shape.urandom)
                written += 1
        have = _scan(directory)
        for spec in want:
            item = have[spec.path.rpartition("/")[2]]
            if item.size != spec.size or item.mtime_ns != spec.mtime_ns:
                raise BenchError(
                    f"{root / spec.path} does not keep the size/mtime just set "
                    "(does this filesystem store nanosecond mtimes?)"
                )
    return written


def _dirs_first(root: Path, rel: str = "") -> Iterator[tuple[str, dict[str, Item]]]:
    """(relative directory, its entries) for ``root`` and every directory below it, parents first, sorted:
    only one directory's listing per level is held at a time."""
    items = _scan(root / rel if rel else root)
    yield rel, items
    for name in sorted(items):
        if items[name].is_dir:
            yield from _dirs_first(root, f"{rel}/{name}" if rel else name)


def compare_trees(src: Path, dst: Path) -> tuple[int, int]:
    """Raise unless ``dst`` holds exactly ``src``'s files and folders, sizes and nanosecond mtimes equal;
    returns (files, bytes). Walked in step, one directory at a time."""
    files = total = 0
    pending = [""]
    while pending:
        rel = pending.pop()
        left = _scan(src / rel if rel else src)
        try:
            right = _scan(dst / rel if rel else dst)
        except FileNotFoundError:
            right = {}
        problems: list[str] = []
        for name in sorted(left.keys() | right.keys()):
            path = f"{rel}/{name}" if rel else name
            a, b = left.get(name), right.get(name)
            if a is None:
                problems.append(f"{path} not in the source")
            elif b is None:
                problems.append(f"{path} missing")
            elif a.is_dir != b.is_dir or a.size == -2 or b.size == -2:
                problems.append(f"{path} is not the same kind of entry")
            elif a.is_dir:
                pending.append(path)
            elif a.size != b.size:
                problems.append(f"{path} has {b.size} bytes, not {a.size}")
            elif a.mtime_ns != b.mtime_ns:
                problems.append(f"{path} has mtime {b.mtime_ns} ns, not {a.mtime_ns}")
            else:
                files += 1
                total += a.size
        if problems:
            more = f" (and {len(problems) - 3} more in that folder)" if len(problems) > 3 else ""
            raise BenchError(f"{dst} differs from {src}: {'; '.join(problems[:3])}{more}")
    return files, total


def file_identity(root: Path) -> str:
    """A digest of every file's path, inode, size, mtime and ctime: changes if any file is rewritten
    (replaced by a new inode), touched (ctime), added or removed."""
    digest = sha256()
    for rel, items in _dirs_first(root):
        for name in sorted(items):
            item = items[name]
            if not item.is_dir:
                digest.update(
                    f"{rel}/{name}\0{item.ino}\0{item.size}\0{item.mtime_ns}\0{item.ctime_ns}\n".encode()
                )
    return digest.hexdigest()


def ensure_copy(src: Path, dst: Path, shape: Shape) -> int:
    """Make ``dst`` a complete copy of the source tree (sizes, contents, nanosecond mtimes of files and
    folders), reusing what is already right; the number of files copied."""
    copied = 0
    dst.mkdir(parents=True, exist_ok=True)
    folders = shape.folder_names()
    if shape.folders:
        foreign = [name for name, item in _scan(dst).items() if name not in folders or not item.is_dir]
        if foreign:
            raise _foreign_error(dst, foreign)
    for folder in folders:
        source_dir, target_dir = (src / folder, dst / folder) if folder else (src, dst)
        target_dir.mkdir(exist_ok=True)
        left, right = _scan(source_dir), _scan(target_dir)
        foreign = [f"{folder}/{name}" if folder else name for name in right if name not in left]
        if foreign:
            raise _foreign_error(dst, foreign)
        for name, item in left.items():
            have = right.get(name)
            if have is None or have.size != item.size or have.mtime_ns != item.mtime_ns:
                shutil.copyfile(source_dir / name, target_dir / name)
                os.utime(target_dir / name, ns=(item.mtime_ns, item.mtime_ns))
                copied += 1
    # Folder times too, last (writing a file changes its folder's): a tool must find nothing at all to do.
    for folder in folders:
        if folder:
            st = (src / folder).stat()
            os.utime(dst / folder, ns=(st.st_atime_ns, st.st_mtime_ns))
    st = src.stat()
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    compare_trees(src, dst)
    return copied


def spot_check(src: Path, dst: Path, shape: Shape, rng: random.Random, *, files: int, chunks: int) -> int:
    """Compare the contents of a few files picked by ``rng`` (whole, or for big files the first, last and
    ``chunks`` random 1 MiB blocks); the number of bytes compared."""
    folders = shape.folder_names()
    picked: set[str] = set()
    while len(picked) < min(files, shape.total_files):
        folder = rng.choice(folders)
        name = f"file-{rng.randrange(shape.files_per_folder):03d}.bin"
        picked.add(f"{folder}/{name}" if folder else name)
    compared = 0
    for path in sorted(picked):
        size = (src / path).stat().st_size
        if size <= (chunks + 2) * BLOCK:
            offsets = list(range(0, max(size, 1), BLOCK))
        else:
            offsets = [0, size - BLOCK, *(rng.randrange(size - BLOCK) for _ in range(chunks))]
        with open(src / path, "rb") as left, open(dst / path, "rb") as right:
            for offset in offsets:
                left.seek(offset)
                right.seek(offset)
                a, b = left.read(BLOCK), right.read(BLOCK)
                if a != b:
                    raise BenchError(f"{dst / path}: content differs from the source at byte {offset}")
                compared += len(a)
    return compared


def remove_run_dirs(work: Path) -> None:
    """Fresh destinations left over by an interrupted earlier run (only ours: named ``.run-*``)."""
    if work.is_dir():
        for leftover in work.glob(RUN_PREFIX + "*"):
            shutil.rmtree(leftover)


# -- running the tools -------------------------------------------------------------------------------------


#: The launcher: a separate, minimal Python process (only os, sys, time; started with -I -S) that starts each
#: tool, waits for it with os.wait4 on its pid and reports the wall time and the child's own ru_maxrss.
#: Why not straight from this process: the kernel hands a child the parent's RSS high-water mark when it
#: execs (vfork/posix_spawn share the parent's address space, whose mark exec keeps), so every child would
#: report at least this process's peak, which grows with the tree work (measured: 24-27 MB, above syncer's
#: own 16 MB for a no-op sync). The launcher's mark stays at about 8.5 MB, below either tool's.
#: Protocol: one request per line, NUL-separated fields: stdout file, stderr file, argv...; one answer per
#: line: "ok <elapsed s> <ru_maxrss KiB> <exit code>" or "error <message>".
LAUNCHER = r"""
import os, sys, time
env = dict(os.environ)
answer = sys.stdout
for line in sys.stdin.buffer:
    out, err, *argv = [os.fsdecode(field) for field in line.rstrip(b"\n").split(b"\0")]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    start = time.perf_counter()
    try:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    except OSError as exc:
        answer.write(f"error cannot start {argv[0]}: {exc}\n")
        answer.flush()
        continue
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    answer.write(f"ok {elapsed!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}\n")
    answer.flush()
"""


@dataclass(frozen=True, slots=True)
class RunResult:
    elapsed_s: float
    maxrss_kib: int
    stdout: str
    stderr: str


class Launcher:
    """Runs whole processes through the launcher process (see LAUNCHER); a context manager."""

    def __init__(self, env: Mapping[str, str], scratch: Path) -> None:
        self._out, self._err = scratch / "stdout", scratch / "stderr"
        # Started with the tools' environment, which it hands on unchanged; -I -S: no site, no PYTHON*.
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env),
        )

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait()

    def run(self, argv: Sequence[str]) -> RunResult:
        """Wall time and peak RSS of one whole process; raises unless it exits 0.

        Output goes to files, not pipes: the outputs are a few lines and nothing has to read them while
        the child runs.
        """
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(b"\0".join(os.fsencode(str(a)) for a in (self._out, self._err, *argv)) + b"\n")
        stdin.flush()
        answer = stdout.readline().decode().split(maxsplit=1)
        if not answer or answer[0] != "ok":
            raise BenchError(f"launcher failed: {answer[1].strip() if len(answer) > 1 else 'it exited'}")
        elapsed, maxrss, code = answer[1].split()
        out = self._out.read_bytes().decode(errors="replace")
        err = self._err.read_bytes().decode(errors="replace")
        if int(code) != 0:
            lines = err.strip().splitlines()
            raise BenchError(f"{' '.join(argv)} exited {code}: {lines[-1] if lines else '(no stderr)'}")
        return RunResult(float(elapsed), int(maxrss), out, err)

    def rss_floor_kib(self) -> int:
        """``ru_maxrss`` of ``true`` run like the tools: the least any child can report."""
        return self.run([shutil.which("true") or "/bin/true"]).maxrss_kib


# -- scenarios ---------------------------------------------------------------------------------------------


@dataclass
class Series:
    times_s: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_s) * 1000

    @property
    def min_ms(self) -> float:
        return min(self.times_s) * 1000

    @property
    def rss_median_mb(self) -> float:
        return statistics.median(self.rss_kib) * KIB / MB

    @property
    def rss_max_mb(self) -> float:
        return max(self.rss_kib) * KIB / MB


Verifier = Callable[[str, int, RunResult, Path], None]


@dataclass
class Scenario:
    key: str
    title: str
    command: str
    shape: Shape
    src: Path
    #: A complete destination shared by both tools; None: a fresh empty one per run.
    dst: Path | None
    runs: int
    time_target: float | None
    syncer_rss_limit_mb: float | None
    verify: Verifier
    series: dict[str, Series] = field(default_factory=lambda: {tool: Series() for tool in TOOLS})


def verify_copy(shape: Shape, src: Path, *, files: int, chunks: int) -> Verifier:
    want_files = shape.total_files

    def verify(tool: str, round_no: int, result: RunResult, dst: Path) -> None:
        count, _ = compare_trees(src, dst)
        if count != want_files:
            raise BenchError(f"{tool} copied {count} files, expected {want_files}")
        spot_check(src, dst, shape, random.Random(f"{tool}:{round_no}"), files=files, chunks=chunks)

    return verify


def verify_noop(src: Path, dst: Path) -> Verifier:
    before = file_identity(dst)

    def verify(tool: str, round_no: int, result: RunResult, target: Path) -> None:
        if file_identity(dst) != before:
            compare_trees(src, dst)  # names the difference if the tree is now wrong
            raise BenchError(
                f"{tool}'s no-op sync rewrote or touched destination files (inode/ctime changed)"
            )

    return verify


def verify_check(shape: Shape) -> Verifier:
    want = shape.total_files

    def verify(tool: str, round_no: int, result: RunResult, dst: Path) -> None:
        text = result.stderr + result.stdout
        matching = _MATCHING.search(text)
        bad = [int(m[1]) for regex in (_DIFFERENCES, _MISSING) for m in regex.finditer(text)]
        if matching is None or int(matching[1]) != want or any(bad):
            lines = text.strip().splitlines()
            raise BenchError(f"{tool} check did not report {want} matching files: {lines[-3:]}")

    return verify


def run_scenario(
    scenario: Scenario, binaries: Mapping[str, Path], launcher: Launcher, work: Path, warmup: int
) -> None:
    """Warm-up rounds, then timed ones, syncer and rclone alternating; every run verified.

    Fresh destinations of many files are all removed at the end, not between runs: on ext4 without a
    journal, new inodes skip those freed in the last 60-360 s, so creating 10,000 files right after
    deleting 10,000 costs up to 8 s more in the kernel (``recently_deleted``), whichever tool comes next.
    """
    kept: list[Path] = []
    try:
        for round_no in range(warmup + scenario.runs):
            for tool in TOOLS:  # strictly alternating: syncer, rclone, syncer, rclone, ...
                fresh: Path | None = None
                if scenario.dst is None:
                    fresh = Path(tempfile.mkdtemp(prefix=RUN_PREFIX, dir=work))
                    os.sync()  # earlier runs' data on disk now: no writeback of it during this run
                    target = fresh
                else:
                    target = scenario.dst
                argv = [str(binaries[tool]), scenario.command, str(scenario.src), str(target)]
                try:
                    result = launcher.run(argv)
                    scenario.verify(tool, round_no, result, target)
                finally:
                    if fresh is not None:
                        if scenario.shape.total_files > KEEP_FRESH_ABOVE_FILES:
                            kept.append(fresh)
                        else:
                            shutil.rmtree(fresh)
                if round_no >= warmup:
                    scenario.series[tool].times_s.append(result.elapsed_s)
                    scenario.series[tool].rss_kib.append(result.maxrss_kib)
    finally:
        for fresh in kept:
            shutil.rmtree(fresh)


# -- reporting ---------------------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


@dataclass(frozen=True)
class Growth:
    syncer: tuple[float, float]  # peak RSS (MB, medians) of the no-op sync at 10k and at 200k files
    rclone: tuple[float, float]

    def factor(self, tool: str) -> float:
        low, high = getattr(self, tool)
        return _ratio(high, low)


def growth_of(scenarios: Mapping[str, Scenario]) -> Growth | None:
    if "noop-10k" not in scenarios or "noop-200k" not in scenarios:
        return None
    small, large = scenarios["noop-10k"].series, scenarios["noop-200k"].series
    return Growth(
        syncer=(small["syncer"].rss_median_mb, large["syncer"].rss_median_mb),
        rclone=(small["rclone"].rss_median_mb, large["rclone"].rss_median_mb),
    )


def report(scenarios: Mapping[str, Scenario], floor_mb: float) -> list[str]:
    head = (
        f"{'scenario':<10} {'syncer med ms':>13} {'rclone med ms':>13} {'ratio':>6} "
        f"{'syncer min ms':>13} {'rclone min ms':>13} {'min ratio':>9}   "
        f"{'syncer RSS MB':>13} {'rclone RSS MB':>13} {'RSS ratio':>9}"
    )
    lines = [head, "-" * len(head)]
    notes: list[str] = []
    for key, scenario in scenarios.items():
        s, r = scenario.series["syncer"], scenario.series["rclone"]
        ratio = _ratio(s.median_ms, r.median_ms)
        lines.append(
            f"{key:<10} {s.median_ms:13.1f} {r.median_ms:13.1f} {ratio:6.2f} "
            f"{s.min_ms:13.1f} {r.min_ms:13.1f} {_ratio(s.min_ms, r.min_ms):9.2f}   "
            f"{s.rss_median_mb:13.1f} {r.rss_median_mb:13.1f} {_ratio(s.rss_median_mb, r.rss_median_mb):9.2f}"
        )
        if scenario.time_target is not None:
            if ratio > scenario.time_target:
                notes.append(
                    f"TARGET MISSED: syncer {key} takes {ratio:.2f}x rclone's time (median "
                    f"{s.median_ms:.1f} ms vs {r.median_ms:.1f} ms; target <= {scenario.time_target}x)"
                )
            else:
                notes.append(f"target met: {key} time {ratio:.2f}x <= {scenario.time_target}x")
        limit = scenario.syncer_rss_limit_mb
        if limit is not None:
            if s.rss_max_mb >= limit:
                notes.append(
                    f"TARGET MISSED: syncer {key} peaked at {s.rss_max_mb:.1f} MB RSS "
                    f"(target < {limit:.0f} MB)"
                )
            else:
                notes.append(f"target met: {key} syncer peak RSS {s.rss_max_mb:.1f} MB < {limit:.0f} MB")
        for tool, series in scenario.series.items():
            if series.rss_median_mb <= floor_mb * 1.1:
                notes.append(
                    f"note: {tool} {key} RSS ({series.rss_median_mb:.1f} MB) is at this process's floor "
                    f"({floor_mb:.1f} MB): the tool's own peak is at most that"
                )
    growth = growth_of(scenarios)
    if growth is not None:
        lines.append("")
        for tool in TOOLS:
            low, high = getattr(growth, tool)
            lines.append(
                f"peak RSS of the no-op sync, 10k -> 200k files: {tool:<6} {low:6.1f} -> {high:6.1f} MB "
                f"(x{growth.factor(tool):.2f}, +{high - low:.1f} MB)"
            )
        if growth.factor("syncer") > growth.factor("rclone"):
            notes.append(
                f"TARGET MISSED: syncer's memory grows x{growth.factor('syncer'):.2f} from 10k to 200k "
                f"files, rclone's x{growth.factor('rclone'):.2f} (target: no faster than rclone's)"
            )
        else:
            notes.append(
                f"target met: memory growth 10k -> 200k syncer x{growth.factor('syncer'):.2f} <= "
                f"rclone x{growth.factor('rclone'):.2f}"
            )
    lines.append("")
    lines.append(f"RSS floor (ru_maxrss of `true` started by this process): {floor_mb:.1f} MB")
    lines.extend(notes)
    return lines


def json_record(
    scenarios: Mapping[str, Scenario], machine: Mapping[str, object], warmup: int, floor_mb: float
) -> dict[str, object]:
    results: dict[str, object] = {}
    for key, scenario in scenarios.items():
        s, r = scenario.series["syncer"], scenario.series["rclone"]
        ratio = _ratio(s.median_ms, r.median_ms)
        results[key] = {
            "title": scenario.title,
            "command": scenario.command,
            "files": scenario.shape.total_files,
            "runs": scenario.runs,
            **{
                tool: {
                    "median_ms": round(series.median_ms, 3),
                    "min_ms": round(series.min_ms, 3),
                    "times_ms": [round(t * 1000, 3) for t in series.times_s],
                    "rss_median_mb": round(series.rss_median_mb, 2),
                    "rss_max_mb": round(series.rss_max_mb, 2),
                    "rss_kib": series.rss_kib,
                }
                for tool, series in scenario.series.items()
            },
            "ratio": round(ratio, 3),
            "min_ratio": round(_ratio(s.min_ms, r.min_ms), 3),
            "rss_ratio": round(_ratio(s.rss_median_mb, r.rss_median_mb), 3),
            "time_target": scenario.time_target,
            "time_target_met": None if scenario.time_target is None else ratio <= scenario.time_target,
            "syncer_rss_limit_mb": scenario.syncer_rss_limit_mb,
            "rss_target_met": (
                None if scenario.syncer_rss_limit_mb is None else s.rss_max_mb < scenario.syncer_rss_limit_mb
            ),
        }
    record: dict[str, object] = {
        "benchmark": "transfer",
        "date": time.strftime("%Y-%m-%d"),
        "warmup": warmup,
        "rss_floor_mb": round(floor_mb, 2),
        "machine": dict(machine),
        "results": results,
    }
    growth = growth_of(scenarios)
    if growth is not None:
        record["memory_growth"] = {
            tool: {
                "rss_10k_mb": round(getattr(growth, tool)[0], 2),
                "rss_200k_mb": round(getattr(growth, tool)[1], 2),
                "factor": round(growth.factor(tool), 3),
            }
            for tool in TOOLS
        } | {"target_met": growth.factor("syncer") <= growth.factor("rclone")}
    return record


# -- main --------------------------------------------------------------------------------------------------


SCENARIOS = ("copy-10k", "noop-10k", "copy-1g", "check-10k", "noop-200k")


def build_scenarios(
    selected: Sequence[str], work: Path, copy_runs: int, noop_runs: int, announce: Callable[[str], None]
) -> dict[str, Scenario]:
    """Create (or check and reuse) the trees the selected scenarios need, and the scenarios themselves."""
    needed = {
        SMALL_10K: any(k in selected for k in ("copy-10k", "noop-10k", "check-10k")),
        BIG_1G: "copy-1g" in selected,
        TINY_200K: "noop-200k" in selected,
    }
    sources: dict[str, Path] = {}
    complete: dict[str, Path] = {}
    for shape, wanted in needed.items():
        if not wanted:
            continue
        src, dst = work / f"src-{shape.key}", work / f"dst-{shape.key}"
        start = time.perf_counter()
        wrote = ensure_source(src, shape)
        state = f"{wrote:,} files written" if wrote else "reused"
        announce(f"source:  {src} ({shape.describe()}, {state}, {time.perf_counter() - start:.1f} s)")
        sources[shape.key] = src
        if shape is not BIG_1G:
            start = time.perf_counter()
            copied = ensure_copy(src, dst, shape)
            state = f"{copied:,} files copied" if copied else "reused"
            announce(f"copy:    {dst} (complete destination, {state}, {time.perf_counter() - start:.1f} s)")
            complete[shape.key] = dst
    small, big, tiny = (sources.get(shape.key) for shape in (SMALL_10K, BIG_1G, TINY_200K))
    # A no-op verifier takes its "before" picture of the destination when made: only for selected ones.
    scenarios: dict[str, Scenario] = {}
    if small is not None and "copy-10k" in selected:
        scenarios["copy-10k"] = Scenario(
            "copy-10k",
            title="copy 10k files into an empty destination",
            command="copy",
            shape=SMALL_10K,
            src=small,
            dst=None,
            runs=copy_runs,
            time_target=TIME_TARGET_COPY,
            syncer_rss_limit_mb=SYNCER_RSS_LIMIT_MB,
            verify=verify_copy(SMALL_10K, small, files=16, chunks=0),
        )
    if small is not None and "noop-10k" in selected:
        done = complete[SMALL_10K.key]
        scenarios["noop-10k"] = Scenario(
            "noop-10k",
            title="sync 10k files, nothing to do",
            command="sync",
            shape=SMALL_10K,
            src=small,
            dst=done,
            runs=noop_runs,
            time_target=TIME_TARGET_NOOP,
            syncer_rss_limit_mb=SYNCER_RSS_LIMIT_MB,
            verify=verify_noop(small, done),
        )
    if big is not None and "copy-1g" in selected:
        scenarios["copy-1g"] = Scenario(
            "copy-1g",
            title="copy 1 GiB in 4 files into an empty destination",
            command="copy",
            shape=BIG_1G,
            src=big,
            dst=None,
            runs=copy_runs,
            time_target=TIME_TARGET_COPY,
            syncer_rss_limit_mb=None,
            verify=verify_copy(BIG_1G, big, files=4, chunks=6),
        )
    if small is not None and "check-10k" in selected:
        scenarios["check-10k"] = Scenario(
            "check-10k",
            title="check 10k identical files",
            command="check",
            shape=SMALL_10K,
            src=small,
            dst=complete[SMALL_10K.key],
            runs=noop_runs,
            time_target=None,
            syncer_rss_limit_mb=SYNCER_RSS_LIMIT_MB,
            verify=verify_check(SMALL_10K),
        )
    if tiny is not None and "noop-200k" in selected:
        done = complete[TINY_200K.key]
        scenarios["noop-200k"] = Scenario(
            "noop-200k",
            title="sync 200k files, nothing to do",
            command="sync",
            shape=TINY_200K,
            src=tiny,
            dst=done,
            runs=noop_runs,
            time_target=TIME_TARGET_NOOP,
            syncer_rss_limit_mb=None,
            verify=verify_noop(tiny, done),
        )
    return {key: scenarios[key] for key in SCENARIOS if key in scenarios}


def filesystem_of(path: Path) -> str:
    """The filesystem type holding ``path`` (longest mount point prefix in /proc/self/mounts)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return kind
    target = str(path.resolve())
    for line in mounts:
        fields = line.split()
        if len(fields) >= 3:
            point = fields[1].replace("\\040", " ")
            inside = target == point or target.startswith(point.rstrip("/") + "/")
            if inside and len(point) > len(best):
                best, kind = point, fields[2]
    return kind


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--runs",
        type=int,
        help="timed runs per tool for every scenario (default 5 for copies, 7 for the others)",
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds per scenario first (default 1)")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also run noop-200k (creating its 2 x 200,000 files takes minutes)",
    )
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, metavar="SCENARIO",
        help=f"run only this scenario (repeatable; one of {', '.join(SCENARIOS)})",
    )  # fmt: skip
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK_DIR, help=f"the trees (default {DEFAULT_WORK_DIR})"
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the JSON result to FILE")
    args = parser.parse_args(argv)
    if (args.runs is not None and args.runs < 1) or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    binaries = find_binaries(TOOLS)
    if binaries is None:
        return 2
    selected = list(args.only or [key for key in SCENARIOS if key != "noop-200k" or args.scale])
    copy_runs = args.runs or 5
    noop_runs = args.runs or 7
    work = args.work_dir.resolve()

    try:
        work.mkdir(parents=True, exist_ok=True)
        remove_run_dirs(work)
        with ExitStack() as stack:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-transfer-"))
            config_dir = Path(scratch) / "xdg-config"
            config_dir.mkdir()
            rclone_config = Path(scratch) / "rclone.conf"
            rclone_config.touch()
            env = clean_env(config_dir, rclone_config)
            launcher = stack.enter_context(Launcher(env, Path(scratch)))  # first: while this process is small
            load_before = os.getloadavg()[0]
            machine: dict[str, object] = {
                "nproc": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
                "filesystem": filesystem_of(work),
                "rclone": tool_version(binaries["rclone"], env),
                "syncer": tool_version(binaries["syncer"], env),
            }
            for tool in TOOLS:
                print(f"{tool + ':':<8} {binaries[tool]} ({machine[tool]})")
            print(
                f"machine: {machine['nproc']} CPUs, Python {machine['python']}, {machine['platform']}, "
                f"{machine['filesystem']} at {work}"
            )
            scenarios = build_scenarios(
                selected, work, copy_runs, noop_runs, lambda line: print(line, flush=True)
            )
            print(f"runs:    {args.warmup} warm-up round + N timed per tool, alternating\n", flush=True)
            loads: dict[str, float] = {}
            for key, scenario in scenarios.items():
                loads[key] = os.getloadavg()[0]
                print(
                    f"{key}: {scenario.title} ({scenario.runs} runs, load {loads[key]:.2f}) ...",
                    end=" ",
                    flush=True,
                )
                started = time.perf_counter()
                run_scenario(scenario, binaries, launcher, work, args.warmup)
                print(f"{time.perf_counter() - started:.0f} s", flush=True)
            floor_mb = launcher.rss_floor_kib() * KIB / MB
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    print()
    if syncer_bytecode_cached() is False:
        print(
            "warning: syncer's bytecode cache (__pycache__) was not written, so every syncer run compiled "
            "its modules: the syncer times include that\n"
        )
    machine["loadavg_1m_before"] = round(load_before, 2)
    # Before each scenario and at the end: these include the benchmark's own load (the tools use threads).
    machine["loadavg_1m_per_scenario"] = {key: round(load, 2) for key, load in loads.items()}
    machine["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    if load_before > 0.5 * (os.cpu_count() or 1):
        print(
            f"warning: the 1-minute load average was {load_before:.2f} on {os.cpu_count()} CPUs before the "
            "start; other work was running and these times are noisy\n"
        )
    print("\n".join(report(scenarios, floor_mb)))
    record = json_record(scenarios, machine, args.warmup, floor_mb)
    emit_record(record, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
