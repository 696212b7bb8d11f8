"""Files and directories only the current user may read: everything syncer writes (sessions, state, caches).

Directories are 0700 and files 0600 whatever the umask, and files are replaced atomically (temp file in the
same directory, fsync, ``os.replace``), so a reader never sees a partial file and a crash leaves the old one.
These helpers raise OSError like the ``os`` functions they wrap.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create directory ``path`` (and missing parents, also 0700) and make sure it is mode 0700.

    An existing directory keeps its contents but has its mode fixed; existing parents are left alone.
    Returns ``path`` as a Path.
    """
    directory = Path(path)
    missing: list[Path] = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created concurrently: its mode is fixed below if final
            os.mkdir(candidate, DIR_MODE)
    if not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
    os.chmod(directory, DIR_MODE)
    return directory


def write_private(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Atomically replace ``path`` with ``data`` (str is written as UTF-8), as a 0600 file.

    The parent directory must exist (see ``private_dir``). The data goes to a temp file in the same directory,
    created 0600 with O_EXCL, fsynced, then renamed over ``path``; the directory is fsynced after the rename.
    On failure the temp file is removed and ``path`` is untouched.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    directory = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    while True:
        temp = directory / f".{target.name}.{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(temp, flags, FILE_MODE)
        except FileExistsError:
            continue
        break
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable; best effort (some filesystems refuse to open directories)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
