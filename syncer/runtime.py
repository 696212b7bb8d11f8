"""What one command runs with: the loaded config, the opened backends, the run's counters, stdout.

Built once by the CLI from flags and config, passed to the command explicitly; nothing global.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from backends import Backend, Entry, Registry, RemoteConfig, open_backend
from backends.errors import BackendError, DirNotFound, NotFound, ReadOnly

from .accounting import Stats

if TYPE_CHECKING:
    from filters import Filter
from .paths import split_leaf

__all__ = ["Runtime"]

log = logging.getLogger("syncer")


@dataclass
class Runtime:
    """The context of one command."""

    remotes: Mapping[str, RemoteConfig]
    registry: Registry
    out: TextIO
    out_bytes: BinaryIO
    stats: Stats = field(default_factory=Stats)
    dry_run: bool = False
    checkers: int = 8
    transfers: int = 4
    overrides: Mapping[str, Any] = field(default_factory=dict)
    #: option values by remote type, from SYNCER_<TYPE>_<KEY> and --<type>-<key> (see backend_flags)
    type_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    debris_keep: str | None = None
    workers_given: bool = False

    def workers(self, count: int, *backends: Backend) -> int:
        """How many threads to use: ``count``, or one when every backend is ``serial_io`` and no count was
        asked for (measured on a local disk: 4 transfer threads took 1.9x one thread's time)."""
        if not self.workers_given and all(b.features.serial_io for b in backends):
            return 1
        return count

    #: The command's filter, None when nothing filters.
    rules: Filter | None = None
    _opened: list[Backend] = field(default_factory=list)

    def open(self, spec: str) -> Backend:
        """The backend rooted at ``spec``; closed by ``close``."""
        backend = open_backend(
            spec,
            self.remotes,
            registry=self.registry,
            overrides=self.overrides,
            type_overrides=self.type_overrides,
        )
        for opened in self._opened:
            if opened.same_store(backend):
                # one store, one set of caches (a MEGA account's tree is loaded once per run)
                return opened.with_root(backend.root)
        self._opened.append(backend)
        return backend

    @staticmethod
    def writable(backend: Backend) -> Backend:
        """``backend``, or ReadOnly (one line, before any work) when nothing can be written to it."""
        if backend.features.read_only:
            raise ReadOnly(path=backend.describe())
        return backend

    def open_leaf(self, spec: str) -> tuple[Backend, str]:
        """For commands that address one object: the backend of its parent, and its name in there."""
        parent, leaf = split_leaf(spec)
        return self.open(parent), leaf

    @staticmethod
    @contextmanager
    def located(backend: Backend) -> Iterator[None]:
        """Let a backend error escaping the block name its object as the user would type it."""
        try:
            yield
        except BackendError as exc:
            if not exc.located:
                exc.path = backend.describe(exc.path)
                exc.located = True
            raise

    def open_tree(self, spec: str) -> tuple[Backend, Entry | None]:
        """For commands that take a directory or a single file (ls, cat, delete, ...).

        Returns the backend rooted at ``spec`` and None when it is a directory; the backend of its parent and
        the file's Entry when it is a file. A missing location is DirNotFound, as rclone reports it.
        """
        backend = self.open(spec)
        try:
            with self.located(backend):
                root = backend.stat("")
        except NotFound as exc:
            raise DirNotFound(path=backend.describe()) from exc
        if root.is_dir:
            return backend, None
        parent, leaf = self.open_leaf(spec)
        with self.located(parent):
            return parent, parent.stat(leaf)

    def skip(self, what: str, target: str) -> bool:
        """With ``--dry-run``, log the action that would have happened and return True."""
        if self.dry_run:
            log.warning("%s: Skipped %s as --dry-run is set", target, what)
        return self.dry_run

    def close(self) -> None:
        for backend in self._opened:
            try:
                backend.close()
            except Exception as exc:  # closing must not hide the command's own result
                log.debug("closing %s: %s", backend, exc)
        self._opened.clear()
