#!/usr/bin/env python3
"""How do ``syncer bisync`` and ``rclone bisync`` compare on two local trees of 10,000 files?

Scenarios (both trees on the same local filesystem, each tool with its own state of the same pair):

1. ``bisync-noop-10k``: a bisync with nothing to do. Target: syncer within 1.5x rclone's time.
2. ``bisync-one-change-10k``: one file edited on path1 (new content, a later mtime) before each run; the
   run must carry it to path2. Both tools, same edit, timed as whole processes.
3. ``watch-one-change-10k`` (syncer only): ``syncer bisync --watch`` is running; the time from one file
   being written on path1 to its new content being on path2 (polled every 10 ms), i.e. detect + settle
   (0.5 s of quiet) + one pass + the copy.

Method as in ``bench_transfer.py``: whole processes started by a minimal launcher (wall time and the
child's own ``ru_maxrss``), tools alternating after an untimed warm-up round, medians and minimums, default
flags, no user config. rclone keeps its bisync listings in ``--workdir`` under the work directory; syncer
its state under ``SYNCER_STATE_DIR`` there. Every run's result is checked outside the timing (exit code 0;
the edited file's content on path2). A missed target is printed (``TARGET MISSED``), not an exit code.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench_listing import BenchError, clean_env, emit_record, find_binaries, tool_version
from bench_transfer import Launcher, Series

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work" / "bisync"
TOOLS = ("syncer", "rclone")
SEED = 20261124
FILES = 10_000
BASE_NS = 1_700_000_000 * 10**9
TARGET_RATIO = 1.5


def make_tree(root: Path) -> None:
    """10,000 files of 1-4 KiB in 100 folders, seeded, with distinct mtimes (reused when complete)."""
    marker = root / ".complete"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(SEED)
    for i in range(FILES):
        path = root / f"d{i % 100:02d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(1024, 4096)))
        stamp = BASE_NS + i * 1_000_003
        os.utime(path, ns=(stamp, stamp))
    marker.write_text("")


def prepare(work: Path, env: dict[str, str], binaries: dict[str, Path]) -> tuple[Path, Path]:
    """Two identical trees, agreed by a --resync of each tool."""
    one, two = work / "one", work / "two"
    make_tree(one)
    if not (two / ".complete").exists():
        shutil.rmtree(two, ignore_errors=True)
        shutil.copytree(one, two)  # copy2 keeps the mtimes
    shutil.rmtree(work / "state", ignore_errors=True)
    shutil.rmtree(work / "rclone-workdir", ignore_errors=True)
    for argv in (command("syncer", binaries, work, one, two), command("rclone", binaries, work, one, two)):
        done = subprocess.run([*argv, "--resync"], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv)} --resync failed: {done.stderr.strip()[-300:]}")
    return one, two


def command(tool: str, binaries: dict[str, Path], work: Path, one: Path, two: Path) -> list[str]:
    if tool == "syncer":
        return [str(binaries["syncer"]), "bisync", str(one), str(two)]
    return [str(binaries["rclone"]), "bisync", str(one), str(two), "--workdir", str(work / "rclone-workdir")]


def edit(one: Path, round_number: int) -> tuple[Path, bytes]:
    """Edit one file on path1 (a new content and a later mtime); returns it and its new content."""
    target = one / "d42" / "f04242.bin"
    data = f"edit {round_number} {time.time_ns()}".encode() * 40
    target.write_bytes(data)
    stamp = BASE_NS + 10**15 + round_number * 10**9
    os.utime(target, ns=(stamp, stamp))
    return target, data


def bench_runs(
    args: argparse.Namespace, work: Path, env: dict[str, str], binaries: dict[str, Path]
) -> dict[str, dict[str, Series]]:
    one, two = prepare(work, env, binaries)
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    results: dict[str, dict[str, Series]] = {
        "bisync-noop-10k": {t: Series() for t in TOOLS},
        "bisync-one-change-10k": {t: Series() for t in TOOLS},
    }
    edits = 0
    with Launcher(env, scratch) as launcher:
        for round_number in range(args.warmup + args.runs):
            timed = round_number >= args.warmup
            for tool in TOOLS:
                argv = command(tool, binaries, work, one, two)
                result = launcher.run(argv)
                if timed:
                    series = results["bisync-noop-10k"][tool]
                    series.times_s.append(result.elapsed_s)
                    series.rss_kib.append(result.maxrss_kib)
                edits += 1
                target, data = edit(one, edits)
                result = launcher.run(argv)
                copied = two / target.relative_to(one)
                if copied.read_bytes() != data:
                    raise BenchError(f"{tool} bisync did not carry the edit of {target.name}")
                if timed:
                    series = results["bisync-one-change-10k"][tool]
                    series.times_s.append(result.elapsed_s)
                    series.rss_kib.append(result.maxrss_kib)
    return results


def bench_watch(
    args: argparse.Namespace, work: Path, env: dict[str, str], binaries: dict[str, Path]
) -> list[float]:
    one, two = work / "one", work / "two"
    proc = subprocess.Popen(
        [*command("syncer", binaries, work, one, two), "--watch", "-P"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the first pass is done when it says it is watching
            if "Watching" in line:
                break
        else:
            raise BenchError("syncer bisync --watch ended before watching")
        for i in range(args.warmup + args.runs):
            target, data = edit(one, 10_000 + i)
            started = time.monotonic()
            copied = two / target.relative_to(one)
            while True:
                try:
                    if copied.read_bytes() == data:
                        break
                except FileNotFoundError:
                    pass
                if time.monotonic() - started > 30:
                    raise BenchError("the watcher did not carry an edit within 30 s")
                time.sleep(0.01)
            if i >= args.warmup:
                latencies.append(time.monotonic() - started)
            time.sleep(1.0)  # let the pass that follows the copy (its own write, seen on path2) settle
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return latencies


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--json", type=Path, help="also write the JSON record here")
    args = parser.parse_args(argv)
    binaries = find_binaries(TOOLS)
    if binaries is None:
        return 2
    work: Path = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config"
    (config / "syncer").mkdir(parents=True, exist_ok=True)
    (config / "syncer" / "config.yaml").write_text("{}\n")
    rclone_config = work / "rclone.conf"
    rclone_config.touch()
    env = clean_env(config, rclone_config)
    env["SYNCER_STATE_DIR"] = str(work / "state")
    print(
        f"syncer vs {tool_version(binaries['rclone'], env)}; {os.cpu_count()} CPUs; work dir {work}",
        flush=True,
    )
    try:
        results = bench_runs(args, work, env, binaries)
        latencies = bench_watch(args, work, env, binaries)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"\n{'scenario':24} {'tool':8} {'median ms':>10} {'min ms':>8} {'peak RSS MB':>12}")
    for key, series in results.items():
        for tool, s in series.items():
            print(f"{key:24} {tool:8} {s.median_ms:10.0f} {s.min_ms:8.0f} {s.rss_max_mb:12.1f}")
    watch_sorted = sorted(latencies)
    watch_median = watch_sorted[len(watch_sorted) // 2] * 1000
    print(f"{'watch-one-change-10k':24} {'syncer':8} {watch_median:10.0f} {watch_sorted[0] * 1000:8.0f}")
    noop = results["bisync-noop-10k"]
    ratio = noop["syncer"].median_ms / noop["rclone"].median_ms
    verdict = "target met" if ratio <= TARGET_RATIO else "TARGET MISSED"
    print(f"\n{verdict}: bisync-noop-10k syncer/rclone {ratio:.2f}x (target <= {TARGET_RATIO}x)")
    one_change = results["bisync-one-change-10k"]
    change_ratio = one_change["syncer"].median_ms / one_change["rclone"].median_ms
    print(f"bisync-one-change-10k syncer/rclone {change_ratio:.2f}x")
    record = {
        "benchmark": "bisync",
        "date": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "results": {
            key: {
                tool: {
                    "median_ms": round(s.median_ms, 1),
                    "min_ms": round(s.min_ms, 1),
                    "rss_max_mb": round(s.rss_max_mb, 1),
                }
                for tool, s in series.items()
            }
            for key, series in results.items()
        }
        | {
            "watch-one-change-10k": {
                "syncer": {
                    "median_ms": round(watch_median, 1),
                    "times_ms": [round(t * 1000, 1) for t in latencies],
                }
            }
        },
        "noop_ratio": round(ratio, 3),
    }
    emit_record(record, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
