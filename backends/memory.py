"""An in-memory backend: the executable spec of the backend contract that engine tests run against.

It does everything natively and exactly as ``base.py`` documents it, including what only MEGA does among the
real backends (several objects under one name, addressed by id), so the engine can be tested for every
situation without a disk or a network. Data lives in a ``MemoryStore``; several backends may share one store
with different roots, the way two remotes can point into one account.
"""

from __future__ import annotations

import builtins
import io
import itertools
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from . import paths
from .base import (
    Backend,
    BinaryReader,
    Entry,
    Features,
    HashType,
    NoOptions,
    Target,
    Usage,
    depth_first,
    sized_blocks,
)
from .errors import (
    AlreadyExists,
    AmbiguousPath,
    DirectoryNotEmpty,
    DirNotFound,
    IntegrityError,
    InvalidName,
    IsADirectory,
    NotADirectory,
    NotFound,
    NotSupported,
)

__all__ = ["MemoryBackend", "MemoryStore"]


@dataclass(slots=True, eq=False)
class _Node:
    """One file or directory; identity (not name) is what makes it unique, as on MEGA."""

    id: str
    name: str
    parent: str | None
    is_dir: bool
    mtime_ns: int
    data: bytes = b""
    hashes: dict[HashType, str] = field(default_factory=dict)
    # name -> ids in creation order; a list because duplicate names are allowed
    children: dict[str, builtins.list[str]] = field(default_factory=dict)


class MemoryStore:
    """The tree behind one or more MemoryBackends, guarded by one lock.

    Every backend method holds ``lock`` for its whole tree update, so each operation is atomic to the others;
    the lock is re-entrant so helpers may take it again.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self.nodes: dict[str, _Node] = {}
        self.root = self.new_node("", None, is_dir=True, mtime_ns=time.time_ns())

    def new_node(
        self,
        name: str,
        parent: _Node | None,
        *,
        is_dir: bool,
        mtime_ns: int,
        data: bytes = b"",
        hashes: dict[HashType, str] | None = None,
    ) -> _Node:
        """Create a node and attach it under ``parent`` (after any same-named siblings)."""
        node = _Node(
            id=str(next(self._ids)),
            name=name,
            parent=None,
            is_dir=is_dir,
            mtime_ns=mtime_ns,
            data=data,
            hashes=dict(hashes or {}),
        )
        self.nodes[node.id] = node
        if parent is not None:
            self.attach(node, parent)
        return node

    def attach(self, node: _Node, parent: _Node) -> None:
        node.parent = parent.id
        parent.children.setdefault(node.name, []).append(node.id)

    def detach(self, node: _Node) -> None:
        """Unlink ``node`` from its parent; it and its subtree stay in ``nodes`` (used by moves)."""
        if node.parent is None:
            return
        siblings = self.nodes[node.parent].children
        ids = siblings[node.name]
        ids.remove(node.id)
        if not ids:
            del siblings[node.name]
        node.parent = None

    def drop(self, node: _Node) -> None:
        """Delete ``node`` and its whole subtree, so stale Entries addressing them get NotFound."""
        self.detach(node)
        stack = [node]
        while stack:
            current = stack.pop()
            del self.nodes[current.id]
            for ids in current.children.values():
                stack.extend(self.nodes[i] for i in ids)

    def children_of(self, node: _Node) -> builtins.list[_Node]:
        return [self.nodes[i] for ids in node.children.values() for i in ids]


def _hashes_of(data: bytes) -> dict[HashType, str]:
    digests: dict[HashType, str] = {}
    for kind in HashType:
        digest = kind.new()
        digest.update(data)
        digests[kind] = str(digest.hexdigest())
    return digests


class MemoryBackend(Backend):
    """A tree held in a ``MemoryStore`` (a fresh one unless ``store`` is given), scoped to ``root``.

    ``root`` is a '/'-separated prefix inside the store ("" is the whole store); like a local folder it need
    not exist until something is written under it.
    """

    type_name: ClassVar[str] = "memory"
    Options: ClassVar[type[NoOptions]] = NoOptions
    features = Features(
        hashes=frozenset(HashType),
        slow_hash=False,
        mtime_precision_ns=1,
        can_set_mtime=True,
        duplicate_names=True,
        empty_dirs=True,
        server_side_copy=True,
        server_side_move=True,
        server_side_dir_move=True,
        trash=False,
        unknown_size_put=True,
        fast_walk=True,
        merge_dirs=True,
    )

    def __init__(
        self, name: str, root: str, options: NoOptions | None = None, store: MemoryStore | None = None
    ) -> None:
        root = paths.check_path(paths.clean(root))
        super().__init__(name, root, options)
        self.store = store if store is not None else MemoryStore()
        self._prefix: tuple[str, ...] = tuple(root.split("/")) if root else ()

    def with_root(self, root: str) -> MemoryBackend:
        return MemoryBackend(self.name, root, self.options, store=self.store)

    def same_store(self, other: Backend) -> bool:
        """Same store object, whatever the names: two fresh stores never share objects even if named alike."""
        return isinstance(other, MemoryBackend) and other.store is self.store

    # -- tree helpers; callers hold the store lock --------------------------------------------------------

    @staticmethod
    def _parts(path: str) -> builtins.list[str]:
        paths.check_path(path)
        return path.split("/") if path else []

    def _only(self, parent: _Node, name: str, path: str) -> _Node | None:
        """The single child called ``name``; None if there is none. AmbiguousPath if there are several."""
        ids = parent.children.get(name)
        if not ids:
            return None
        if len(ids) > 1:
            raise AmbiguousPath(path=path)
        return self.store.nodes[ids[0]]

    def _find_dir(self, path: str) -> _Node:
        """The directory node at ``path``. Raises DirNotFound, NotADirectory."""
        node = self._find(path)
        if node is None:
            raise DirNotFound(path=path)
        if not node.is_dir:
            raise NotADirectory(path=path)
        return node

    def _find(self, path: str) -> _Node | None:
        """The node at ``path`` under the root, None if it (or a directory on the way) does not exist."""
        node: _Node | None = self.store.root
        for name in self._prefix:
            if node is None or not node.is_dir:
                return None
            node = self._only(node, name, "")
        parts = self._parts(path)
        for i, name in enumerate(parts):
            if node is None or not node.is_dir:
                return None  # a file on the way: the path does not exist (stat says NotFound)
            node = self._only(node, name, "/".join(parts[: i + 1]))
        return node

    def _dir_for_write(self, dir_parts: builtins.list[str], path: str, *, create: bool) -> _Node | None:
        """The directory that will hold a new object, making it (and parents) when ``create``.

        Without ``create`` returns None when it does not exist yet. Raises NotADirectory if a file is in the
        way. Creation starts only after the first missing component, so a raise leaves the tree untouched.
        """
        node = self.store.root
        for name in (*self._prefix, *dir_parts):
            child = self._only(node, name, path)
            if child is None:
                if not create:
                    return None
                child = self.store.new_node(name, node, is_dir=True, mtime_ns=time.time_ns())
            elif not child.is_dir:
                raise NotADirectory("a file is in the way", path=path)
            node = child
        return node

    def _rel_path(self, node: _Node) -> str | None:
        """``node``'s path relative to this backend's root, None if it lies outside it."""
        names: builtins.list[str] = []
        current = node
        while current.parent is not None:
            names.append(current.name)
            current = self.store.nodes[current.parent]
        if current is not self.store.root:
            return None  # detached (mid-move); cannot happen outside the lock
        names.reverse()
        depth = len(self._prefix)
        if tuple(names[:depth]) != self._prefix:
            return None
        return "/".join(names[depth:])

    def _target(self, target: Target) -> tuple[_Node, str]:
        """The node ``target`` addresses and its path. Raises NotFound; AmbiguousPath for a shared path."""
        if isinstance(target, Entry) and target.id is not None:
            node = self.store.nodes.get(target.id)
            path = None if node is None else self._rel_path(node)
            if node is None or path is None:
                raise NotFound(path=target.path)
            return node, path
        path = target.path if isinstance(target, Entry) else target
        found = self._find(path)
        if found is None:
            raise NotFound(path=path)
        return found, path

    def _file_target(self, target: Target) -> tuple[_Node, str]:
        node, path = self._target(target)
        if node.is_dir:
            raise IsADirectory(path=path)
        return node, path

    @staticmethod
    def _entry(node: _Node, path: str) -> Entry:
        if node.is_dir:
            return Entry(path, True, -1, node.mtime_ns, {}, node.id)
        return Entry(path, False, len(node.data), node.mtime_ns, dict(node.hashes), node.id)

    def _check_file_slot(self, parent: _Node | None, name: str, path: str) -> _Node | None:
        """The file a write to ``path`` replaces (None: a new name). Raises AmbiguousPath, IsADirectory."""
        if parent is None:
            return None
        ids = parent.children.get(name, [])
        if len(ids) > 1:
            raise AmbiguousPath(path=path)
        if not ids:
            return None
        existing = self.store.nodes[ids[0]]
        if existing.is_dir:
            raise IsADirectory(path=path)
        return existing

    def _write_file(
        self, parts: builtins.list[str], path: str, data: bytes, mtime_ns: int, hashes: dict[HashType, str]
    ) -> Entry:
        """Put a new file node at ``parts``, replacing the single file already there."""
        if not parts:
            raise IsADirectory(path=path)  # the root is a directory
        parent = self._dir_for_write(parts[:-1], path, create=True)
        assert parent is not None
        old = self._check_file_slot(parent, parts[-1], path)
        if old is not None:
            self.store.drop(old)
        node = self.store.new_node(
            parts[-1], parent, is_dir=False, mtime_ns=mtime_ns, data=data, hashes=hashes
        )
        return self._entry(node, path)

    # -- required core ---------------------------------------------------------------------------------------

    def list(self, directory: str) -> builtins.list[Entry]:
        with self.store.lock:
            node = self._find_dir(directory)
            return [self._entry(c, paths.join(directory, c.name)) for c in self.store.children_of(node)]

    def stat(self, path: str) -> Entry:
        with self.store.lock:
            node = self._find(path)
            if node is None:
                raise NotFound(path=path)
            return self._entry(node, path)

    def open_read(self, target: Target, offset: int = 0, length: int | None = None) -> io.BytesIO:
        with self.store.lock:
            node, _ = self._file_target(target)
            data = node.data  # bytes are immutable: later writes cannot change what this reader sees
        end = len(data) if length is None else offset + length
        return io.BytesIO(data[offset:end])

    def put(
        self,
        path: str,
        stream: BinaryReader,
        *,
        size: int | None,
        mtime_ns: int | None,
        hashes: Mapping[HashType, str] | None = None,
    ) -> Entry:
        parts = self._parts(path)
        if not parts:
            raise IsADirectory(path=path)
        # fail before consuming the stream when the write cannot succeed anyway
        with self.store.lock:
            parent = self._dir_for_write(parts[:-1], path, create=False)
            self._check_file_slot(parent, parts[-1], path)
        # read without the lock: a slow stream must not stall other threads
        data = b"".join(sized_blocks(stream, size, path))
        digests = _hashes_of(data)
        for kind, expected in (hashes or {}).items():
            actual = digests.get(kind)
            if actual is not None and actual != expected.lower():
                raise IntegrityError(f"{kind} mismatch: got {actual}, expected {expected}", path=path)
        if mtime_ns is None:
            mtime_ns = time.time_ns()
        with self.store.lock:
            return self._write_file(parts, path, data, mtime_ns, digests)

    def mkdir(self, path: str) -> None:
        parts = self._parts(path)
        with self.store.lock:
            self._dir_for_write(parts, path, create=True)

    def remove(self, target: Target) -> None:
        with self.store.lock:
            node, _ = self._file_target(target)
            self.store.drop(node)

    def rmdir(self, path: str) -> None:
        with self.store.lock:
            node = self._find_dir(path)
            if node.children:
                raise DirectoryNotEmpty(path=path)
            if node is not self.store.root:  # the store's own root always exists
                self.store.drop(node)

    def merge_dirs(self, dirs: Sequence[Entry]) -> None:
        with self.store.lock:
            nodes = [self._target(d) for d in dirs]
            for node, path in nodes:
                if not node.is_dir:
                    raise NotADirectory(path=path)
            keep = nodes[0][0]
            for other, _ in nodes[1:]:
                if other is keep:
                    continue
                for child in self.store.children_of(other):
                    self.store.detach(child)
                    self.store.attach(child, keep)
                self.store.drop(other)

    def move(self, target: Target, dst_path: str) -> Entry:
        dst_parts = self._parts(dst_path)
        with self.store.lock:
            node, _ = self._file_target(target)
            if not dst_parts:
                raise IsADirectory(path=dst_path)
            parent = self._dir_for_write(dst_parts[:-1], dst_path, create=True)
            assert parent is not None
            old = self._check_file_slot(parent, dst_parts[-1], dst_path)
            if old is node:
                return self._entry(node, dst_path)
            if old is not None:
                self.store.drop(old)
            # same node, new place: the id survives, as a MEGA handle does
            self.store.detach(node)
            node.name = dst_parts[-1]
            self.store.attach(node, parent)
            return self._entry(node, dst_path)

    # -- optional operations, all native -------------------------------------------------------------------

    def copy(self, target: Target, dst_path: str) -> Entry:
        dst_parts = self._parts(dst_path)
        with self.store.lock:
            node, _ = self._file_target(target)
            return self._write_file(dst_parts, dst_path, node.data, node.mtime_ns, dict(node.hashes))

    def walk(self, directory: str = "") -> Iterator[Entry]:
        """Every entry below ``directory``, in the base class's order, from one snapshot taken in the lock."""
        with self.store.lock:
            top = self._find(directory)
            if top is None:
                raise DirNotFound(path=directory)
            if not top.is_dir:
                raise NotADirectory(path=directory)

            def children(node: _Node, path: str) -> builtins.list[tuple[_Node, Entry]]:
                ordered = sorted(self.store.children_of(node), key=lambda c: c.name)
                return [(c, self._entry(c, paths.join(path, c.name))) for c in ordered]

            result = depth_first(top, directory, children)
        yield from result

    def purge(self, path: str) -> None:
        with self.store.lock:
            node = self._find_dir(path)
            if node is self.store.root:
                for child in self.store.children_of(node):
                    self.store.drop(child)
            else:
                self.store.drop(node)

    def move_dir(self, src: str, dst: str) -> None:
        dst_parts = self._parts(dst)
        with self.store.lock:
            node = self._find(src)
            if node is None:
                raise DirNotFound(path=src)
            if not node.is_dir:
                raise NotADirectory(path=src)
            if self._find(dst) is not None:
                raise AlreadyExists(path=dst)
            if paths.is_within(dst, src):
                raise InvalidName("cannot move a directory into itself", path=dst)
            parent = self._dir_for_write(dst_parts[:-1], dst, create=True)
            assert parent is not None
            self.store.detach(node)
            node.name = dst_parts[-1]
            self.store.attach(node, parent)

    def hash(self, target: Target, kind: HashType) -> str:
        """Looked up afresh rather than taken from an Entry, which may predate a replacing put."""
        if kind not in self.features.hashes:
            raise NotSupported(f"hash {kind} not supported by {self.type_name}")
        with self.store.lock:
            node, _ = self._file_target(target)
            return node.hashes[kind]

    def set_mtime(self, target: Target, mtime_ns: int) -> Entry:
        with self.store.lock:
            node, path = self._target(target)
            node.mtime_ns = mtime_ns
            return self._entry(node, path)

    def about(self) -> Usage:
        """Figures for the whole store (the "account"), not just this root: that is what ``about`` means."""
        with self.store.lock:
            sizes = [len(n.data) for n in self.store.nodes.values() if not n.is_dir]
        return Usage(used=sum(sizes), objects=len(sizes))

    # -- memory only -----------------------------------------------------------------------------------------

    def add_duplicate(self, path: str, data: bytes, mtime_ns: int) -> Entry:
        """Add a file at ``path`` even if objects already have that name: tests use it to make duplicates."""
        parts = self._parts(path)
        if not parts:
            raise IsADirectory(path=path)
        with self.store.lock:
            parent = self._dir_for_write(parts[:-1], path, create=True)
            assert parent is not None
            node = self.store.new_node(
                parts[-1], parent, is_dir=False, mtime_ns=mtime_ns, data=data, hashes=_hashes_of(data)
            )
            return self._entry(node, path)

    def add_duplicate_dir(self, source: str, path: str) -> Entry:
        """Rename the directory ``source`` to ``path`` (same parent) even if a directory already has that
        name: tests use it to make duplicate directories."""
        with self.store.lock:
            node = self._find_dir(source)
            parent = self.store.nodes[node.parent] if node.parent is not None else None
            if parent is None or paths.parent(source) != paths.parent(path):
                raise InvalidName("a duplicate directory is made in its own parent", path=path)
            self.store.detach(node)
            node.name = paths.basename(path)
            self.store.attach(node, parent)
            return self._entry(node, path)
