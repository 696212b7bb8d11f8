"""What bisync remembers between runs: the last listing both sides agreed on, and the lock of a pair.

One SQLite database per (path1, path2) pair under ``<state_dir>/bisync/`` (0700 directory, 0600 files). A row
is a path as both sides last agreed on it, with each side's own view of it (size, time, hash, id): sides
differ in time precision and ids, so each side is later compared with its own record only.

Rows are written one action at a time, as each completes (Unison's lesson: the archive follows what really
happened). A run killed anywhere leaves rows that are each true of some moment, and the next run's deltas
start from there: a copy that landed but was not recorded shows as "new on both sides, identical" and is
simply agreed; a delete that happened but was not recorded shows as "gone on both sides".

The lock is an ``flock`` on a file beside the database: the kernel drops it when its process dies, so a lock
left by a killed run is taken over by the next one without any guesswork about pids or ages.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from backends.private_files import private_dir

from ..errors import ExitCode, StateError

__all__ = ["Agreed", "PairLocked", "PairState", "Seen", "pair_key"]

_FORMAT = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agreed (
    path TEXT PRIMARY KEY, is_dir INTEGER NOT NULL,
    size1 INTEGER NOT NULL, mtime1 INTEGER, hash1 TEXT NOT NULL, id1 TEXT,
    size2 INTEGER NOT NULL, mtime2 INTEGER, hash2 TEXT NOT NULL, id2 TEXT
);
"""


@dataclass(frozen=True, slots=True)
class Seen:
    """One side's view of a path: size (-1 for directories), mtime in ns (None: not kept), hash ("" when
    unknown), and the backend's id of the object (None where backends have none)."""

    size: int = -1
    mtime_ns: int | None = None
    hash: str = ""
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Agreed:
    """A path as both sides last agreed on it."""

    path: str
    is_dir: bool
    one: Seen
    two: Seen

    def side(self, number: int) -> Seen:
        return self.one if number == 1 else self.two


class PairLocked(StateError):
    """Another run holds the pair: trying again later may succeed."""

    exit_code = ExitCode.RETRY
    retryable = True
    default_message = "another bisync of this pair is running"


def pair_key(path1: str, path2: str) -> str:
    """The file name stem of a pair's state: both locations as the user's remotes name them."""
    return hashlib.sha256(f"{path1}\0{path2}".encode()).hexdigest()[:32]


class PairState:
    """The state database of one pair, opened for one run (``lock`` first, then ``load``/``record``...)."""

    def __init__(self, state_dir: str | os.PathLike[str], path1: str, path2: str) -> None:
        self.directory = Path(state_dir) / "bisync"
        stem = pair_key(path1, path2)
        self.path = self.directory / f"{stem}.sqlite"
        self.lock_path = self.directory / f"{stem}.lock"
        self.path1, self.path2 = path1, path2
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._guard = threading.Lock()  # rows are recorded from the transfer threads

    # -- the lock --------------------------------------------------------------------------------------------

    def lock(self) -> None:
        """Take the pair's lock; PairLocked (naming the holder) when another live process has it."""
        private_dir(self.directory)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise PairLocked(
                f"another bisync of {self.path1} and {self.path2} is running ({holder}); "
                "try again when it has finished"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StateError(f"cannot lock the bisync state in {self.directory}: {exc.strerror}") from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    # -- the rows --------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            private_dir(self.directory)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # 0600 before SQLite creates it
            os.close(fd)
            try:
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_SCHEMA)
            except sqlite3.Error as exc:
                raise StateError(f"bisync state {self.path} is unusable ({exc}); run with --resync") from exc
            self._db = db
        return self._db

    @property
    def exists(self) -> bool:
        """Whether a resync has ever started for this pair (before that, a run needs --resync)."""
        if not self.path.exists():
            return False
        try:
            value = self._connect().execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.Error as exc:
            raise StateError(f"bisync state {self.path} is unusable ({exc}); run with --resync") from exc
        if value is not None and value[0] != _FORMAT:
            raise StateError(f"bisync state {self.path} has another format ({value[0]}); run with --resync")
        return value is not None

    def load(self) -> dict[str, Agreed]:
        """Every agreed path."""
        try:
            rows = self._connect().execute("SELECT * FROM agreed").fetchall()
        except sqlite3.Error as exc:
            raise StateError(f"bisync state {self.path} is unusable ({exc}); run with --resync") from exc
        return {
            row[0]: Agreed(row[0], bool(row[1]), Seen(row[2], row[3], row[4], row[5]), Seen(*row[6:10]))
            for row in rows
        }

    def start_resync(self) -> None:
        """Forget every row and mark the pair as started: from now on normal runs are allowed (an unfinished
        resync leaves rows for what it did; the rest is new on both sides and handled as such)."""
        with self._guard, self._transaction() as db:
            db.execute("DELETE FROM agreed")
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?)", (_FORMAT,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('path1', ?)", (self.path1,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('path2', ?)", (self.path2,))

    def record(self, rows: Iterable[Agreed] = (), gone: Iterable[str] = ()) -> None:
        """Store ``rows`` and forget the ``gone`` paths, in one transaction."""
        with self._guard, self._transaction() as db:
            db.executemany("DELETE FROM agreed WHERE path = ?", [(path,) for path in gone])
            db.executemany(
                "INSERT OR REPLACE INTO agreed VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        a.path,
                        int(a.is_dir),
                        a.one.size,
                        a.one.mtime_ns,
                        a.one.hash,
                        a.one.id,
                        a.two.size,
                        a.two.mtime_ns,
                        a.two.hash,
                        a.two.id,
                    )
                    for a in rows
                ],
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise StateError(f"cannot write the bisync state {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self.unlock()
