"""A bisync killed with SIGKILL at a random moment, then run again without --resync, ends exactly where an
uninterrupted run ends: no file lost, no deleted file back, both sides equal, and no version a user wrote
anywhere but on a side or in a debris folder.

The same changes are prepared afresh for every round (new files, edits, deletes and renames on both sides
after a --resync). The kill delays are the experiment's parameter, seeded and spread over the time an
uninterrupted run takes (measured first); everything else waits on process completion.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

from .conftest import SYNCER, Runner
from .helpers import kill_after

SEED = 20261123
ROUNDS = 6
FILES = 240
BASE_NS = 1_650_000_000_000_000_000
TEMP_PREFIX = ".syncer-tmp-"


def _write(path: Path, data: bytes, stamp_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(stamp_ns, stamp_ns))


def _tree(root: Path, *, debris: bool = False) -> dict[str, bytes]:
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative.startswith(".debris/") == debris and TEMP_PREFIX not in path.name:
            found[relative] = path.read_bytes()
    return found


def _prepare(root: Path, run: Runner, env: dict[str, str]) -> list[str]:
    """Both sides agreed by a --resync, then changed on each side; returns the bisync command line."""
    rng = random.Random(SEED)
    one, two = root / "one", root / "two"
    for i in range(FILES):
        size = rng.randint(1 << 20, 2 << 20) if i % 12 == 0 else rng.randint(1, 32 << 10)
        _write(one / f"d{i % 6}/f{i:03d}.bin", rng.randbytes(size), BASE_NS + i * 10**9)
    two.mkdir(parents=True)
    command = [SYNCER, "bisync", str(one), str(two)]
    done = subprocess.run([*command, "--resync"], env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    later = BASE_NS + 10**13
    (two / "renamed").mkdir()
    for i in range(FILES):
        name = f"d{i % 6}/f{i:03d}.bin"
        if i % 7 == 1:  # edited on path1
            _write(one / name, rng.randbytes(rng.randint(1, 600 << 10)), later + i)
        elif i % 7 == 2:  # edited on path2
            _write(two / name, rng.randbytes(rng.randint(1, 600 << 10)), later + i)
        elif i % 11 == 3:
            (one / name).unlink()
        elif i % 11 == 4:
            (two / name).unlink()
        elif i % 13 == 5:
            (two / name).rename(two / f"renamed/f{i:03d}.bin")
    for i in range(40):
        _write(one / f"new1/n{i:02d}.bin", rng.randbytes(rng.randint(1, 200 << 10)), later + 1000 + i)
        _write(two / f"new2/n{i:02d}.bin", rng.randbytes(rng.randint(1, 200 << 10)), later + 2000 + i)
    return command


def test_a_killed_bisync_reruns_to_the_same_result(run: Runner, tmp_path: Path) -> None:
    env = dict(run.env)
    reference = tmp_path / "reference"
    command = _prepare(reference, run, env)
    before = set(_tree(reference / "one").values()) | set(_tree(reference / "two").values())
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
    full = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    expected = _tree(reference / "one")
    assert expected == _tree(reference / "two")
    assert before <= set(expected.values()) | set(_tree(reference / "one", debris=True).values()) | set(
        _tree(reference / "two", debris=True).values()
    )

    rng = random.Random(SEED + 1)
    for round_number in range(ROUNDS):
        root = tmp_path / f"round-{round_number}"
        command = _prepare(root, run, env)
        delay = rng.uniform(0.3 * full, 0.95 * full)  # start-up and listing take the first third
        killed = kill_after(command, env, delay)
        what = f"round {round_number}: killed after {delay:.3f}s of a {full:.3f}s run (exit {killed})"
        again = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
        assert again.returncode == 0, f"{what}: re-run failed:\n{again.stderr.decode(errors='replace')}"
        one, two = _tree(root / "one"), _tree(root / "two")
        assert one == two, f"{what}: the sides differ: {sorted(set(one) ^ set(two))[:5]}"
        assert one == expected, (
            f"{what}: differs from an uninterrupted run: {sorted(set(one) ^ set(expected))[:5]}"
        )
        kept = set(one.values()) | set(_tree(root / "one", debris=True).values())
        kept |= set(_tree(root / "two", debris=True).values())
        assert before <= kept, f"{what}: {len(before - kept)} versions lost"
        settled = subprocess.run([*command, "-v"], env=env, capture_output=True, timeout=120, check=False)
        assert settled.returncode == 0 and b"Copied from" not in settled.stderr, (
            f"{what}: a third run still copied"
        )
