"""One file at a time: copy or move an object between two backends, server-side when they share a store."""

from __future__ import annotations

import logging
from collections.abc import Callable

from backends import Backend, Entry
from backends import paths as rpaths
from backends.base import BLOCK_SIZE, BinaryReader, read_exactly
from backends.errors import IntegrityError

from .bwlimit import BandwidthLimit
from .compare import common_hash

__all__ = ["Metered", "copy_file", "move_file", "overlaps", "same_bytes", "shared_backend"]

log = logging.getLogger("syncer.operations")


def shared_backend(src: Backend, dst: Backend) -> tuple[Backend, str, str] | None:
    """One backend covering both roots when they are the same store, with each root's path inside it.

    Server-side copy and move work within one backend; two locations on one remote get a backend rooted at
    their common ancestor.
    """
    common = src.common_root(dst)
    if common is None:
        return None
    if common == src.root:
        shared = src
    elif common == dst.root:
        shared = dst
    else:
        shared = src.with_root(common)
    return shared, shared.path_of_root(src.root), shared.path_of_root(dst.root)


def overlaps(a: Backend, b: Backend) -> bool:
    """Whether one root lies within the other on the same store."""
    common = a.common_root(b)
    return common is not None and common in (a.root, b.root)


def same_bytes(src: Backend, a: Entry, dst: Backend, b: Entry) -> bool:
    """Whether two files hold the same bytes, both read to their ends (a whole MEGA file is MAC-checked).
    A reader may return fewer bytes than asked, so the second is read to the first's block length."""
    with src.open_read(a) as left, dst.open_read(b) as right:
        while block := left.read(BLOCK_SIZE):
            if read_exactly(right, len(block)) != block:
                return False
        return not right.read(1)


class Metered:
    """A reader that reports each block to ``on_bytes`` and waits on ``limit`` (``--bwlimit``)."""

    def __init__(
        self, stream: BinaryReader, on_bytes: Callable[[int], None], limit: BandwidthLimit | None
    ) -> None:
        self._stream, self._on_bytes, self._limit = stream, on_bytes, limit

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size)
        if data:
            if self._limit is not None:
                self._limit.take(len(data))
            self._on_bytes(len(data))
        return data


def copy_file(
    src: Backend,
    entry: Entry,
    dst: Backend,
    dst_path: str,
    *,
    on_bytes: Callable[[int], None] | None = None,
    limit: BandwidthLimit | None = None,
) -> Entry:
    """Copy ``entry`` from ``src`` to ``dst_path`` on ``dst``: server-side if possible, else streamed.

    A streamed copy is checked for size, and for a hash both sides know without reading the data; the
    destination never holds a partial file (``put`` is atomic). ``on_bytes`` sees streamed bytes as they flow.
    """
    shared = shared_backend(src, dst)
    if shared is not None and shared[0].features.server_side_copy and limit is None:
        backend, src_dir, dst_dir = shared
        return backend.copy(rpaths.join(src_dir, entry.path), rpaths.join(dst_dir, dst_path))
    with src.open_read(entry) as stream:
        reader: BinaryReader = stream
        if on_bytes is not None or limit is not None:
            reader = Metered(stream, on_bytes or _ignore, limit)
        written = dst.put(dst_path, reader, size=entry.size, mtime_ns=entry.mtime_ns, hashes=entry.hashes)
    if entry.size >= 0 and written.size >= 0 and written.size != entry.size:
        raise IntegrityError(f"size {written.size} after copy, expected {entry.size}", path=dst_path)
    kind = common_hash(src.features, dst.features, cheap_only=True)
    if kind is not None:
        expected, actual = entry.hashes.get(kind), written.hashes.get(kind)
        if expected and actual and expected != actual:
            raise IntegrityError(f"{kind} differs after copy", path=dst_path)
    return written


def _ignore(count: int) -> None:
    del count


def move_file(
    src: Backend,
    entry: Entry,
    dst: Backend,
    dst_path: str,
    *,
    on_bytes: Callable[[int], None] | None = None,
    limit: BandwidthLimit | None = None,
) -> Entry:
    """Move ``entry`` to ``dst_path`` on ``dst``: a rename on a shared store, else copy then delete."""
    shared = shared_backend(src, dst)
    if shared is not None and shared[0].features.server_side_move:
        backend, src_dir, dst_dir = shared
        return backend.move(rpaths.join(src_dir, entry.path), rpaths.join(dst_dir, dst_path))
    written = copy_file(src, entry, dst, dst_path, on_bytes=on_bytes, limit=limit)
    src.remove(entry)
    return written
