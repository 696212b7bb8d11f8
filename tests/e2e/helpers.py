"""Trees made on disk with known sizes and mtimes, and rclone's output formats computed from them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: 2020-09-13 12:26:40.123456789 UTC; every item of a tree gets its own mtime from here on.
BASE_NS = 1_600_000_000_123_456_789
#: One day and a bit, so that dates, times and nanoseconds all differ between items.
STEP_NS = 86_400 * 10**9 + 3_600 * 10**9 + 61 * 10**9 + 1_001


@dataclass(frozen=True)
class Item:
    """One file or directory of a tree made by ``build_tree``; ``path`` is relative, '/'-separated."""

    path: str
    is_dir: bool
    data: bytes
    mtime_ns: int

    @property
    def size(self) -> int:
        return -1 if self.is_dir else len(self.data)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class Tree(dict[str, Item]):
    """path -> Item, for a tree rooted at ``root``."""

    def __init__(self, root: Path, items: Mapping[str, Item]) -> None:
        super().__init__(items)
        self.root = root

    def ordered(self, *, files: bool = True, dirs: bool = True, max_depth: int | None = None) -> list[Item]:
        """Items in rclone's listing order: shallower levels first, each directory's entries by name."""
        chosen = [
            item
            for item in self.values()
            if (files or item.is_dir)
            and (dirs or not item.is_dir)
            and (max_depth is None or item.path.count("/") < max_depth)
        ]
        return sorted(chosen, key=lambda item: walk_key(item.path))


def walk_key(path: str) -> tuple[int, list[str]]:
    """Sort key of rclone's recursive listing order."""
    return path.count("/"), path.split("/")


def build_tree(root: Path, files: Mapping[str, bytes], dirs: Iterable[str] = ()) -> Tree:
    """Make ``files`` (path -> content) and ``dirs`` under ``root``; give every item a distinct mtime.

    Mtimes follow the sorted order of paths: BASE_NS, BASE_NS + STEP_NS, ...; they are set after every
    item exists, so creating a child does not disturb its parent's mtime.
    """
    root.mkdir(parents=True, exist_ok=True)
    all_dirs = set(dirs)
    for path in files:
        parts = path.split("/")[:-1]
        all_dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    for directory in sorted(all_dirs):
        (root / directory).mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        (root / path).write_bytes(data)
    items: dict[str, Item] = {}
    for index, path in enumerate(sorted([*files, *all_dirs])):
        is_dir = path in all_dirs
        items[path] = Item(path, is_dir, b"" if is_dir else files[path], BASE_NS + index * STEP_NS)
    for item in sorted(items.values(), key=lambda i: -i.path.count("/")):
        os.utime(root / item.path, ns=(item.mtime_ns, item.mtime_ns))
    return Tree(root, items)


#: The tree most listing tests use: files at three levels, an empty directory, and the sibling directories
#: "sub" and "sub.old" (sorting by full path would put "sub.old/..." before "sub/...": rclone does not).
STANDARD_FILES: Mapping[str, bytes] = {
    "a.txt": b"hello\n",
    "b.bin": b"0123456789",
    "sub/c.md": b"x",
    "sub/deep/d.txt": b"deep",
    "sub.old/z.json": b'{"k": 1}\n',
}
STANDARD_DIRS = ("empty",)


# -- rclone's formats ---------------------------------------------------------------------------------------


def utc_seconds(mtime_ns: int) -> str:
    """``2006-01-02 15:04:05`` in UTC (the tests run with TZ=UTC)."""
    return dt.datetime.fromtimestamp(mtime_ns // 10**9, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def utc_nanos(mtime_ns: int) -> str:
    """``2006-01-02 15:04:05.000000000`` (lsl)."""
    return f"{utc_seconds(mtime_ns)}.{mtime_ns % 10**9:09d}"


def rfc3339(mtime_ns: int) -> str:
    """lsjson's ModTime in UTC."""
    return f"{utc_seconds(mtime_ns).replace(' ', 'T')}.{mtime_ns % 10**9:09d}Z"


def ls_line(item: Item) -> str:
    return f"{item.size:9d} {item.path}\n"


def lsl_line(item: Item) -> str:
    return f"{item.size:9d} {utc_nanos(item.mtime_ns)} {item.path}\n"


def lsd_line(item: Item) -> str:
    return f"{-1:12d} {utc_seconds(item.mtime_ns)} {-1:9d} {item.path}\n"


def digest(kind: str, data: bytes) -> str:
    return hashlib.new(kind, data).hexdigest()


# -- the state of a tree, to show that a command changed nothing --------------------------------------------


def snapshot(root: Path) -> dict[bytes, tuple[bool, int, int, bytes]]:
    """Every path below ``root`` (bytes, so any name works) -> (is_dir, size, mtime_ns, sha1 of content)."""
    state: dict[bytes, tuple[bool, int, int, bytes]] = {}
    base = os.fsencode(root)
    for directory, dirnames, filenames in os.walk(base):
        for name in [*dirnames, *filenames]:
            full = os.path.join(directory, name)
            st = os.lstat(full)
            is_dir = os.path.isdir(full) and not os.path.islink(full)
            content = b""
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as file:
                    content = hashlib.sha1(file.read()).digest()
            state[os.path.relpath(full, base)] = (is_dir, st.st_size, st.st_mtime_ns, content)
    return state


# -- assertions on a finished run ---------------------------------------------------------------------------


def stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return proc.stderr.splitlines()


def assert_one_error_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The run exited with ``code`` and said why in exactly one line (no traceback) holding ``needles``."""
    lines = stderr_lines(proc)
    detail = f"exit {proc.returncode}, stderr:\n{proc.stderr}"
    assert proc.returncode == code, detail
    assert "Traceback" not in proc.stderr, detail
    assert len(lines) == 1, detail
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in the message; {detail}"
    return lines[0]


def kill_after(command: list[str], env: Mapping[str, str], delay: float, log: Path | None = None) -> int:
    """Start ``command``, SIGKILL it after ``delay`` seconds (the experiment's parameter, not a wait for a
    condition) and return its exit code; its stderr goes to ``log`` when given."""
    import signal
    import time

    with open(log if log is not None else os.devnull, "wb") as stderr:
        proc = subprocess.Popen(command, env=dict(env), stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        finally:
            code = proc.wait(timeout=120)
    return code
