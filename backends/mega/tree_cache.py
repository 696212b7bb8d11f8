"""The node tree on disk, so a second command on an unchanged account does not download it again.

One file per (API URL, account) in ``<state_dir>/mega/trees/`` (0700 directory, 0600 file): the decrypted
nodes, the share keys of the account's own shared (exported) folders, and the ``sc`` sequence number they
reflect. The next run loads it and asks ``sc`` for what happened since; an unchanged account costs one small
request instead of an ``f`` of the whole tree.

Why the keys are stored unwrapped: the session cache beside it holds the master key, which unwraps all of
them anyway; wrapping again would cost a cipher pass per load and protect nothing.

Why one ``marshal`` snapshot rather than a database: every run reads the whole tree, and for 100,000 nodes
``marshal`` loads in about a third of the time SQLite takes to return the rows, and writes the whole snapshot
faster than SQLite inserts them. A snapshot is written only when the tree changed, and atomically (temp
file and rename, see ``private_files``), so the file always holds a tree that is exactly some past state of
the account. Two processes saving in turn leave the later snapshot, which is as consistent as the earlier;
replaying packets after its ``sn`` (absolute changes, applied idempotently) converges on the account's state.
A CRC-32 of the body guards against a torn or damaged file (a cryptographic digest would protect nothing
more: whoever can write the 0600 file can recompute either), so ``marshal`` is only ever handed bytes this
module wrote whole; anything else is ignored and the tree is fetched anew.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import zlib
from collections.abc import Mapping
from itertools import starmap
from pathlib import Path
from typing import Any

from backends.private_files import private_dir, write_private

from .nodes import Node, NodeTree

__all__ = ["TreeCache"]

log = logging.getLogger(__name__)

#: the first line of every cache file; a different format (older or newer syncer) is simply not read
_MAGIC = b"syncer-mega-tree 3\n"
_CHECK_SIZE = 4
_MARSHAL_VERSION = 4
#: what earlier versions kept beside it (an SQLite database and its journals), removed on the first save
_LEGACY_SUFFIXES = (".sqlite", ".sqlite-wal", ".sqlite-shm")


class TreeCache:
    """The cached tree of one account on one API endpoint."""

    def __init__(self, state_dir: str | os.PathLike[str], api_url: str, account: str) -> None:
        directory = Path(state_dir) / "mega" / "trees"
        key = f"{api_url.rstrip('/')}/\0{account}".encode()
        self.directory = directory
        self._stem = hashlib.sha256(key).hexdigest()[:32]
        self.path = directory / f"{self._stem}.tree"
        #: the ``sn`` this object last read or wrote: a tree still at it needs no write
        self._saved_sn: str | None = None
        #: the share keys read by ``load`` (or last written): folder handle -> key
        self.share_keys: dict[str, bytes] = {}

    def load(self) -> NodeTree | None:
        """The cached tree, or None when there is none or it is unusable (then the caller fetches anew)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("ignoring unreadable MEGA tree cache %s (%s)", self.path.name, exc)
            return None
        try:
            sn, share_keys, rows = _decode(data)
            tree = NodeTree(sn)
            tree.restore(starmap(Node, rows))
        except (ValueError, TypeError, EOFError) as exc:
            log.warning("ignoring unusable MEGA tree cache %s (%s)", self.path.name, exc)
            return None
        self._saved_sn = tree.sn
        self.share_keys = share_keys
        return tree

    def save(self, tree: NodeTree, *, share_keys: Mapping[str, bytes] | None = None) -> None:
        """Write the tree with its ``sn`` (and ``share_keys`` when given) if anything changed since the last
        load or save; a failed write leaves the previous file and is only logged (it is a cache)."""
        keys = dict(share_keys) if share_keys is not None else self.share_keys
        if keys == self.share_keys and not tree.dirty and not tree.removed and self._saved_sn == tree.sn:
            return
        rows = [node.row() for node in tree.nodes.values()]
        body = marshal.dumps((tree.sn, keys, rows), _MARSHAL_VERSION)
        check = zlib.crc32(body).to_bytes(_CHECK_SIZE, "big")
        try:
            private_dir(self.directory)
            write_private(self.path, b"".join((_MAGIC, check, body)))
        except OSError as exc:
            log.warning("could not write the MEGA tree cache (%s)", exc)
            return
        self._forget_legacy()
        tree.dirty.clear()
        tree.removed.clear()
        self._saved_sn = tree.sn
        self.share_keys = keys

    def forget(self) -> None:
        """Remove the cache (after a logout, or when its ``sn`` is too old to catch up from)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._forget_legacy()
        self._saved_sn = None

    def _forget_legacy(self) -> None:
        for suffix in _LEGACY_SUFFIXES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.directory / f"{self._stem}{suffix}")


def _decode(data: bytes) -> tuple[str, dict[str, bytes], list[tuple[Any, ...]]]:
    """(sn, share keys, node rows) of a cache file; ValueError when it is not one this version wrote whole."""
    if not data.startswith(_MAGIC):
        raise ValueError("not a tree cache of this format")
    start = len(_MAGIC) + _CHECK_SIZE
    check, body = data[len(_MAGIC) : start], memoryview(data)[start:]  # a view: the body is 10-20 MB
    if zlib.crc32(body).to_bytes(_CHECK_SIZE, "big") != check:
        raise ValueError("checksum mismatch")
    value = marshal.loads(body)
    if not (isinstance(value, tuple) and len(value) == 3):
        raise ValueError("malformed tree cache")
    sn, share_keys, rows = value
    if not (isinstance(sn, str) and sn and isinstance(share_keys, dict) and isinstance(rows, list)):
        raise ValueError("malformed tree cache")
    return sn, share_keys, rows
