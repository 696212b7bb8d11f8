"""The remote-filesystem interface every backend implements, and the plain data that crosses it.

The engine sees backends only through this module and ``backends.errors``. A backend implements the
required core; the optional operations have slow-but-working defaults here, and ``Features`` says which ones
the backend does natively, so the engine reads flags instead of probing with try/except.

Paths are relative to the backend's root, '/'-separated, without leading or trailing '/'; "" is the root
itself. Where a method takes a ``target`` it accepts a path or an ``Entry``: with an Entry the backend
addresses that exact object by its ``id``, which is how duplicate names (MEGA) are handled.
"""

from __future__ import annotations

import abc
import builtins
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, Self, TypeVar

if TYPE_CHECKING:
    import datetime
    from threading import Event

from . import paths
from .errors import (
    AlreadyExists,
    DirNotFound,
    IntegrityError,
    IsADirectory,
    NotADirectory,
    NotFound,
    NotSupported,
)

__all__ = [
    "Backend",
    "Entry",
    "Features",
    "HashType",
    "NoOptions",
    "ReadStream",
    "Target",
    "Usage",
]

log = logging.getLogger("backends")

N = TypeVar("N")

#: Streaming reads and default copies move data in blocks of this size.
BLOCK_SIZE = 1 << 20


class HashType(StrEnum):
    """Content hashes a backend may offer; values are the names users type (``--hash-type md5``)."""

    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"

    def new(self) -> Any:
        """A fresh hashlib object for this kind."""
        import hashlib  # not at start-up: listings never hash

        return hashlib.new(self.value)


#: The ``hashes`` of an entry that carries none (immutable, so it can be shared).
NO_HASHES: Mapping[HashType, str] = MappingProxyType({})


class Entry(NamedTuple):
    """One object in a listing: a file or a directory. Immutable.

    ``size`` is -1 for directories and for files of unknown size. ``mtime_ns`` is the modification time
    as nanoseconds since the Unix epoch (UTC), or None when the backend keeps none. ``hashes`` holds the
    hashes the backend already knows without reading the data (possibly none). ``id`` identifies the
    object on backends that allow duplicate names; None elsewhere.

    A named tuple rather than a dataclass: listings make one per object, and a tuple is several times cheaper
    to build, which shows on trees of 100,000 files.
    """

    path: str
    is_dir: bool
    size: int = -1
    mtime_ns: int | None = None
    hashes: Mapping[HashType, str] = NO_HASHES
    id: str | None = None

    def __hash__(self) -> int:
        # ``hashes`` is a mapping (unhashable); equal entries still hash equal without it.
        return hash((self.path, self.is_dir, self.size, self.mtime_ns, self.id))

    @property
    def name(self) -> str:
        return paths.basename(self.path)

    @property
    def mtime(self) -> datetime.datetime | None:
        """The modification time as an aware UTC datetime (microsecond resolution)."""
        if self.mtime_ns is None:
            return None
        import datetime  # not at start-up: listings format times themselves

        return datetime.datetime.fromtimestamp(self.mtime_ns / 1e9, tz=datetime.UTC)


@dataclass(frozen=True, slots=True)
class Features:
    """What a backend can do natively and how it behaves; the engine plans with these flags.

    ``mtime_precision_ns`` is the resolution of stored modification times (None: not kept at all).
    ``server_side_*`` mean copy/move/move_dir happen without moving data through this process.
    ``unknown_size_put`` means ``put`` accepts ``size=None``. ``fast_walk`` means ``walk`` is cheaper than a
    ``list`` per directory (one request for a whole tree). ``serial_io`` means each operation is a few cheap
    system calls, done faster from one thread than from several (the local disk: threads only contend for
    the interpreter), so the engine uses one worker unless told otherwise. ``merge_dirs`` means ``merge_dirs``
    folds directories that share a name into one (backends with ``duplicate_names``). ``read_only`` means
    every write raises ReadOnly (a public link), so commands refuse such a destination before they start.
    ``change_notify`` means ``watch`` reports changes as they happen (else a watcher has to poll).
    """

    hashes: frozenset[HashType] = frozenset()
    slow_hash: bool = False
    mtime_precision_ns: int | None = None
    can_set_mtime: bool = False
    case_insensitive: bool = False
    duplicate_names: bool = False
    empty_dirs: bool = True
    server_side_copy: bool = False
    server_side_move: bool = False
    server_side_dir_move: bool = False
    trash: bool = False
    unknown_size_put: bool = False
    fast_walk: bool = False
    serial_io: bool = False
    read_only: bool = False
    merge_dirs: bool = False
    change_notify: bool = False


@dataclass(frozen=True, slots=True)
class Usage:
    """Space figures from ``about``; None where the backend does not report a figure."""

    total: int | None = None
    used: int | None = None
    trashed: int | None = None
    other: int | None = None
    free: int | None = None
    objects: int | None = None


@dataclass(frozen=True, slots=True)
class NoOptions:
    """Options of a backend that takes none besides the common ones."""


class ReadStream(Protocol):
    """What ``open_read`` returns: a closeable binary reader usable as a context manager."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any: ...


class BinaryReader(Protocol):
    """What ``put`` consumes: anything with ``read(n)``."""

    def read(self, size: int = -1, /) -> bytes: ...


Target = str | Entry


def depth_first(
    top: N, directory: str, children: Callable[[N, str], builtins.list[tuple[N, Entry]]]
) -> builtins.list[Entry]:
    """``walk``'s order over an in-memory tree: ``children(node, path)`` gives (node, Entry) pairs sorted by
    name; each directory comes before its contents. A stack instead of recursion: deep trees must not hit the
    recursion limit."""
    result: builtins.list[Entry] = []
    stack = [(top, directory)]
    while stack:
        node, path = stack.pop()
        pairs = children(node, path)
        result.extend(entry for _, entry in pairs)
        # popped first-to-last: each subtree in sorted order
        stack.extend(reversed([(child, entry.path) for child, entry in pairs if entry.is_dir]))
    return result


def sized_blocks(stream: BinaryReader, size: int | None, path: str) -> Iterator[bytes]:
    """The blocks of ``stream`` for a ``put``, held to its contract: IntegrityError as soon as the stream runs
    past ``size``, or when it ends short of it (None: any length)."""
    total = 0
    while block := stream.read(BLOCK_SIZE):
        total += len(block)
        if size is not None and total > size:
            raise IntegrityError(f"stream longer than the expected {size} bytes", path=path)
        yield block
    if size is not None and total != size:
        raise IntegrityError(f"stream ended after {total} of {size} bytes", path=path)


def read_exactly(stream: BinaryReader, length: int) -> bytes:
    """``length`` bytes from a reader that may return fewer per call; fewer only at its end."""
    if length == 0:
        return b""
    first = stream.read(length)
    if len(first) == length or not first:
        return first
    parts = [first]
    got = len(first)
    while got < length:
        more = stream.read(length - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class Backend(abc.ABC):
    """A remote filesystem rooted at ``root``.

    Subclasses set ``type_name`` (the YAML ``type:``), ``Options`` (a frozen dataclass of their options;
    unknown keys are configuration errors) and ``features``. Methods may be called from several threads at
    once.
    """

    type_name: ClassVar[str]
    Options: ClassVar[type[Any]] = NoOptions
    features: Features

    def __init__(self, name: str, root: str, options: Any = None) -> None:
        self.name = name
        self.root = root
        self.options = options if options is not None else self.Options()

    @classmethod
    def make_root(cls, prefix: str, path: str) -> str:
        """The root for ``path`` typed after ``remote:``, under the remote's configured ``root`` prefix."""
        return "/".join(p for p in (prefix.strip("/"), path.strip("/")) if p)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"

    def describe(self, path: str = "") -> str:
        """How a user would type ``path`` on this remote (for messages)."""
        base = f"{self.name}:{self.root}" if self.name else self.root
        if not path:
            return base
        if base.endswith(("/", ":")):
            return base + path
        return f"{base}/{path}"

    # -- required core -------------------------------------------------------------------------------------

    @abc.abstractmethod
    def list(self, directory: str) -> list[Entry]:
        """The direct children of ``directory``, files and directories, in no particular order.

        Entries the backend cannot represent (special files, unfollowed symlinks) are left out with a notice.
        Raises DirNotFound if ``directory`` does not exist, NotADirectory if it is a file.
        """

    @abc.abstractmethod
    def stat(self, path: str) -> Entry:
        """The entry at ``path`` ("" is the root). Raises NotFound; AmbiguousPath if duplicates share it."""

    @abc.abstractmethod
    def open_read(self, target: Target, offset: int = 0, length: int | None = None) -> ReadStream:
        """A streaming reader of ``length`` bytes (None: to the end) from ``offset``.

        Raises NotFound, IsADirectory. Reading past the end yields fewer bytes, never an error.
        """

    @abc.abstractmethod
    def put(
        self,
        path: str,
        stream: BinaryReader,
        *,
        size: int | None,
        mtime_ns: int | None,
        hashes: Mapping[HashType, str] | None = None,
    ) -> Entry:
        """Write ``stream`` to ``path``, creating parents and replacing a file already there.

        Readers never see a partial file where the backend can avoid it. ``size`` (when known) is checked:
        a stream that ends early or runs long raises IntegrityError and nothing is left at ``path``. Known
        ``hashes`` of the data may be verified. Raises IsADirectory if ``path`` is a directory, AmbiguousPath
        if several objects already share ``path``, QuotaExceeded.
        """

    @abc.abstractmethod
    def mkdir(self, path: str) -> None:
        """Create directory ``path`` and any missing parents; no error if it exists.

        Raises NotADirectory if ``path`` or a parent is a file.
        """

    @abc.abstractmethod
    def remove(self, target: Target) -> None:
        """Delete one file. Raises NotFound, IsADirectory."""

    @abc.abstractmethod
    def rmdir(self, path: str) -> None:
        """Delete an empty directory. Raises DirNotFound, NotADirectory, DirectoryNotEmpty."""

    @abc.abstractmethod
    def move(self, target: Target, dst_path: str) -> Entry:
        """Move or rename one file within this backend, replacing a file at ``dst_path``, creating parents.

        Raises NotFound, IsADirectory (source or destination is a directory).
        """

    # -- optional, with working defaults ---------------------------------------------------------------------

    def copy(self, target: Target, dst_path: str) -> Entry:
        """Copy one file within this backend, keeping its mtime. Default: stream it through this process."""
        src = self.resolve(target)
        if src.is_dir:
            raise IsADirectory(path=src.path)
        with self.open_read(src) as stream:
            return self.put(dst_path, stream, size=src.size, mtime_ns=src.mtime_ns, hashes=src.hashes)

    def walk(self, directory: str = "") -> Iterator[Entry]:
        """Every entry below ``directory``, recursively, each directory before its contents.

        Default: one ``list`` per directory, sorted by name. Raises DirNotFound for ``directory`` itself.
        """
        children = sorted(self.list(directory), key=lambda e: e.path)
        yield from children
        for child in children:
            if child.is_dir:
                yield from self.walk(child.path)

    def purge(self, path: str) -> None:
        """Delete directory ``path`` and everything in it. Raises DirNotFound, NotADirectory."""
        try:
            entry = self.stat(path)
        except NotFound as exc:
            raise DirNotFound(path=path) from exc
        if not entry.is_dir:
            raise NotADirectory(path=path)
        dirs = [path]
        for child in self.walk(path):
            if child.is_dir:
                dirs.append(child.path)
            else:
                self.remove(child)
        for directory in sorted(dirs, key=lambda p: p.count("/"), reverse=True):
            self.rmdir(directory)

    def move_dir(self, src: str, dst: str) -> None:
        """Move directory ``src`` (and its contents) to ``dst``, which must not exist.

        Raises DirNotFound, AlreadyExists.
        """
        try:
            entry = self.stat(src)
        except NotFound as exc:
            raise DirNotFound(path=src) from exc
        if not entry.is_dir:
            raise NotADirectory(path=src)
        if self.exists(dst):
            raise AlreadyExists(path=dst)
        self.mkdir(dst)
        for child in self.list(src):
            target = paths.join(dst, child.name)
            if child.is_dir:
                self.move_dir(child.path, target)
            else:
                self.move(child, target)
        self.rmdir(src)

    def hash(self, target: Target, kind: HashType) -> str:
        """The ``kind`` hash of a file's content, lower-case hex. Raises NotSupported for other kinds."""
        if kind not in self.features.hashes:
            raise NotSupported(f"hash {kind} not supported by {self.type_name}")
        entry = self.resolve(target)
        known = entry.hashes.get(kind)
        if known:
            return known
        digest = kind.new()
        with self.open_read(entry) as stream:
            while block := stream.read(BLOCK_SIZE):
                digest.update(block)
        return str(digest.hexdigest())

    def set_mtime(self, target: Target, mtime_ns: int) -> Entry:
        """Change a file's modification time without rewriting it (``features.can_set_mtime``)."""
        raise NotSupported(f"{self.type_name} cannot set modification times")

    def about(self) -> Usage:
        """Space used and free on the remote."""
        raise NotSupported(f"{self.type_name} does not report usage")

    def trash(self, target: Target) -> None:
        """Move a file to the backend's own trash (``features.trash``)."""
        raise NotSupported(f"{self.type_name} has no trash")

    def cleanup(self, *, older_than_s: float | None = None) -> None:
        """Empty the backend's trash (``features.trash``); only what was trashed ``older_than_s`` ago, if
        set."""
        raise NotSupported(f"{self.type_name} has no trash")

    def watch(self, notify: Callable[[str], None], stop: Event) -> None:
        """Call ``notify(path)`` (a path under the root, or "" when unknown) whenever something under the
        root may have changed, until ``stop`` is set; blocks the calling thread (``features.change_notify``).
        Changes this backend made itself may be reported too. A failure of the channel raises its error."""
        raise NotSupported(f"{self.type_name} cannot report changes")

    def merge_dirs(self, dirs: Sequence[Entry]) -> None:
        """Move everything inside ``dirs[1:]`` into ``dirs[0]`` and remove the emptied directories
        (``features.merge_dirs``). Where directories can share a name, this is the only way to reach the
        contents of all of them under one path; same-named children become duplicates for ``dedupe``."""
        raise NotSupported(f"{self.type_name} cannot merge directories")

    def public_link(self, path: str, *, unlink: bool = False) -> str:
        """A URL anyone can read ``path`` (a file or a directory) from, the same one each time while the link
        lives; with ``unlink``, end the link instead (and return ""). Raises NotFound."""
        raise NotSupported(f"{self.type_name} has no public links")

    def logout(self) -> None:
        """End the backend's cached login session on the server and forget it locally."""
        raise NotSupported(f"{self.type_name} keeps no login session")

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing to release
        """Release connections and flush caches. Idempotent."""

    # -- conveniences built on the core ------------------------------------------------------------------

    def resolve(self, target: Target) -> Entry:
        """The Entry for ``target``: itself if it is one, else ``stat`` of the path."""
        if isinstance(target, Entry):
            return target
        return self.stat(target)

    def with_root(self, root: str) -> Self:
        """The same store seen from another root (a root in this backend's own form).

        The same object for the same root, so what a backend learns (caches) serves every file of a run.
        """
        cache: dict[str, Self] = self.__dict__.setdefault("_with_root", {})
        other = cache.get(root)
        if other is None:
            other = cache.setdefault(root, type(self)(self.name, root, self.options))
        return other

    def same_store(self, other: Backend) -> bool:
        """True when ``other`` reaches the same objects as this backend (only its root may differ)."""
        return type(self) is type(other) and self.name == other.name and self.options == other.options

    def common_root(self, other: Backend) -> str | None:
        """The deepest root containing both roots, or None when ``other`` is a different store."""
        if not self.same_store(other):
            return None
        mine, theirs = self.root.split("/"), other.root.split("/")
        common: list[str] = []
        for a, b in zip(mine, theirs, strict=False):
            if a != b:
                break
            common.append(a)
        return "/".join(common) or ("/" if self.root.startswith("/") else "")

    def path_of_root(self, root: str) -> str:
        """Where ``root`` (a root below this backend's) lies, as a path of this backend."""
        return root[len(self.root) :].strip("/")

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except NotFound:
            return False
        return True

    def list_dir(self, directory: str) -> builtins.list[Entry]:
        """``list``, but DirNotFound for a missing directory whatever the backend raised."""
        try:
            return self.list(directory)
        except DirNotFound:
            raise
        except NotFound as exc:
            raise DirNotFound(path=directory) from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
