"""The node tree on disk, so a second command on an unchanged account does not download it again.

One SQLite file per (API URL, account) in ``<state_dir>/mega/trees/`` (0700 directory, 0600 file): the
decrypted nodes, the share keys of the account's own shared (exported) folders, and the ``sc`` sequence
number they reflect. The next run loads it and asks ``sc`` for what
happened since; an unchanged account costs one small request instead of an ``f`` of the whole tree.

Why the keys are stored unwrapped: the session cache beside it holds the master key, which unwraps all of
them anyway; wrapping again would cost a cipher pass per load and protect nothing.

Writes are incremental (the rows ``NodeTree.dirty``/``removed`` name) and one transaction with the new ``sn``,
so the file always holds a tree that is exactly some past state of the account. Two processes saving in turn
are safe too: every row is at least as new as the ``sn`` saved with it, and replaying packets after that
``sn`` (absolute changes, applied idempotently) converges on the account's state.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backends.private_files import private_dir

from .nodes import Node, NodeTree

__all__ = ["TreeCache"]

log = logging.getLogger(__name__)

_FORMAT = "2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    handle TEXT PRIMARY KEY, parent TEXT NOT NULL, type INTEGER NOT NULL, name TEXT NOT NULL,
    size INTEGER NOT NULL, ts INTEGER NOT NULL, key BLOB NOT NULL, attrs TEXT NOT NULL, mtime INTEGER
);
CREATE TABLE IF NOT EXISTS share_keys (handle TEXT PRIMARY KEY, key BLOB NOT NULL);
"""

_COLUMNS = "handle, parent, type, name, size, ts, key, attrs, mtime"


class TreeCache:
    """The cached tree of one account on one API endpoint."""

    def __init__(self, state_dir: str | os.PathLike[str], api_url: str, account: str) -> None:
        directory = Path(state_dir) / "mega" / "trees"
        key = f"{api_url.rstrip('/')}/\0{account}".encode()
        self.directory = directory
        self.path = directory / f"{hashlib.sha256(key).hexdigest()[:32]}.sqlite"
        #: the ``sn`` this object last read or wrote: a tree still at it needs no write
        self._saved_sn: str | None = None
        #: the share keys read by ``load`` (or last written): folder handle -> key
        self.share_keys: dict[str, bytes] = {}

    def _connect(self) -> sqlite3.Connection:
        private_dir(self.directory)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # created 0600 before SQLite opens it
        os.close(fd)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        return db

    def load(self) -> NodeTree | None:
        """The cached tree, or None when there is none or it is unusable (then the caller fetches anew)."""
        if not self.path.exists():
            return None
        try:
            db = self._connect()
        except sqlite3.Error as exc:
            log.warning("ignoring unreadable MEGA tree cache %s (%s)", self.path.name, exc)
            return None
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != _FORMAT or not meta.get("sn"):
                return None
            tree = NodeTree(meta["sn"])
            rows = db.execute(f"SELECT {_COLUMNS} FROM nodes").fetchall()
            shares = db.execute("SELECT handle, key FROM share_keys").fetchall()
        except sqlite3.Error as exc:
            log.warning("ignoring unreadable MEGA tree cache %s (%s)", self.path.name, exc)
            return None
        finally:
            db.close()
        tree.restore(Node(*row) if not isinstance(row[3], bytes) else Node(*_restored(row)) for row in rows)
        self._saved_sn = tree.sn
        self.share_keys = {str(handle): bytes(key) for handle, key in shares}
        return tree

    def save(
        self, tree: NodeTree, *, full: bool = False, share_keys: Mapping[str, bytes] | None = None
    ) -> None:
        """Write what changed since the last save (everything when ``full``) with the tree's ``sn``, and
        ``share_keys`` when given."""
        keys_changed = share_keys is not None and dict(share_keys) != self.share_keys
        if (
            not full
            and not keys_changed
            and not tree.dirty
            and not tree.removed
            and self._saved_sn == tree.sn
        ):
            return
        try:
            db = self._connect()
        except (OSError, sqlite3.Error) as exc:
            log.warning("could not write the MEGA tree cache (%s)", exc)
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            if full:
                db.execute("DELETE FROM nodes")
                rows = [_storable(node.row()) for node in tree.nodes.values()]
            else:
                db.executemany("DELETE FROM nodes WHERE handle = ?", [(h,) for h in tree.removed])
                rows = [_storable(tree.nodes[h].row()) for h in tree.dirty if h in tree.nodes]
            db.executemany(f"INSERT OR REPLACE INTO nodes ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", rows)
            if share_keys is not None:
                db.execute("DELETE FROM share_keys")
                db.executemany("INSERT INTO share_keys (handle, key) VALUES (?, ?)", list(share_keys.items()))
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("format", _FORMAT), ("sn", tree.sn)],
            )
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            log.warning("could not write the MEGA tree cache (%s)", exc)
            return
        finally:
            db.close()
        tree.dirty.clear()
        tree.removed.clear()
        self._saved_sn = tree.sn
        if share_keys is not None:
            self.share_keys = dict(share_keys)

    def forget(self) -> None:
        """Remove the cache (after a logout, or when its ``sn`` is too old to catch up from)."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")


def _storable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row SQLite can take: a name holding lone surrogates (invalid UTF-8 written by another client) is
    not text SQLite can encode, so it is stored as its bytes (``surrogatepass``) and decoded on load."""
    name = row[3]
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return (*row[:3], name.encode("utf-8", "surrogatepass"), *row[4:])
    return row


def _restored(row: tuple[Any, ...]) -> tuple[Any, ...]:
    name = row[3]
    if isinstance(name, bytes):
        return (*row[:3], name.decode("utf-8", "surrogatepass"), *row[4:])
    return row
