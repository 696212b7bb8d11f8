"""One-file operations between two backends: server-side within one store, streamed across stores."""

from __future__ import annotations

import io

from backends.base import Target
from backends.memory import MemoryBackend, MemoryStore
from syncer.operations import copy_file, move_file, same_bytes, shared_backend

MTIME = 1_700_000_000_123_456_789


def _backends() -> tuple[MemoryStore, MemoryBackend, MemoryBackend]:
    store = MemoryStore()
    src = MemoryBackend("m", "a/src", store=store)
    dst = MemoryBackend("m", "b/dst", store=store)
    src.put("f.txt", io.BytesIO(b"hello"), size=5, mtime_ns=MTIME)
    return store, src, dst


def test_two_roots_of_one_store_share_a_backend_on_that_store() -> None:
    store, src, dst = _backends()
    shared = shared_backend(src, dst)
    assert shared is not None
    backend, src_dir, dst_dir = shared
    assert (backend.root, src_dir, dst_dir) == ("", "a/src", "b/dst")
    assert isinstance(backend, MemoryBackend) and backend.store is store


def test_copy_within_one_store_lands_in_that_store() -> None:
    _, src, dst = _backends()
    entry = copy_file(src, src.stat("f.txt"), dst, "sub/g.txt")
    assert (entry.size, entry.mtime_ns) == (5, MTIME)
    with dst.open_read("sub/g.txt") as stream:
        assert stream.read() == b"hello"
    assert src.exists("f.txt")


def test_move_within_one_store_keeps_the_object() -> None:
    _, src, dst = _backends()
    before = src.stat("f.txt")
    moved = move_file(src, before, dst, "g.txt")
    assert moved.id == before.id
    assert not src.exists("f.txt") and dst.exists("g.txt")


def test_across_stores_the_data_is_streamed() -> None:
    _, src, _ = _backends()
    other = MemoryBackend("m", "x")  # same name, different store: not the same store
    assert shared_backend(src, other) is None
    entry = move_file(src, src.stat("f.txt"), other, "g.txt")
    assert (entry.size, entry.mtime_ns) == (5, MTIME)
    assert not src.exists("f.txt")
    with other.open_read("g.txt") as stream:
        assert stream.read() == b"hello"


def test_serial_io_backends_get_one_worker_unless_a_count_was_given(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from backends import default_registry
    from backends.local import LocalBackend
    from syncer.runtime import Runtime

    local, memory = LocalBackend("", str(tmp_path)), MemoryBackend("m", "")
    rt = Runtime(remotes={}, registry=default_registry(), out=io.StringIO(), out_bytes=io.BytesIO())
    assert rt.workers(4, local, local) == 1
    assert rt.workers(4, local, memory) == 4  # a side gains from threads
    rt.workers_given = True
    assert rt.workers(4, local, local) == 4


class _Dribble(io.BytesIO):
    """A reader that returns at most 3 bytes per call, as a network reader may."""

    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(3 if size is None or size < 0 else min(size, 3))


class _DribblingMemory(MemoryBackend):
    def open_read(self, target: Target, offset: int = 0, length: int | None = None) -> io.BytesIO:
        return _Dribble(super().open_read(target, offset, length).getvalue())


def test_same_bytes_reads_whole_blocks_from_a_reader_that_returns_few_bytes() -> None:
    store = MemoryStore()
    plain, dribbling = MemoryBackend("m", "a", store=store), _DribblingMemory("m", "b", store=store)
    data = bytes(range(256)) * 40
    for backend in (plain, dribbling):
        backend.put("f", io.BytesIO(data), size=len(data), mtime_ns=MTIME)
    plain.put("g", io.BytesIO(data[:-1] + b"!"), size=len(data), mtime_ns=MTIME)
    plain.put("short", io.BytesIO(data[:-1]), size=len(data) - 1, mtime_ns=MTIME)
    assert same_bytes(plain, plain.stat("f"), dribbling, dribbling.stat("f"))
    assert not same_bytes(plain, plain.stat("g"), dribbling, dribbling.stat("f"))
    assert not same_bytes(plain, plain.stat("short"), dribbling, dribbling.stat("f"))
    assert not same_bytes(dribbling, dribbling.stat("f"), plain, plain.stat("short"))
