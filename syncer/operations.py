"""One file at a time: copy or move an object between two backends, server-side when they share a store."""

from __future__ import annotations

import logging

from backends import Backend, Entry
from backends import paths as rpaths
from backends.errors import IntegrityError

__all__ = ["copy_file", "move_file", "shared_backend"]

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


def copy_file(src: Backend, entry: Entry, dst: Backend, dst_path: str) -> Entry:
    """Copy ``entry`` from ``src`` to ``dst_path`` on ``dst``: server-side if possible, else streamed.

    A streamed copy is checked for size; the destination never holds a partial file (``put`` is atomic).
    """
    shared = shared_backend(src, dst)
    if shared is not None and shared[0].features.server_side_copy:
        backend, src_dir, dst_dir = shared
        return backend.copy(rpaths.join(src_dir, entry.path), rpaths.join(dst_dir, dst_path))
    with src.open_read(entry) as stream:
        written = dst.put(dst_path, stream, size=entry.size, mtime_ns=entry.mtime_ns, hashes=entry.hashes)
    if entry.size >= 0 and written.size >= 0 and written.size != entry.size:
        raise IntegrityError(f"size {written.size} after copy, expected {entry.size}", path=dst_path)
    return written


def move_file(src: Backend, entry: Entry, dst: Backend, dst_path: str) -> Entry:
    """Move ``entry`` to ``dst_path`` on ``dst``: a rename on a shared store, else copy then delete."""
    shared = shared_backend(src, dst)
    if shared is not None and shared[0].features.server_side_move:
        backend, src_dir, dst_dir = shared
        return backend.move(rpaths.join(src_dir, entry.path), rpaths.join(dst_dir, dst_path))
    written = copy_file(src, entry, dst, dst_path)
    src.remove(entry)
    return written
