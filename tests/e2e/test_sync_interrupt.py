"""A sync killed with SIGKILL at a random moment never leaves a destination file with a final name and partial
content, never loses a destination file it was replacing or deleting, and a re-run finishes the job.

The kill delay is the experiment's parameter (seeded, spread over the time a full run takes, measured first);
everything else waits on process completion.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import SYNCER, Runner
from .helpers import kill_after

SEED = 20240611
ROUNDS = 5
FILES = 300
TEMP_PREFIX = ".syncer-tmp-"
MTIME_BASE_NS = 1_650_000_000_000_000_000


@dataclass(frozen=True)
class Source:
    root: Path
    digests: dict[str, str]  # path -> sha1 of the content
    mtimes: dict[str, int]
    dirs: set[str]


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _make_source(root: Path, rng: random.Random) -> Source:
    """~300 files in nested folders; every tenth 1-2 MiB so that copies take a while."""
    digests: dict[str, str] = {}
    mtimes: dict[str, int] = {}
    dirs: set[str] = set()
    for i in range(FILES):
        folder = f"d{i % 7}/s{i % 3}" if i % 5 else f"d{i % 7}"
        dirs.update({folder.split("/")[0], folder})
        size = rng.randint(1 << 20, 2 << 20) if i % 10 == 0 else rng.randint(0, 64 << 10)
        data = rng.randbytes(size)
        path = f"{folder}/f{i:03d} {'ü' if i % 4 == 0 else ''}.bin"
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(data)
        mtime = MTIME_BASE_NS + i * 1_000_000_007
        os.utime(full, ns=(mtime, mtime))
        digests[path] = hashlib.sha1(data).hexdigest()
        mtimes[path] = mtime
    return Source(root, digests, mtimes, dirs)


def _stale_destination(root: Path, source: Source) -> dict[str, str]:
    """Old versions of every third source file plus files the source does not have; path -> sha1."""
    made: dict[str, str] = {}
    for index, path in enumerate(sorted(source.digests)):
        if index % 3 == 0:
            made[path] = f"stale version of {path}"
    for i in range(20):
        made[f"old/only-here-{i}.txt"] = f"destination only {i}"
    digests: dict[str, str] = {}
    for path, text in made.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)
        os.utime(full, ns=(MTIME_BASE_NS - 10**12, MTIME_BASE_NS - 10**12))
        digests[path] = hashlib.sha1(text.encode()).hexdigest()
    return digests


def _walk(root: Path) -> tuple[dict[str, Path], list[str], set[str], dict[str, Path]]:
    """(final-named files outside .debris, temp files, directories outside .debris, files in .debris)."""
    files: dict[str, Path] = {}
    temps: list[str] = []
    dirs: set[str] = set()
    debris: dict[str, Path] = {}
    for directory, dirnames, filenames in os.walk(root):
        rel = Path(directory).relative_to(root).as_posix()
        in_debris = rel == ".debris" or rel.startswith(".debris/")
        for name in dirnames:
            path = name if rel == "." else f"{rel}/{name}"
            if not in_debris and path != ".debris":
                dirs.add(path)
        for name in filenames:
            path = name if rel == "." else f"{rel}/{name}"
            if name.startswith(TEMP_PREFIX):
                temps.append(path)
            elif in_debris:
                debris[path] = Path(directory, name)
            else:
                files[path] = Path(directory, name)
    return files, temps, dirs, debris


def _sync_command(mode: str, source: Source, dst: Path, config: Path) -> list[str]:
    if mode == "paths":
        return [SYNCER, "sync", str(source.root), str(dst)]
    # two configured remotes are two stores: every byte is streamed through syncer's own put
    return [SYNCER, "--config", str(config), "sync", "src:", f"dst:{dst.name}"]


def _timed_full_run(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("mode", "stale"),
    [("paths", False), ("remotes", True)],
    ids=["server-side-fresh-dst", "streamed-stale-dst"],
)
def test_killed_sync_leaves_no_partial_file_and_a_rerun_completes(
    run: Runner, tmp_path: Path, mode: str, stale: bool
) -> None:
    rng = random.Random(f"{SEED}-{mode}")
    source = _make_source(tmp_path / "src", rng)
    workspace = tmp_path / "dsts"
    workspace.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"remotes:\n  src:\n    type: local\n    root: {source.root}\n"
        f"  dst:\n    type: local\n    root: {workspace}\n"
    )
    env = dict(run.env)

    full = _timed_full_run(_sync_command(mode, source, workspace / "measure", config), env)
    delays = [rng.uniform(0.01, max(0.02, full)) for _ in range(ROUNDS)]

    for round_number, delay in enumerate(delays):
        dst = workspace / f"round-{round_number}"
        dst.mkdir()
        originals = _stale_destination(dst, source) if stale else {}
        command = _sync_command(mode, source, dst, config)
        killed = kill_after(command, env, delay, tmp_path / f"round-{round_number}.log")
        what = f"round {round_number}: killed after {delay:.3f}s of a {full:.3f}s run (exit {killed})"

        # 1. nothing with a final name holds anything but a whole version of its file
        files, temps, _, debris = _walk(dst)
        for path, full_path in files.items():
            digest = _sha1(full_path)
            allowed = {source.digests.get(path), originals.get(path)} - {None}
            assert digest in allowed, (
                f"{what}: {path} has content that is neither the source's nor the old one"
            )
        # 2. a file being replaced or deleted is either still there or in the debris: never lost
        debris_digests = {_sha1(p) for p in debris.values()}
        for path, digest in originals.items():
            here = path in files and _sha1(files[path]) == digest
            assert here or digest in debris_digests, f"{what}: the old {path} is gone and not in the debris"
        # 3. temp files may stay on disk after a kill, but listings never show them
        if dst.exists():
            listed = run("lsf", "-R", dst)
            assert listed.returncode == 0, listed.stderr
            assert TEMP_PREFIX not in listed.stdout, f"{what}: lsf shows a temp file:\n{listed.stdout}"
            assert not set(temps) & set(listed.stdout.splitlines())

        # 4. a complete re-run makes the destination equal to the source
        finish = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
        assert finish.returncode == 0, f"{what}: re-run failed:\n{finish.stderr.decode(errors='replace')}"
        files, _, dirs, debris = _walk(dst)
        assert set(files) == set(source.digests), f"{what}: {set(files) ^ set(source.digests)}"
        for path, full_path in files.items():
            assert _sha1(full_path) == source.digests[path], f"{what}: {path} differs after the re-run"
            assert os.stat(full_path).st_mtime_ns == source.mtimes[path], f"{what}: {path} mtime"
        assert dirs == source.dirs, f"{what}: {dirs ^ source.dirs}"
        debris_digests = {_sha1(p) for p in debris.values()}
        assert set(originals.values()) <= debris_digests, (
            f"{what}: replaced or deleted files missing from debris"
        )

        # 5. and a further run has nothing to do
        again = subprocess.run(
            [*command[:-2], "-v", "--error-on-no-transfer", *command[-2:]],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        log = again.stderr.decode(errors="replace")
        assert again.returncode == 9, (
            f"{what}: a further run transferred something (exit {again.returncode}):\n{log}"
        )
        assert ": Copied" not in log and ": Deleted" not in log, log

    # the source was only ever read
    for path, digest in source.digests.items():
        assert _sha1(source.root / path) == digest
