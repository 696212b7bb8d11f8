"""The emulator's persistent state: one SQLite database (WAL) plus the encrypted file bodies beside it.

Layout of the data directory (0700, like everything syncer keeps)::

    emulator.sqlite3     accounts, sessions, nodes, share keys, links, shares, uploads, action packets, meta
    bodies/<upload id>   ciphertext of each upload, written piece by piece at its offsets
    .lock                held (flock) while an emulator uses the directory

One connection serves every thread, guarded by a lock: a command is a few short statements, and one writer
keeps every command atomic without busy retries. ``transaction`` is the only way in; callbacks registered with
``Tx.after_commit`` run once the commit succeeded (the long-poll wake-ups), never after a rollback.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "Store", "StoreLocked", "Tx"]

SCHEMA_VERSION = 1
_DIR_MODE = 0o700

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    handle TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    salt BLOB,                      -- v2: the 32-byte salt us0 hands out
    auth BLOB NOT NULL,             -- v2: SHA-256(auth key)[:16]; v1: the 8-byte user hash
    k BLOB NOT NULL,                -- master key encrypted with the password key
    pubk BLOB NOT NULL,
    privk BLOB NOT NULL,            -- RSA private key encrypted with the master key
    mfa_secret TEXT,                -- base32 TOTP secret, or NULL
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    sek BLOB,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    handle TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    parent TEXT,                    -- NULL for the roots (types 2, 3, 4)
    type INTEGER NOT NULL,
    attrs TEXT NOT NULL,            -- b64 encrypted attributes, as sent
    key TEXT NOT NULL,              -- b64 node key encrypted by the owner, as sent
    size INTEGER NOT NULL DEFAULT 0,
    ts INTEGER NOT NULL,
    fa TEXT,
    body TEXT                       -- upload id of the ciphertext (files)
);
CREATE INDEX IF NOT EXISTS nodes_parent ON nodes (parent);
CREATE INDEX IF NOT EXISTS nodes_owner ON nodes (owner);
CREATE INDEX IF NOT EXISTS nodes_body ON nodes (body);
CREATE TABLE IF NOT EXISTS share_keys (
    node TEXT NOT NULL,
    share TEXT NOT NULL,
    key TEXT NOT NULL,              -- b64 node key encrypted with the share key (from "cr")
    PRIMARY KEY (node, share)
);
CREATE TABLE IF NOT EXISTS links (
    node TEXT PRIMARY KEY,
    ph TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
    node TEXT NOT NULL,
    user TEXT NOT NULL,             -- "EXP" for a public folder link
    owner TEXT NOT NULL,
    access INTEGER NOT NULL,
    ok TEXT,
    ha TEXT,
    ts INTEGER NOT NULL,
    PRIMARY KEY (node, user)
);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    coverage TEXT NOT NULL,         -- JSON list of received [start, end) intervals
    token TEXT UNIQUE,              -- the completion token once every byte arrived
    attached INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS packets (
    seq INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    scope TEXT NOT NULL,            -- " h1 h2 ... ": the folders whose subtree the packet concerns
    body TEXT NOT NULL,             -- the packet's JSON
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS packets_owner ON packets (owner, seq);
"""

_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class StoreLocked(RuntimeError):
    """Another emulator (process or object) is already using this data directory."""


class Tx:
    """One open transaction: the connection, and work to do once it has committed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._after: list[Callable[[], None]] = []

    def execute(self, sql: str, params: tuple[object, ...] | dict[str, object] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


class Store:
    """The database and body files of one data directory, used by one emulator at a time.

    Raises StoreLocked when another emulator holds the directory, OSError when it cannot be created.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.bodies_dir = self.data_dir / "bodies"
        for directory in (self.data_dir, self.bodies_dir):
            directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            os.chmod(directory, _DIR_MODE)
        self._lock_fd = os.open(self.data_dir / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise StoreLocked(f"{self.data_dir} is in use by another emulator") from None
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.data_dir / "emulator.sqlite3", isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        with self.transaction() as tx:
            if self.get_meta(tx, "schema") is None:
                self.set_meta(tx, "schema", str(SCHEMA_VERSION))
        self._closed = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Run the block in one immediate transaction; an exception rolls it back and propagates."""
        with self._lock:
            tx = Tx(self._conn)
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield tx
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        for callback in tx._after:
            callback()

    @staticmethod
    def get_meta(tx: Tx, key: str) -> str | None:
        row = tx.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def set_meta(tx: Tx, key: str, value: str) -> None:
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def body_path(self, upload_id: str) -> Path:
        """Where the ciphertext of ``upload_id`` lives (ValueError for an id that is not a plain name)."""
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"bad upload id {upload_id!r}")
        return self.bodies_dir / upload_id

    def close(self) -> None:
        """Close the database and release the directory; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        os.close(self._lock_fd)
