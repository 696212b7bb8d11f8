"""The ``mega`` remote type: a MEGA account's Cloud Drive behind the interface of ``backends/base.py``.

Paths are resolved in the shared node tree (``account.MegaAccount``), so stat, list and walk cost no request
at all once the tree is loaded; commands that change the account send one MEGA command each and apply its
answer to the tree. Names go through ``names`` both ways, so a MEGA name holding '/' or NUL lists under a
look-alike and can never climb out of a local root.

What MEGA does natively and how it maps:

* modification times live in the ``c`` fingerprint attribute, as MEGA's apps keep them (whole seconds);
  ``set_mtime`` rewrites just that attribute, keeping the content CRCs;
* several objects may share a name: each lists separately with its handle as ``Entry.id``;
* ``remove``/``rmdir``/``purge`` move to the Rubbish Bin (``hard_delete`` destroys), with the ``rr`` attribute
  MEGA's apps use to restore; ``trash`` (what a sync does with files it deletes or replaces) puts them under
  ``SyncDebris/YYYY-MM-DD/`` in the Rubbish Bin, as MEGA's own sync does; ``cleanup`` empties the Rubbish Bin
  or only debris days older than a limit;
* ``put`` onto an existing file makes the old one a version of the new (MEGA's ``ov``), so a reader never
  sees a partial file and MEGA's apps can still restore the previous content;
* copies are server-side (the same file key under a new node), moves are ``m`` plus ``a`` for a new name;
* ``public_link`` exports a file or folder (MEGA's ``l``; a folder is shared to ``EXP`` first) and prints the
  link MEGA's apps would; with the ``link`` option the remote *is* such a link: no login, read-only.
"""

from __future__ import annotations

import builtins
import datetime
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Event
from typing import Any, ClassVar, Literal

from backends import paths
from backends.base import (
    NO_HASHES,
    Backend,
    BinaryReader,
    Entry,
    Features,
    HashType,
    Target,
    Usage,
    depth_first,
)
from backends.errors import (
    AlreadyExists,
    AmbiguousPath,
    BackendError,
    ConfigError,
    DirectoryNotEmpty,
    DirNotFound,
    InvalidName,
    IsADirectory,
    NotADirectory,
    NotFound,
    PermissionDenied,
)
from backends.secret_values import Secret

from . import crypto, names
from .account import AccountSettings, MegaAccount
from .api import DEFAULT_API_URL
from .fingerprint import content_crc, fingerprint, parse_fingerprint
from .nodes import FILE, FOLDER, Node, decrypt_attributes
from .transfer import DownloadReader

__all__ = ["MegaBackend", "MegaOptions"]

log = logging.getLogger(__name__)

#: The folder in the Rubbish Bin where a sync's deleted and replaced files go, one sub-folder per day.
DEBRIS = "SyncDebris"

_SECOND = 1_000_000_000
#: how long one wait on the sc channel lasts before ``watch`` checks whether it should stop
_WATCH_POLL_S = 2.0


@dataclass(frozen=True)
class MegaOptions:
    """Options of a ``mega`` remote (YAML keys; ``pass`` is the password, also as ``pass_command``)."""

    user: str = field(default="", metadata={"help": "the account's e-mail address"})
    password: Secret | None = field(default=None, metadata={"key": "pass", "aliases": ("password",)})
    #: the current 6-digit code of an account with two-factor login; a flag (``--mega-2fa``) although a
    #: secret, because it is worthless 30 seconds later
    mfa: Secret | None = field(
        default=None, metadata={"key": "2fa", "argv": True, "help": "the current two-factor code"}
    )
    api_url: str = field(default=DEFAULT_API_URL, metadata={"help": "MEGA's API endpoint"})
    hard_delete: bool = field(default=False, metadata={"help": "delete for good, not to the Rubbish Bin"})
    use_https: bool = field(default=False, metadata={"help": "transfer file contents over https"})
    #: ``lookalike``: MEGA names holding '/' or NUL list under rclone's look-alike characters; ``raw``: names
    #: are used as MEGA stores them, and those no path can hold are skipped with a warning
    encoding: Literal["lookalike", "raw"] = field(
        default="lookalike", metadata={"help": "lookalike or raw: how names no path can hold are handled"}
    )
    debug: bool = field(default=False, metadata={"help": "log every API request and answer (secrets hidden)"})
    chunk_transfers: int = field(default=4, metadata={"help": "pieces of one file in flight"})
    #: a public file or folder link (``https://mega.nz/folder/...``): the remote reads it, without logging in
    link: str = field(
        default="",
        repr=False,
        metadata={"help": "a public file or folder link to read (a read-only remote)", "sensitive": True},
    )
    #: where sessions and the tree cache live; set by the command line from syncer's state dir
    state_dir: str = field(default="", metadata={"internal": True})
    #: asks the user for a two-factor code when MEGA wants one and none was given; None where nobody can
    #: answer (no terminal). Set by the command line.
    prompt: Callable[[str], str] | None = field(
        default=None, compare=False, repr=False, metadata={"internal": True}
    )


#: A public link: it is read, never written.
_LINK_FEATURES = Features(
    mtime_precision_ns=_SECOND, duplicate_names=True, empty_dirs=True, fast_walk=True, read_only=True
)


class MegaBackend(Backend):
    """A folder in a MEGA account's Cloud Drive; ``root`` is a path below the Cloud Drive ("": all of it)."""

    type_name: ClassVar[str] = "mega"
    Options: ClassVar[type[MegaOptions]] = MegaOptions
    features = Features(
        hashes=frozenset(),
        mtime_precision_ns=_SECOND,
        can_set_mtime=True,
        duplicate_names=True,
        empty_dirs=True,
        server_side_copy=True,
        server_side_move=True,
        server_side_dir_move=True,
        trash=True,
        unknown_size_put=False,
        fast_walk=True,
        merge_dirs=True,
        change_notify=True,
    )

    def __init__(
        self, name: str, root: str, options: MegaOptions | None = None, account: MegaAccount | None = None
    ) -> None:
        root = paths.check_path(paths.clean(root))
        super().__init__(name, root, options)
        opts: MegaOptions = self.options
        if account is None:
            if not opts.state_dir and not opts.link:
                raise ConfigError("MEGA remote opened without a state directory")
            password = opts.password.reveal() if opts.password is not None else ""
            if opts.debug:
                logging.getLogger("backends.mega").setLevel(logging.DEBUG)
            account = MegaAccount(
                AccountSettings(
                    api_url=opts.api_url,
                    email=opts.user,
                    password=password,
                    mfa=opts.mfa.reveal() if opts.mfa is not None else None,
                    ask_mfa=opts.prompt,
                    debug=opts.debug,
                    state_dir=opts.state_dir,
                    use_https=opts.use_https,
                    parallel=opts.chunk_transfers,
                    link=opts.link,
                )
            )
        self.account = account
        if account.link is not None:
            self.features = _LINK_FEATURES
        self._raw = opts.encoding == "raw"
        self._parts = tuple(root.split("/")) if root else ()

    def with_root(self, root: str) -> MegaBackend:
        cache: dict[str, MegaBackend] = self.__dict__.setdefault("_with_root", {})
        other = cache.get(root)
        if other is None:
            other = cache.setdefault(root, MegaBackend(self.name, root, self.options, account=self.account))
        return other

    def same_store(self, other: Backend) -> bool:
        return isinstance(other, MegaBackend) and (other.account is self.account or super().same_store(other))

    def close(self) -> None:
        self.account.close()

    def logout(self) -> None:
        """``syncer mega logout``: end the cached session on MEGA (``sml``), forget it and the cached tree."""
        self.account.logout()

    def describe(self, path: str = "") -> str:
        """A link given as a URL is shown without its key (the key opens the files)."""
        link = self.account.link
        if link is None or self.name:
            return super().describe(path)
        inside = "/".join(p for p in (self.root, path) if p)
        return f"{link.public_part()}/{inside}" if inside else link.public_part()

    def watch(self, notify: Callable[[str], None], stop: Event) -> None:
        """Through the ``sc`` action-packet channel (long polls of a few seconds, so ``stop`` is noticed): the
        account's tree is brought up to date from each batch of packets before ``notify`` hears of it, so a
        listing made after the notice sees the change."""
        account = self.account
        while not stop.is_set():
            if account.wait_for_changes(timeout=_WATCH_POLL_S):
                notify("")

    def public_link(self, path: str, *, unlink: bool = False) -> str:
        node, _ = self._target(path)
        if node.type not in (FILE, FOLDER):
            raise PermissionDenied("MEGA exports files and folders, not the Cloud Drive itself", path=path)
        if unlink:
            self.account.unexport(node)
            return ""
        return self.account.export(node)

    # -- tree helpers (callers hold the account lock) --------------------------------------------------------

    @staticmethod
    def _split(path: str) -> list[str]:
        paths.check_path(path)
        return path.split("/") if path else []

    def _named(self, parent: str, name: str) -> builtins.list[Node]:
        """The children of ``parent`` that list as the engine name ``name``."""
        if self._raw:
            # the tree indexes look-alike names; in raw mode a name is its MEGA name, if raw mode can use it
            if not names.is_raw_name(name):
                return []
            name = names.to_engine(name)
        return self.account.tree.named(parent, name)

    def _listed_name(self, node: Node) -> str | None:
        """The engine name ``node`` lists under; None (after one warning) for a name raw mode cannot use."""
        if not self._raw:
            return node.engine_name
        if names.is_raw_name(node.name):
            return node.name
        skipped = self.account.raw_skipped
        if node.handle not in skipped:
            skipped.add(node.handle)
            log.warning(
                "%s: skipped: the MEGA name %r cannot be a path name (encoding: raw)",
                self.describe(),
                node.name,
            )
        return None

    def _only(self, parent: str, name: str, path: str) -> Node | None:
        found = self._named(parent, name)
        if not found:
            return None
        if len(found) > 1:
            raise AmbiguousPath(path=path)
        return found[0]

    def _root(self) -> Node | None:
        """The node at this backend's root, None when it does not exist (yet)."""
        tree = self.account.tree
        node = tree.get(tree.root)
        for name in self._parts:
            if node is None or node.type == FILE:
                return None
            node = self._only(node.handle, name, "")
        return node

    def _find(self, path: str) -> Node | None:
        parts = self._split(path)
        node = self._root()
        for i, name in enumerate(parts):
            if node is None or node.type == FILE:
                return None
            node = self._only(node.handle, name, "/".join(parts[: i + 1]))
        return node

    def _dir(self, path: str) -> Node:
        node = self._find(path)
        if node is None:
            raise DirNotFound(path=path)
        if node.type == FILE:
            raise NotADirectory(path=path)
        return node

    def _rel_path(self, node: Node) -> str | None:
        root = self._root()
        if root is None:
            return None
        if not self._raw:
            return self.account.tree.engine_path(node.handle, root.handle)
        tree, parts = self.account.tree, []
        current: Node | None = node
        while current is not None and current.handle != root.handle:
            if not names.is_raw_name(current.name):
                return None
            parts.append(current.name)
            current = tree.get(current.parent) if current.parent else None
        return None if current is None else "/".join(reversed(parts))

    def _target(self, target: Target) -> tuple[Node, str]:
        if isinstance(target, Entry) and target.id is not None:
            with self.account.lock:
                node = self.account.tree.get(target.id)
                path = None if node is None else self._rel_path(node)
            if node is None or path is None:
                raise NotFound(path=target.path)
            return node, path
        path = target.path if isinstance(target, Entry) else target
        with self.account.lock:
            found = self._find(path)
        if found is None:
            raise NotFound(path=path)
        return found, path

    def _file(self, target: Target) -> tuple[Node, str]:
        node, path = self._target(target)
        if node.type != FILE:
            raise IsADirectory(path=path)
        return node, path

    def _mega_name(self, name: str, path: str) -> str:
        if self._raw:
            if not names.is_raw_name(name):
                raise InvalidName("name is not valid Unicode: not stored with encoding: raw", path=path)
            return name
        if not names.round_trips(name):
            raise InvalidName("name cannot be stored on MEGA under the same name", path=path)
        return names.to_mega(name)

    def _entry(self, node: Node, path: str) -> Entry:
        if node.type != FILE:
            return Entry(path, True, -1, node.ts * _SECOND, id=node.handle)
        seconds = node.mtime if node.mtime is not None else node.ts
        return Entry(path, False, node.size, seconds * _SECOND, id=node.handle)

    def _parent_for_write(self, dir_parts: list[str], path: str) -> tuple[Node | None, list[str]]:
        """The deepest existing directory on the way to ``dir_parts`` (from the Cloud Drive, through the root)
        and the names still missing below it. NotADirectory if a file is in the way."""
        tree = self.account.tree
        node = tree.get(tree.root)
        assert node is not None
        wanted = [*self._parts, *dir_parts]
        for i, name in enumerate(wanted):
            child = self._only(node.handle, name, path)
            if child is None:
                return node, wanted[i:]
            if child.type == FILE:
                raise NotADirectory("a file is in the way", path=path)
            node = child
        return node, []

    def _make_dirs(self, dir_parts: list[str], path: str) -> Node:
        """The directory ``dir_parts`` (below the root), created with its missing parents in one command.

        Creation is serialised: MEGA allows duplicate names, so two uploads into one new folder would
        otherwise each create it.
        """
        with self.account.lock:
            parent, missing = self._parent_for_write(dir_parts, path)
        if not missing:
            assert parent is not None
            return parent
        with self.account.mkdir_lock:
            with self.account.lock:
                parent, missing = self._parent_for_write(dir_parts, path)
            assert parent is not None
            if not missing:
                return parent
            created = self.account.make_folders(parent.handle, [self._mega_name(n, path) for n in missing])
            return created[-1]

    def _file_slot(self, parent: Node | None, name: str, path: str) -> Node | None:
        if parent is None:
            return None
        existing = self._named(parent.handle, name)
        if len(existing) > 1:
            raise AmbiguousPath(path=path)
        if existing and existing[0].type != FILE:
            raise IsADirectory(path=path)
        return existing[0] if existing else None

    def _dispose(self, node: Node) -> None:
        """Delete ``node`` as the remote's options say: to the Rubbish Bin (restorable) or for good."""
        if self.options.hard_delete:
            self.account.destroy(node)
        else:
            self._to_rubbish(node, self.account.tree.rubbish)

    def _to_rubbish(self, node: Node, folder: str) -> None:
        previous = node.parent
        self.account.move_node(node, folder)
        try:
            self.account.set_attributes(node, {"rr": previous})
        except BackendError as exc:  # the move is what matters; ``rr`` only helps MEGA's apps restore
            log.debug("could not record the restore location of %s: %s", node.handle, exc)

    # -- required core ---------------------------------------------------------------------------------------

    def list(self, directory: str) -> builtins.list[Entry]:
        with self.account.lock:
            node = self._dir(directory)
            children = self.account.tree.children_of(node.handle)
            if self._raw:
                return [
                    self._entry(child, paths.join(directory, name))
                    for child in children
                    if (name := self._listed_name(child)) is not None
                ]
            # _entry inlined: a listing of a big account runs this once per node
            prefix = f"{directory}/" if directory else ""
            entries = []
            for child in children:
                if child.type != FILE:
                    entries.append(
                        Entry(
                            prefix + child.engine_name, True, -1, child.ts * _SECOND, NO_HASHES, child.handle
                        )
                    )
                else:
                    seconds = child.mtime if child.mtime is not None else child.ts
                    entries.append(
                        Entry(
                            prefix + child.engine_name,
                            False,
                            child.size,
                            seconds * _SECOND,
                            NO_HASHES,
                            child.handle,
                        )
                    )
            return entries

    def stat(self, path: str) -> Entry:
        with self.account.lock:
            node = self._find(path)
            if node is None:
                raise NotFound(path=path)
            return self._entry(node, path)

    def open_read(self, target: Target, offset: int = 0, length: int | None = None) -> DownloadReader:
        node, path = self._file(target)
        key = crypto.FileKey.unpack(node.key)
        account = self.account
        return DownloadReader(
            account.transfers,
            lambda: account.download_url(node.handle),
            key,
            node.size,
            offset,
            length,
            self.describe(path),
        )

    def put(
        self,
        path: str,
        stream: BinaryReader,
        *,
        size: int | None,
        mtime_ns: int | None,
        hashes: Mapping[HashType, str] | None = None,
    ) -> Entry:
        parts = self._split(path)
        if not parts:
            raise IsADirectory(path=path)
        if size is None:
            raise BackendError("MEGA needs the size of a file before uploading it", path=path)
        mega_name = self._mega_name(parts[-1], path)
        with self.account.lock:
            parent, missing = self._parent_for_write(parts[:-1], path)
            if not missing:
                self._file_slot(parent, parts[-1], path)
        url = self.account.upload_url(size)
        uploaded = self.account.transfers.upload(url, stream, size, path)
        folder = self._make_dirs(parts[:-1], path)
        with self.account.lock:
            replaces = self._file_slot(folder, parts[-1], path)
        mtime = (mtime_ns if mtime_ns is not None else time.time_ns()) // _SECOND
        node = self.account.attach_upload(folder.handle, mega_name, uploaded, mtime, replaces)
        return self._entry(node, path)

    def mkdir(self, path: str) -> None:
        self._make_dirs(self._split(path), path)

    def remove(self, target: Target) -> None:
        node, _ = self._file(target)
        self._dispose(node)

    def rmdir(self, path: str) -> None:
        with self.account.lock:
            node = self._dir(path)
            if self.account.tree.has_children(node.handle):
                raise DirectoryNotEmpty(path=path)
            if node.handle == self.account.tree.root:
                return  # the Cloud Drive itself always exists
        self._dispose(node)

    def _destination(self, target: Target, dst_path: str) -> tuple[Node, Node, str, Node | None]:
        """For move and copy: the source file, the destination folder (made), the MEGA name, and the file
        already at ``dst_path`` (None if none)."""
        dst_parts = self._split(dst_path)
        node, _ = self._file(target)
        if not dst_parts:
            raise IsADirectory(path=dst_path)
        mega_name = self._mega_name(dst_parts[-1], dst_path)
        folder = self._make_dirs(dst_parts[:-1], dst_path)
        with self.account.lock:
            old = self._file_slot(folder, dst_parts[-1], dst_path)
        return node, folder, mega_name, old

    def move(self, target: Target, dst_path: str) -> Entry:
        node, folder, mega_name, old = self._destination(target, dst_path)
        if old is not None and old.handle == node.handle:
            return self._entry(node, dst_path)
        if old is not None:
            self._dispose(old)
        self._place(node, folder.handle, mega_name)
        return self._entry(node, dst_path)

    def _place(self, node: Node, parent: str, mega_name: str) -> None:
        """Move ``node`` under ``parent`` as ``mega_name``: ``m`` when the folder changes, ``a`` when the name
        does."""
        if node.parent != parent:
            self.account.move_node(node, parent)
        if node.name != mega_name:
            self.account.set_attributes(node, {"n": mega_name})

    # -- optional operations ---------------------------------------------------------------------------------

    def copy(self, target: Target, dst_path: str) -> Entry:
        node, folder, mega_name, old = self._destination(target, dst_path)
        if old is not None and old.handle == node.handle:
            return self._entry(node, dst_path)
        copied = self.account.copy_node(node, folder.handle, mega_name, old)
        return self._entry(copied, dst_path)

    def walk(self, directory: str = "") -> Iterator[Entry]:
        """Depth-first in sorted order, from one consistent snapshot of the tree."""
        tree = self.account.tree

        def children(node: Node, path: str) -> builtins.list[tuple[Node, Entry]]:
            listed = [(c, self._listed_name(c)) for c in tree.children_of(node.handle)]
            ordered = sorted(((c, n) for c, n in listed if n is not None), key=lambda item: item[1])
            return [(c, self._entry(c, paths.join(path, name))) for c, name in ordered]

        with self.account.lock:
            result = depth_first(self._dir(directory), directory, children)
        yield from result

    def purge(self, path: str) -> None:
        with self.account.lock:
            node = self._dir(path)
            is_drive = node.handle == self.account.tree.root
            children = self.account.tree.children_of(node.handle) if is_drive else [node]
        for child in children:
            self._dispose(child)

    def merge_dirs(self, dirs: Sequence[Entry]) -> None:
        """One ``m`` per child of the other folders, then each emptied folder goes as ``rmdir`` would send it
        (the Rubbish Bin unless ``hard_delete``)."""
        nodes = [self._target(d) for d in dirs]
        for node, path in nodes:
            if node.type == FILE:
                raise NotADirectory(path=path)
        keep = nodes[0][0]
        for other, _ in nodes[1:]:
            if other.handle == keep.handle:
                continue
            with self.account.lock:
                children = self.account.tree.children_of(other.handle)
            for child in children:
                self.account.move_node(child, keep.handle)
            self._dispose(other)

    def move_dir(self, src: str, dst: str) -> None:
        dst_parts = self._split(dst)
        with self.account.lock:
            node = self._find(src)
            if node is None:
                raise DirNotFound(path=src)
            if node.type == FILE:
                raise NotADirectory(path=src)
            if self._find(dst) is not None:
                raise AlreadyExists(path=dst)
        if paths.is_within(dst, src):
            raise InvalidName("cannot move a directory into itself", path=dst)
        if not dst_parts:
            raise AlreadyExists(path=dst)
        mega_name = self._mega_name(dst_parts[-1], dst)
        folder = self._make_dirs(dst_parts[:-1], dst)
        self._place(node, folder.handle, mega_name)

    def set_mtime(self, target: Target, mtime_ns: int) -> Entry:
        node, path = self._target(target)
        if node.type != FILE:
            return self._entry(node, path)  # MEGA keeps no folder mtimes
        crc = self._crc(node, path)
        updated = self.account.set_attributes(node, {"c": fingerprint(crc, mtime_ns // _SECOND)})
        return self._entry(updated, path)

    def _crc(self, node: Node, path: str) -> bytes:
        """The content CRCs of a file: from its fingerprint, or read from MEGA (8 KiB) when it has none."""
        fp = crypto_attrs(node).get("c")
        if isinstance(fp, str):
            try:
                return parse_fingerprint(fp)[0]
            except crypto.CryptoError:
                pass

        def read_at(offset: int, length: int) -> bytes:
            with self.open_read(self._entry(node, path), offset, length) as stream:
                return stream.read()

        return content_crc(node.size, read_at)

    def about(self) -> Usage:
        quota = self.account.quota()
        total = _int(quota.get("mstrg"))
        used = _int(quota.get("cstrg"))
        per_root = quota.get("cstrgn") if isinstance(quota.get("cstrgn"), Mapping) else {}
        rubbish = per_root.get(self.account.tree.rubbish) if isinstance(per_root, Mapping) else None
        trashed = _int(rubbish[0]) if isinstance(rubbish, list) and rubbish else None
        objects = None
        if isinstance(per_root, Mapping):
            counts = [_int(v[1]) for v in per_root.values() if isinstance(v, list) and len(v) > 1]
            objects = sum(c for c in counts if c is not None)
        free = max(0, total - used) if total is not None and used is not None else None
        return Usage(total=total, used=used, trashed=trashed, free=free, objects=objects)

    def trash(self, target: Target) -> None:
        """Into ``SyncDebris/<today>/<path>`` in the Rubbish Bin, where MEGA's sync puts what it removes."""
        node, path = self._target(target)
        day = datetime.date.today().isoformat()
        rubbish = self.account.tree.rubbish
        dir_parts = [DEBRIS, day, *paths.parent(path).split("/")] if paths.parent(path) else [DEBRIS, day]
        with self.account.lock:
            parent = self.account.tree.get(rubbish)
            assert parent is not None
            missing: builtins.list[str] = []
            for i, name in enumerate(dir_parts):
                found = [n for n in self._named(parent.handle, name) if n.type != FILE]
                if not found:
                    missing = dir_parts[i:]
                    break
                parent = found[0]
        folder = parent
        if missing:
            with self.account.mkdir_lock:  # not re-checked: a duplicate day folder in the bin is harmless
                made = [n if self._raw else names.to_mega(n) for n in missing]
                folder = self.account.make_folders(parent.handle, made)[-1]
        self._to_rubbish(node, folder.handle)

    def cleanup(self, *, older_than_s: float | None = None) -> None:
        """Empty the Rubbish Bin; with ``older_than_s``, only the SyncDebris days older than that."""
        tree = self.account.tree
        with self.account.lock:
            top = tree.children_of(tree.rubbish)
        if older_than_s is None:
            for node in top:
                self.account.destroy(node)
            return
        cutoff = datetime.date.fromtimestamp(time.time() - older_than_s)
        with self.account.lock:
            debris = [n for n in top if n.name == DEBRIS and n.type != FILE]
            days = [d for folder in debris for d in tree.children_of(folder.handle)]
        for day in days:
            try:
                when = datetime.date.fromisoformat(day.name)
            except ValueError:
                continue
            if when < cutoff:
                self.account.destroy(day)


def crypto_attrs(node: Node) -> dict[str, Any]:
    """A node's decrypted attributes (empty when they do not decrypt)."""
    try:
        return decrypt_attributes(node.attrs, node.key)
    except crypto.CryptoError:
        return {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
