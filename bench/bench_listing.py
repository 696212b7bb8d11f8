#!/usr/bin/env python3
"""Is ``syncer lsl`` / ``syncer size`` within 1.5x of rclone on a 10,000-file tree?

Why it is built this way:

* Whole processes are timed, not functions: a user waits for the command to exit, and for a Python CLI the
  interpreter start-up and imports are a large share of that (rclone's own start-up, initialising all its
  backends, counts against it the same way). Timing only the listing code would hide syncer's largest cost.
* The two tools run alternately (syncer, rclone, syncer, rclone, ...) after warm-up runs, so page-cache state,
  CPU frequency and background noise affect both alike; medians are reported because a single slow run (a
  scheduler hiccup) should not decide a ratio, and minimums show the best case each can reach.
* stdout goes to a pipe that is read to the end, never /dev/null: writing and formatting 10,000 lines is part
  of the work, and a tool must not win by printing less. Every timed run's output is checked against the
  tree's known contents (all 10,000 paths, sizes and times for ``lsl``; count and byte total for ``size``), so
  a fast run that listed nothing, or the wrong thing, fails the benchmark instead of flattering it.
* Neither tool may read a user's config (a remote, ``checkers`` or ``log_level`` set there would change what
  is measured): rclone gets an empty ``RCLONE_CONFIG``; syncer gets an empty ``XDG_CONFIG_HOME`` (its default
  location, which may be missing, unlike a ``SYNCER_CONFIG`` path). ``RCLONE_*`` / ``SYNCER_*`` variables are
  dropped too, so both run with their default ``--checkers``, and so are ``PYTHON*`` ones (a
  ``PYTHONDONTWRITEBYTECODE`` from a CI image would make syncer recompile itself on every run).
* The tree is deterministic (seeded sizes and nanosecond mtimes) and reused across runs once verified, so
  numbers from different days or machines describe the same work.
* A missed target is reported, not turned into a failing exit code: the numbers are the product, and a noisy
  shared CI machine should not break a build. A wrong output, however, is an error.

Run with the project's venv Python (``make bench``); the binaries are looked up next to ``sys.executable``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work" / "tree-10k"
FOLDERS = 100
FILES_PER_FOLDER = 100
TOTAL_FILES = FOLDERS * FILES_PER_FOLDER
MAX_SIZE = 4096
SEED = 20261123
#: mtimes fall in the year after this instant (2023-11-14T22:13:20Z), each with its own nanoseconds.
BASE_MTIME_NS = 1_700_000_000 * 10**9
MTIME_SPREAD_NS = 365 * 86_400 * 10**9
TARGET_RATIO = 1.5
COMMANDS = ("lsl", "size")
TOOLS = ("syncer", "rclone")

_LSL_LINE = re.compile(r"^ *(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}) (.+)$")
_OBJECTS = re.compile(r"^Total objects: (?:\S+ \((\d+)\)|(\d+))$", re.MULTILINE)
_BYTES = re.compile(r"^Total size: .* \((\d+) Byte\)$", re.MULTILINE)


class BenchError(Exception):
    """The benchmark cannot give a trustworthy answer; one line for the user."""


# -- the tree ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileSpec:
    path: str  # relative, "/"-separated, as both tools print it
    size: int
    mtime_ns: int


def tree_spec() -> list[FileSpec]:
    """The tree's files, the same on every machine and every run."""
    rng = random.Random(SEED)
    files = []
    for folder in range(FOLDERS):
        for index in range(FILES_PER_FOLDER):
            size = rng.randint(0, MAX_SIZE)
            mtime_ns = BASE_MTIME_NS + rng.randrange(MTIME_SPREAD_NS)
            files.append(FileSpec(f"dir-{folder:03d}/file-{index:03d}.bin", size, mtime_ns))
    return files


def _stale_files(root: Path, spec: Sequence[FileSpec]) -> list[FileSpec]:
    """The files of ``spec`` that are missing or differ in size or mtime; refuses a dir with foreign entries.

    Foreign entries would be listed too (and skew the work), and we never delete what we did not create.
    """
    expected_dirs = {f.path.split("/")[0] for f in spec}
    by_path = {f.path: f for f in spec}
    if not root.exists():
        return list(spec)
    if not root.is_dir():
        raise BenchError(f"work dir {root} exists and is not a directory")
    foreign: list[str] = []
    stale: list[FileSpec] = []
    seen: set[str] = set()
    with os.scandir(root) as top:
        for item in top:
            if item.name not in expected_dirs or not item.is_dir(follow_symlinks=False):
                foreign.append(item.name)
                continue
            with os.scandir(item.path) as inner:
                for leaf in inner:
                    rel = f"{item.name}/{leaf.name}"
                    want = by_path.get(rel)
                    if want is None or not leaf.is_file(follow_symlinks=False):
                        foreign.append(rel)
                        continue
                    seen.add(rel)
                    st = leaf.stat(follow_symlinks=False)
                    if st.st_size != want.size or st.st_mtime_ns != want.mtime_ns:
                        stale.append(want)
    if foreign:
        shown = ", ".join(sorted(foreign)[:3]) + (", ..." if len(foreign) > 3 else "")
        raise BenchError(
            f"work dir {root} holds {len(foreign)} entries the benchmark did not create ({shown}); "
            "remove it or pass another --work-dir"
        )
    stale.extend(f for f in spec if f.path not in seen)
    return stale


def ensure_tree(root: Path, spec: Sequence[FileSpec]) -> int:
    """Create or repair the tree at ``root``; the number of files that had to be written."""
    stale = _stale_files(root, spec)
    if not stale:
        return 0
    for file in stale:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(random.Random(file.path).randbytes(file.size))
        os.utime(target, ns=(file.mtime_ns, file.mtime_ns))
    still = _stale_files(root, spec)
    if still:
        raise BenchError(
            f"{len(still)} files in {root} do not keep the size/mtime just set "
            "(does this filesystem store nanosecond mtimes?)"
        )
    return len(stale)


# -- the tools ---------------------------------------------------------------------------------------------


def find_binary(name: str) -> Path | None:
    """``name`` next to this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def find_binaries(tools: Sequence[str]) -> dict[str, Path] | None:
    """Each tool's binary; None, after a one-line error saying to run `make bench`, when one is missing."""
    binaries: dict[str, Path] = {}
    for tool in tools:
        found = find_binary(tool)
        if found is None:
            where = Path(sys.executable).parent
            print(f"error: {tool} not found in {where} or on PATH; run `make bench`", file=sys.stderr)
            return None
        binaries[tool] = found
    return binaries


def emit_record(record: Mapping[str, object], path: Path | None) -> None:
    """The result as the last line of the output, one JSON object (and into ``path``, if given)."""
    line = json.dumps(record, separators=(",", ":"))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(line + "\n")
    print(line)


def clean_env(config_dir: Path, rclone_config: Path) -> dict[str, str]:
    """The environment both tools run in: no user config, no option overrides, Python as a user runs it.

    ``PYTHON*`` variables go too: containers and CI often set ``PYTHONDONTWRITEBYTECODE``, and without its
    bytecode cache syncer recompiles every module on every run (several times slower to start), which is
    not how an installed syncer runs; ``PYTHONUNBUFFERED`` and friends change I/O and start-up as well.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "SYNCER_", "PYTHON"))}
    env["XDG_CONFIG_HOME"] = str(config_dir)
    env["RCLONE_CONFIG"] = str(rclone_config)
    return env


def tool_version(binary: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run([str(binary), "version"], capture_output=True, text=True, env=env, check=False)
    return done.stdout.splitlines()[0].strip() if done.returncode == 0 and done.stdout else "unknown"


def syncer_bytecode_cached() -> bool | None:
    """Whether syncer's CLI module has a current bytecode cache (None: syncer is not importable here)."""
    try:
        spec = importlib.util.find_spec("syncer.cli")
    except ImportError:
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    cached = Path(importlib.util.cache_from_source(spec.origin))
    return cached.exists() and cached.stat().st_mtime >= Path(spec.origin).stat().st_mtime


# -- checking outputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    lsl: Counter[str]  # every lsl line, as a multiset (the tools' orders differ)
    count: int
    total_bytes: int


def expected_output(spec: Sequence[FileSpec]) -> Expected:
    """What a correct run prints; times in this process's local zone, as the tools (same env) print them."""
    lines: Counter[str] = Counter()
    for f in spec:
        seconds, nanos = divmod(f.mtime_ns, 10**9)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
        lines[f"{f.size} {stamp}.{nanos:09d} {f.path}"] += 1
    return Expected(lsl=lines, count=len(spec), total_bytes=sum(f.size for f in spec))


def check_lsl(tool: str, out: str, want: Expected) -> None:
    lines = out.splitlines()
    if len(lines) != want.count:
        raise BenchError(f"{tool} lsl printed {len(lines)} lines, expected {want.count}")
    got: Counter[str] = Counter()
    for line in lines:
        match = _LSL_LINE.match(line)
        if match is None:
            raise BenchError(f"{tool} lsl printed an unexpected line: {line!r}")
        got[f"{match[1]} {match[2]} {match[3]}"] += 1
    if got != want.lsl:
        missing = sorted((want.lsl - got).elements())[:2]
        extra = sorted((got - want.lsl).elements())[:2]
        raise BenchError(f"{tool} lsl output differs from the tree: missing {missing}, unexpected {extra}")


def parse_size(tool: str, out: str) -> tuple[int, int]:
    """(objects, bytes) from ``size`` output.

    Both print ``Total objects: 10k (10000)`` (or a bare count below 1000) and ``Total size: ... (N Byte)``.
    """
    objects = _OBJECTS.search(out)
    total = _BYTES.search(out)
    if objects is None or total is None:
        raise BenchError(f"cannot parse {tool} size output: {out!r}")
    return int(objects[1] or objects[2]), int(total[1])


def check_size(tool: str, out: str, want: Expected) -> tuple[int, int]:
    got = parse_size(tool, out)
    if got != (want.count, want.total_bytes):
        raise BenchError(
            f"{tool} size reported {got[0]} objects / {got[1]} bytes, "
            f"expected {want.count} / {want.total_bytes}"
        )
    return got


# -- running -----------------------------------------------------------------------------------------------


@dataclass
class Series:
    times_s: list[float] = field(default_factory=list)
    size_result: tuple[int, int] | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_s) * 1000

    @property
    def min_ms(self) -> float:
        return min(self.times_s) * 1000


def run_once(argv: Sequence[str], env: Mapping[str, str]) -> tuple[float, str]:
    """Wall time of the whole process, stdout captured in a pipe and read to the end."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise BenchError(f"{' '.join(argv)} exited {done.returncode}: {err[-1] if err else '(no stderr)'}")
    return elapsed, done.stdout.decode("utf-8", errors="surrogateescape")


def bench_command(
    command: str,
    binaries: Mapping[str, Path],
    tree: Path,
    env: Mapping[str, str],
    want: Expected,
    *,
    runs: int,
    warmup: int,
) -> dict[str, Series]:
    series = {tool: Series() for tool in TOOLS}
    for round_no in range(warmup + runs):
        for tool in TOOLS:  # strictly alternating: syncer, rclone, syncer, rclone, ...
            elapsed, out = run_once([str(binaries[tool]), command, str(tree)], env)
            if command == "lsl":
                check_lsl(tool, out, want)
            else:
                series[tool].size_result = check_size(tool, out, want)
            if round_no >= warmup:
                series[tool].times_s.append(elapsed)
    if command == "size" and series["syncer"].size_result != series["rclone"].size_result:
        raise BenchError(
            f"size disagrees: syncer {series['syncer'].size_result}, rclone {series['rclone'].size_result}"
        )
    return series


# -- reporting ---------------------------------------------------------------------------------------------


def report(results: Mapping[str, Mapping[str, Series]]) -> list[str]:
    head = (
        f"{'command':<8} {'syncer med ms':>13} {'rclone med ms':>13} {'ratio':>6}   "
        f"{'syncer min ms':>13} {'rclone min ms':>13} {'min ratio':>9}"
    )
    lines = [head, "-" * len(head)]
    missed = []
    for command, series in results.items():
        s, r = series["syncer"], series["rclone"]
        ratio = s.median_ms / r.median_ms
        lines.append(
            f"{command:<8} {s.median_ms:13.1f} {r.median_ms:13.1f} {ratio:6.2f}   "
            f"{s.min_ms:13.1f} {r.min_ms:13.1f} {s.min_ms / r.min_ms:9.2f}"
        )
        if ratio > TARGET_RATIO:
            missed.append(
                f"TARGET MISSED: syncer {command} is {ratio:.2f}x rclone (median "
                f"{s.median_ms:.1f} ms vs {r.median_ms:.1f} ms; target <= {TARGET_RATIO}x)"
            )
    lines.append("")
    lines.extend(missed or [f"target met: every ratio <= {TARGET_RATIO}x"])
    return lines


def json_record(
    results: Mapping[str, Mapping[str, Series]], machine: Mapping[str, object], runs: int, warmup: int
) -> dict[str, object]:
    commands: dict[str, object] = {}
    for command, series in results.items():
        ratio = series["syncer"].median_ms / series["rclone"].median_ms
        commands[command] = {
            **{
                tool: {
                    "median_ms": round(series[tool].median_ms, 3),
                    "min_ms": round(series[tool].min_ms, 3),
                    "times_ms": [round(t * 1000, 3) for t in series[tool].times_s],
                }
                for tool in TOOLS
            },
            "ratio": round(ratio, 3),
            "target_met": ratio <= TARGET_RATIO,
        }
    return {
        "benchmark": "listing",
        "date": time.strftime("%Y-%m-%d"),
        "files": TOTAL_FILES,
        "folders": FOLDERS,
        "runs": runs,
        "warmup": warmup,
        "target_ratio": TARGET_RATIO,
        "machine": dict(machine),
        "results": commands,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per tool and command (default 15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per tool first (default 2)")
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK_DIR, help=f"the tree (default {DEFAULT_WORK_DIR})"
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

    tree = args.work_dir.resolve()
    spec = tree_spec()
    try:
        wrote = ensure_tree(tree, spec)
        with tempfile.TemporaryDirectory(prefix="bench-listing-") as scratch:
            config_dir = Path(scratch) / "xdg-config"
            config_dir.mkdir()
            rclone_config = Path(scratch) / "rclone.conf"
            rclone_config.touch()
            env = clean_env(config_dir, rclone_config)
            load_before = os.getloadavg()[0]
            machine: dict[str, object] = {
                "nproc": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
                "rclone": tool_version(binaries["rclone"], env),
                "syncer": tool_version(binaries["syncer"], env),
                "loadavg_1m_before": round(load_before, 2),
            }
            state = f"{wrote} files written" if wrote else "reused"
            print(f"tree:    {tree} ({TOTAL_FILES} files in {FOLDERS} folders, {state})")
            for tool in TOOLS:
                print(f"{tool + ':':<8} {binaries[tool]} ({machine[tool]})")
            print(f"machine: {machine['nproc']} CPUs, Python {machine['python']}, {machine['platform']}")
            print(f"runs:    {args.warmup} warm-up + {args.runs} timed per tool, alternating\n")
            want = expected_output(spec)
            results = {
                command: bench_command(command, binaries, tree, env, want, runs=args.runs, warmup=args.warmup)
                for command in COMMANDS
            }
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    if syncer_bytecode_cached() is False:
        print(
            "warning: syncer's bytecode cache (__pycache__) was not written, so every syncer run compiled "
            "its modules: the syncer times include that\n"
        )
    machine["loadavg_1m_after"] = round(os.getloadavg()[0], 2)  # includes the benchmark's own load
    if load_before > 0.5 * (os.cpu_count() or 1):
        print(
            f"warning: the 1-minute load average was {load_before:.2f} on {os.cpu_count()} CPUs before the "
            "start; other work was running and these times are noisy\n"
        )

    print("\n".join(report(results)))
    record = json_record(results, machine, args.runs, args.warmup)
    emit_record(record, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
