"""Issue 5's reliability run: ``syncer sync`` of 1,000 files up to MEGA and back down while the emulator
injects 10% EAGAIN, 5% HTTP 500 and 2% dropped connections; both runs exit 0 and every file comes back
byte-identical with its mtime (to the second). A corrupted download under the same faults fails its file
and leaves nothing behind.

The emulator runs in this process with its own seed, so the fault sequence is the same on every run for the
same sequence of requests; the counters it keeps prove the faults were really injected.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Runner
from .mega_support import mega_remote

pytestmark = pytest.mark.timeout(180)

SECOND = 10**9
BASE_SECONDS = 1_600_000_000

#: the faults of issue 5, on API commands and on transfers alike
FAULTS = {"eagain_rate": 0.10, "http500_rate": 0.05, "drop_rate": 0.02}

#: sizes on and around MEGA's first chunk boundaries (128 KiB, then 128 + 256 KiB)
BOUNDARY_SIZES = (131071, 131072, 131073, 393216, 393217)


def make_files(root: Path, count: int = 1000) -> dict[str, tuple[bytes, int]]:
    """``count`` files in three levels of folders: path -> (content, mtime_ns); a few empty, a few just
    over a chunk boundary, the rest a few KiB. Every file gets its own mtime, not on a whole second."""
    rng = random.Random(5)
    files: dict[str, tuple[bytes, int]] = {}
    for index in range(count):
        top, sub = index % 10, index // 10 % 4
        path = f"top{top}/sub {sub}/file-{index:04d}.bin" if index % 3 else f"top{top}/file-{index:04d}.bin"
        if index % 125 == 0:
            size = 0
        elif index % 200 == 7:
            size = BOUNDARY_SIZES[index // 200]
        else:
            size = rng.randrange(1, 4096)
        mtime_ns = (BASE_SECONDS + index * 3_607) * SECOND + rng.randrange(SECOND)
        files[path] = (rng.randbytes(size), mtime_ns)
    for path, (data, mtime_ns) in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, ns=(mtime_ns, mtime_ns))
    return files


def local_files(root: Path) -> dict[str, tuple[bytes, int]]:
    found: dict[str, tuple[bytes, int]] = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            full = Path(directory, name)
            found[full.relative_to(root).as_posix()] = (full.read_bytes(), full.stat().st_mtime_ns)
    return found


def api_faults(injected: dict[str, int]) -> int:
    return sum(count for kind, count in injected.items() if kind.startswith("cs:"))


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    from backends.mega.emulator import Emulator, EmulatorSettings

    started = Emulator(EmulatorSettings(data_dir=tmp_path / "mega", seed=2024))
    started.start()
    yield started
    started.stop()


def test_sync_of_a_thousand_files_up_and_down_under_faults(
    emulator: Any, run: Runner, tmp_path: Path
) -> None:
    mega_remote(emulator, run, "faults")
    source = tmp_path / "source"
    files = make_files(source)
    assert len(files) == 1000

    emulator.set_faults(**FAULTS)
    up = run("sync", source, "emu:dir", "--transfers", "8")
    assert up.returncode == 0, up.stderr[-3000:]
    after_up = emulator.faults_injected()
    for kind in ("cs:eagain", "cs:http500", "cs:drop", "upload:http500", "upload:drop"):
        assert after_up.get(kind, 0) > 0, f"no {kind} fault in the upload: {after_up}"

    # every file once: a batch whose answer was lost and re-sent must not have made a second node
    listed = run("lsjson", "-R", "--files-only", "emu:dir")
    assert listed.returncode == 0, listed.stderr[-3000:]
    remote = [(item["Path"], item["Size"]) for item in json.loads(listed.stdout)]
    assert sorted(remote) == sorted((path, len(data)) for path, (data, _) in files.items())

    back = tmp_path / "back"
    down = run("sync", "emu:dir", back, "--transfers", "8")
    assert down.returncode == 0, down.stderr[-3000:]
    after_down = emulator.faults_injected()
    for kind in ("download:http500", "download:drop"):
        assert after_down.get(kind, 0) > 0, f"no {kind} fault in the download: {after_down}"
    assert api_faults(after_down) > api_faults(after_up)  # the download's API commands met faults too

    got = local_files(back)
    assert sorted(got) == sorted(files)
    for path, (data, mtime_ns) in files.items():
        assert got[path][0] == data, path
        assert got[path][1] == mtime_ns // SECOND * SECOND, path

    # the same faults plus every download body corrupted: each non-empty file fails its MAC, none lands
    emulator.set_faults(corrupt_rate=1.0)
    corrupt = tmp_path / "corrupt"
    folder = "top0/sub 2"  # holds an empty file, which has no body to corrupt
    done = run("copy", f"emu:dir/{folder}", corrupt, "--retries", "1", "--low-level-retries", "2")
    assert done.returncode != 0
    assert "MAC mismatch" in done.stderr and "Traceback" not in done.stderr
    wanted = {p[len(folder) + 1 :]: data for p, (data, _) in files.items() if p.startswith(folder + "/")}
    failed = {p for p, data in wanted.items() if data}
    assert failed and all(p in done.stderr for p in failed)
    landed = local_files(corrupt) if corrupt.exists() else {}
    assert set(landed) == set(wanted) - failed  # the empty files only: no corrupt file, no temp file
    assert landed
    assert emulator.faults_injected()["download:corrupt"] >= len(failed)
