"""The local disk as a backend.

Listing is one ``os.scandir`` per directory; writes go to a hidden temp file in the target folder and are
renamed into place, so a reader (or an interrupted run) never sees a partial file; copies within the disk use
``os.copy_file_range`` (falling back to ``sendfile``), so data never passes through Python.

Names that are not valid UTF-8 come out of ``os.scandir`` as surrogate-escaped strings and go back to the OS
unchanged, so they round-trip without any encoding of our own.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import stat as stat_module
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from threading import Event
from types import TracebackType
from typing import IO, ClassVar

from . import paths
from .base import (
    BLOCK_SIZE,
    NO_HASHES,
    Backend,
    BinaryReader,
    Entry,
    Features,
    HashType,
    Target,
    Usage,
    sized_blocks,
)
from .errors import (
    AlreadyExists,
    BackendError,
    DirectoryNotEmpty,
    DirNotFound,
    IntegrityError,
    InvalidName,
    IsADirectory,
    NotADirectory,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)

__all__ = ["LocalBackend", "LocalOptions"]

log = logging.getLogger("backends.local")

_S_IFMT, _S_IFREG, _S_IFDIR = 0o170000, stat_module.S_IFREG, stat_module.S_IFDIR
#: Builds an Entry from a full tuple without the keyword handling of Entry(...).
new_entry = tuple.__new__

#: Temp files of interrupted writes start with this; listings hide them so they are never synced.
TEMP_PREFIX = ".syncer-tmp-"


@dataclass(frozen=True, slots=True)
class LocalOptions:
    """Options of a local remote (``copy_links`` is also set by ``-L/--copy-links``)."""

    copy_links: bool = field(default=False, metadata={"help": "follow symlinks (also -L/--copy-links)"})
    skip_links: bool = field(default=False, metadata={"help": "do not warn about skipped symlinks"})


def _translate(exc: OSError, path: str, *, directory: bool = False) -> BackendError:
    """Map an OSError to the backend error tree (the one place OS errors are translated)."""
    code = exc.errno
    reason = exc.strerror or str(exc)
    if code == errno.ENOENT:
        return DirNotFound(path=path) if directory else NotFound(path=path)
    if code in (errno.EACCES, errno.EPERM):
        return PermissionDenied(path=path)
    if code == errno.EEXIST:
        return AlreadyExists(path=path)
    if code == errno.ENOTDIR:
        # For a file operation, a path below a file simply does not exist.
        return NotADirectory(path=path) if directory else NotFound("a parent is a file", path=path)
    if code == errno.EISDIR:
        return IsADirectory(path=path)
    if code == errno.ENOTEMPTY:
        return DirectoryNotEmpty(path=path)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return QuotaExceeded(f"no space left on device ({reason})", path=path)
    if code in (errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL):
        return InvalidName(reason, path=path)
    return BackendError(reason, path=path)


@contextmanager
def _os_errors(path: str, *, directory: bool = False) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _translate(exc, path, directory=directory) from exc


class _RangeReader:
    """A file reader that stops after ``remaining`` bytes."""

    def __init__(self, file: IO[bytes], remaining: int) -> None:
        self._file = file
        self._remaining = remaining

    def read(self, size: int = -1, /) -> bytes:
        if self._remaining <= 0:
            return b""
        if size < 0 or size > self._remaining:
            size = self._remaining
        data = self._file.read(size)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> _RangeReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _copy_fd(src: int, dst: int, size: int) -> None:
    """Copy ``src``'s ``size`` bytes (its size when opened) to ``dst``, inside the kernel where it can.

    Stopping at the known size spares the last call that would only confirm the end of the file.
    """
    try:
        copied = 0
        while copied < size:
            step = os.copy_file_range(src, dst, size - copied)
            if not step:
                break  # the file shrank meanwhile
            copied += step
        return
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
    try:
        offset = os.lseek(src, 0, os.SEEK_CUR)
        while sent := os.sendfile(dst, src, offset, 1 << 30):
            offset += sent
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL):
            raise
    while block := os.read(src, BLOCK_SIZE):
        os.write(dst, block)


class LocalBackend(Backend):
    """A directory on this machine. ``root`` is an absolute path (it may not exist yet)."""

    type_name: ClassVar[str] = "local"
    Options: ClassVar[type[LocalOptions]] = LocalOptions
    options: LocalOptions
    features = Features(
        hashes=frozenset(HashType),
        slow_hash=True,
        mtime_precision_ns=1,
        can_set_mtime=True,
        server_side_copy=True,
        server_side_move=True,
        server_side_dir_move=True,
        unknown_size_put=True,
        serial_io=True,
        change_notify=True,
    )

    def __init__(self, name: str, root: str, options: LocalOptions | None = None) -> None:
        super().__init__(name, root, options)
        #: Folders known to exist (a set is safe to share between threads for add/discard/in).
        self._known_dirs: set[str] = set()
        # Temp names: random per backend, then counted (O_EXCL still guards against any clash).
        self._temp_token = os.urandom(6).hex()
        self._temp_serial = itertools.count()

    @classmethod
    def make_root(cls, prefix: str, path: str) -> str:
        # Under a configured root, "name:/sub" is still inside it (as with rclone's alias remotes).
        joined = os.path.join(os.path.expanduser(prefix), path.lstrip("/")) if prefix else path
        return os.path.abspath(os.path.expanduser(joined)) if joined else os.getcwd()

    def describe(self, path: str = "") -> str:
        return os.path.join(self.root, path) if path else self.root

    def _full(self, path: str) -> str:
        paths.check_path(path)
        return os.path.join(self.root, path) if path else self.root

    def _path_of(self, target: Target) -> str:
        return target.path if isinstance(target, Entry) else target

    # -- listing ---------------------------------------------------------------------------------------------

    def _link_stat(self, full: str, path: str) -> os.stat_result | None:
        """The stat of a symlink's target if we follow links, else None (with a notice)."""
        if not self.options.copy_links:
            if not self.options.skip_links:
                log.warning("%s: Can't follow symlink without -L/--copy-links", path)
            return None
        try:
            return os.stat(full)
        except OSError as exc:
            log.warning("%s: skipping symlink: %s", path, exc.strerror)
            return None

    def _entry(self, path: str, st: os.stat_result) -> Entry | None:
        mode = st.st_mode
        if stat_module.S_ISREG(mode):
            return Entry(path, False, st.st_size, st.st_mtime_ns)
        if stat_module.S_ISDIR(mode):
            return Entry(path, True, -1, st.st_mtime_ns)
        log.warning("%s: Can't transfer non file/directory", path)
        return None

    def list(self, directory: str) -> list[Entry]:
        full = self._full(directory)
        prefix = directory + "/" if directory else ""
        result: list[Entry] = []
        append = result.append
        with _os_errors(directory, directory=True):
            fd = os.open(full, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            # Listing through the directory's descriptor: each stat is then relative to it (fstatat), which
            # spares the kernel a path walk per file.
            with _os_errors(directory, directory=True), os.scandir(fd) as scan:
                for item in scan:
                    name = item.name
                    if name.startswith(TEMP_PREFIX):
                        continue
                    path = prefix + name
                    try:
                        if item.is_symlink():
                            st = self._link_stat(os.path.join(full, name), path)
                            if st is None:
                                continue
                        else:
                            st = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # deleted while we listed
                    except OSError as exc:
                        raise _translate(exc, path) from exc
                    # Inlined _entry: this loop runs once per file of every listing.
                    kind = st.st_mode & _S_IFMT
                    if kind == _S_IFREG:
                        append(new_entry(Entry, (path, False, st.st_size, st.st_mtime_ns, NO_HASHES, None)))
                    elif kind == _S_IFDIR:
                        append(new_entry(Entry, (path, True, -1, st.st_mtime_ns, NO_HASHES, None)))
                    else:
                        log.warning("%s: Can't transfer non file/directory", path)
        finally:
            os.close(fd)
        return result

    def stat(self, path: str) -> Entry:
        full = self._full(path)
        with _os_errors(path):
            st = os.stat(full) if not path else os.lstat(full)
        if stat_module.S_ISLNK(st.st_mode):
            followed = self._link_stat(full, path)
            if followed is None:
                raise NotFound("is a symlink (use -L/--copy-links to follow it)", path=path)
            st = followed
        entry = self._entry(path, st)
        if entry is None:
            raise NotFound("not a regular file or directory", path=path)
        return entry

    # -- reading and writing ---------------------------------------------------------------------------------

    def open_read(
        self, target: Target, offset: int = 0, length: int | None = None
    ) -> IO[bytes] | _RangeReader:
        path = self._path_of(target)
        full = self._full(path)
        with _os_errors(path):
            file = open(full, "rb")  # noqa: SIM115 - the caller closes it
        try:
            if stat_module.S_ISDIR(os.fstat(file.fileno()).st_mode):
                raise IsADirectory(path=path)
            if offset:
                file.seek(offset)
        except BaseException:
            file.close()
            raise
        if length is None:
            return file
        return _RangeReader(file, length)

    def _prepare_parent(self, path: str) -> str:
        """Make the parent folder of ``path`` exist; the full path of ``path``.

        Folders made or seen here are remembered, so a copy of many files into one folder does not ask
        the disk again for each (a folder removed behind our back is made again: see ``_temp_beside``).
        A directory at ``path`` itself is found when the final rename refuses to replace it (IsADirectory).
        """
        full = self._full(path)
        parent = paths.parent(path)
        if parent not in self._known_dirs:
            self.mkdir(parent)  # mkdir("") too: the root itself may not exist yet
            self._known_dirs.add(parent)
        return full

    @contextmanager
    def _temp_beside(self, full: str, path: str) -> Iterator[int]:
        """A new hidden temp file next to ``full``, renamed onto it if the block succeeds, else removed."""
        temp = os.path.join(
            os.path.dirname(full), f"{TEMP_PREFIX}{self._temp_token}-{next(self._temp_serial)}.partial"
        )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        with _os_errors(path):
            try:
                fd = os.open(temp, flags, 0o666)
            except FileNotFoundError:  # the folder went away since we made it: make it again
                self._known_dirs.discard(paths.parent(path))
                self.mkdir(paths.parent(path))
                fd = os.open(temp, flags, 0o666)
        try:
            try:
                yield fd
            finally:
                os.close(fd)
            with _os_errors(path):
                os.replace(temp, full)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp)
            raise

    def put(
        self,
        path: str,
        stream: BinaryReader,
        *,
        size: int | None,
        mtime_ns: int | None,
        hashes: Mapping[HashType, str] | None = None,
    ) -> Entry:
        full = self._prepare_parent(path)
        digests = {kind: kind.new() for kind in (hashes or {}) if kind in self.features.hashes}
        with self._temp_beside(full, path) as fd:
            with _os_errors(path):
                for block in sized_blocks(stream, size, path):
                    view = memoryview(block)
                    while view:
                        view = view[os.write(fd, view) :]
                    for digest in digests.values():
                        digest.update(block)
            for kind, digest in digests.items():
                expected = (hashes or {})[kind]
                if digest.hexdigest() != expected.lower():
                    raise IntegrityError(f"{kind} mismatch after write", path=path)
            with _os_errors(path):
                if mtime_ns is not None:
                    os.utime(fd, ns=(mtime_ns, mtime_ns))
                st = os.fstat(fd)
        return Entry(path, False, st.st_size, st.st_mtime_ns)

    def copy(self, target: Target, dst_path: str) -> Entry:
        src_path = self._path_of(target)
        src_full = self._full(src_path)
        dst_full = self._prepare_parent(dst_path)
        with _os_errors(src_path):
            src_fd = os.open(src_full, os.O_RDONLY | os.O_CLOEXEC)
        try:
            with _os_errors(src_path):
                src_st = os.fstat(src_fd)
            if stat_module.S_ISDIR(src_st.st_mode):
                raise IsADirectory(path=src_path)
            with self._temp_beside(dst_full, dst_path) as dst_fd, _os_errors(dst_path):
                _copy_fd(src_fd, dst_fd, src_st.st_size)
                os.utime(dst_fd, ns=(src_st.st_atime_ns, src_st.st_mtime_ns))
                st = os.fstat(dst_fd)
        finally:
            os.close(src_fd)
        return Entry(dst_path, False, st.st_size, st.st_mtime_ns)

    # -- namespace operations --------------------------------------------------------------------------------

    def mkdir(self, path: str) -> None:
        full = self._full(path)
        try:
            os.makedirs(full, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise NotADirectory("a file is in the way", path=path) from exc
        except OSError as exc:
            raise _translate(exc, path) from exc

    def remove(self, target: Target) -> None:
        path = self._path_of(target)
        full = self._full(path)
        with _os_errors(path):
            if stat_module.S_ISDIR(os.lstat(full).st_mode):
                raise IsADirectory(path=path)
            os.unlink(full)

    def rmdir(self, path: str) -> None:
        self._known_dirs.clear()
        full = self._full(path)
        with _os_errors(path, directory=True):
            os.rmdir(full)

    def move(self, target: Target, dst_path: str) -> Entry:
        src_path = self._path_of(target)
        src_full = self._full(src_path)
        with _os_errors(src_path):
            if stat_module.S_ISDIR(os.lstat(src_full).st_mode):
                raise IsADirectory(path=src_path)
        dst_full = self._prepare_parent(dst_path)
        try:
            os.replace(src_full, dst_full)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise _translate(exc, src_path) from exc
            entry = self.copy(src_path, dst_path)
            self.remove(src_path)
            return entry
        return self.stat(dst_path)

    def watch(self, notify: Callable[[str], None], stop: Event) -> None:
        """Through watchdog (inotify on Linux): every event under the root but syncer's own temp files."""
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        root = self.root

        def relative(path: str | bytes) -> str | None:
            text = os.fsdecode(path)
            if os.path.basename(text).startswith(TEMP_PREFIX):
                return None
            inside = os.path.relpath(text, root)
            return "" if inside == "." else None if inside.startswith("..") else inside.replace(os.sep, "/")

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return  # reads change nothing
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    if path and (inside := relative(path)) is not None:
                        notify(inside)

        observer = Observer()
        with _os_errors("", directory=True):
            observer.schedule(Handler(), root, recursive=True)
            observer.start()
        try:
            stop.wait()
        finally:
            observer.stop()
            observer.join(timeout=10)

    def move_dir(self, src: str, dst: str) -> None:
        self._known_dirs.clear()
        src_full = self._full(src)
        dst_full = self._full(dst)
        with _os_errors(src, directory=True):
            if not stat_module.S_ISDIR(os.stat(src_full).st_mode):
                raise NotADirectory(path=src)
        if os.path.lexists(dst_full):
            raise AlreadyExists(path=dst)
        parent = paths.parent(dst)
        if parent:
            self.mkdir(parent)
        try:
            os.rename(src_full, dst_full)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise _translate(exc, src) from exc
            super().move_dir(src, dst)

    def purge(self, path: str) -> None:
        self._known_dirs.clear()
        full = self._full(path)
        with _os_errors(path, directory=True):
            if not stat_module.S_ISDIR(os.stat(full).st_mode):
                raise NotADirectory(path=path)
            import shutil  # only purge needs it

            shutil.rmtree(full)

    # -- metadata --------------------------------------------------------------------------------------------

    def set_mtime(self, target: Target, mtime_ns: int) -> Entry:
        path = self._path_of(target)
        with _os_errors(path):
            os.utime(self._full(path), ns=(mtime_ns, mtime_ns))
        return self.stat(path)

    def about(self) -> Usage:
        probe = self.root
        while not os.path.exists(probe) and os.path.dirname(probe) != probe:
            probe = os.path.dirname(probe)
        with _os_errors(""):
            vfs = os.statvfs(probe)
        total = vfs.f_blocks * vfs.f_frsize
        return Usage(
            total=total,
            used=(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize,
            free=vfs.f_bavail * vfs.f_frsize,
        )
