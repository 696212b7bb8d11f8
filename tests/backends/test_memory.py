"""What only the memory backend promises: shared stores, root scoping, ids, thread safety, its native walk."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from backends.base import Backend, HashType
from backends.errors import AmbiguousPath, DirNotFound, IntegrityError, InvalidName, NotFound
from backends.memory import MemoryBackend, MemoryStore
from backends.registry import open_backend

MTIME = 1_600_000_000_123_456_789


def put(backend: Backend, path: str, data: bytes) -> None:
    backend.put(path, io.BytesIO(data), size=len(data), mtime_ns=MTIME)


def read(backend: Backend, path: str) -> bytes:
    with backend.open_read(path) as stream:
        data: bytes = stream.read()
        return data


def test_store_shared_between_roots() -> None:
    store = MemoryStore()
    outer = MemoryBackend("outer", "a", store=store)
    inner = MemoryBackend("inner", "a/b", store=store)
    other = MemoryBackend("other", "x", store=store)
    put(outer, "b/c/f.txt", b"from outer")
    assert read(inner, "c/f.txt") == b"from outer"
    put(inner, "g.txt", b"from inner")
    assert {e.path for e in outer.list("b")} == {"b/c", "b/g.txt"}
    assert outer.stat("b/c/f.txt").id == inner.stat("c/f.txt").id
    # a root that was never written to does not exist, and sees nothing of the others
    with pytest.raises(DirNotFound):
        other.list("")
    with pytest.raises(NotFound):
        other.stat("")
    # the whole store, seen with root ""
    everything = MemoryBackend("all", "", store=store)
    assert [e.path for e in everything.walk()] == ["a", "a/b", "a/b/c", "a/b/g.txt", "a/b/c/f.txt"]


def test_same_store_follows_the_store_not_the_name() -> None:
    store = MemoryStore()
    outer = MemoryBackend("m", "a", store=store)
    inner = MemoryBackend("other name", "a/b", store=store)
    stranger = MemoryBackend("m", "a")
    assert outer.same_store(inner)
    assert outer.common_root(inner) == "a"
    assert not outer.same_store(stranger)
    assert outer.common_root(stranger) is None


def test_entry_from_another_root_is_not_found() -> None:
    store = MemoryStore()
    left = MemoryBackend("left", "left", store=store)
    right = MemoryBackend("right", "right", store=store)
    put(left, "f.txt", b"x")
    entry = left.stat("f.txt")
    # the id exists in the store but lies outside right's root: it must not leak through
    with pytest.raises(NotFound):
        right.open_read(entry)


def test_fresh_store_per_instance() -> None:
    one = MemoryBackend("m", "")
    two = MemoryBackend("m", "")
    put(one, "f.txt", b"x")
    assert two.list("") == []


def test_root_is_cleaned_and_checked() -> None:
    assert MemoryBackend("m", "/a/b/").root == "a/b"
    with pytest.raises(InvalidName):
        MemoryBackend("m", "a/../b")


def test_registry_opens_memory() -> None:
    backend = open_backend(":memory:some/dir")
    assert isinstance(backend, MemoryBackend)
    assert backend.root == "some/dir"


def test_id_survives_move_and_changes_on_replace() -> None:
    backend = MemoryBackend("m", "")
    put(backend, "a.txt", b"one")
    original = backend.stat("a.txt")
    moved = backend.move(original, "d/b.txt")
    assert moved.id == original.id
    put(backend, "d/b.txt", b"two")
    assert backend.stat("d/b.txt").id != original.id
    with pytest.raises(NotFound):
        backend.open_read(original)


def test_put_verifies_given_hashes() -> None:
    backend = MemoryBackend("m", "")
    good = {HashType.MD5: hashlib.md5(b"data").hexdigest()}
    backend.put("ok.txt", io.BytesIO(b"data"), size=4, mtime_ns=MTIME, hashes=good)
    with pytest.raises(IntegrityError):
        backend.put("bad.txt", io.BytesIO(b"data"), size=4, mtime_ns=MTIME, hashes={HashType.MD5: "0" * 32})
    assert not backend.exists("bad.txt")


def test_entry_hashes_filled() -> None:
    backend = MemoryBackend("m", "")
    put(backend, "f.txt", b"abc")
    hashes = backend.stat("f.txt").hashes
    assert hashes == {kind: hashlib.new(kind.value, b"abc").hexdigest() for kind in HashType}


def test_duplicate_directories_make_paths_below_them_ambiguous() -> None:
    backend = MemoryBackend("m", "")
    backend.mkdir("d")
    # the API never makes two directories with one name, so graft one in through the store
    backend.mkdir("tmp/d")
    twin_id = backend.stat("tmp/d").id
    assert twin_id is not None
    twin = backend.store.nodes[twin_id]
    backend.store.detach(twin)
    backend.store.attach(twin, backend.store.root)
    with pytest.raises(AmbiguousPath):
        backend.list("d")
    with pytest.raises(AmbiguousPath):
        put(backend, "d/f.txt", b"x")


def test_native_walk_matches_base_order() -> None:
    backend = MemoryBackend("m", "r")
    for path in ["z.txt", "a/b/c.txt", "a/a.txt", "A.txt", "a/b/d/e.txt", "m/n/o.txt", "a-b.txt"]:
        put(backend, path, path.encode())
    backend.mkdir("a/empty")
    backend.add_duplicate("a/a.txt", b"twin", MTIME)
    assert list(backend.walk()) == list(Backend.walk(backend))
    assert list(backend.walk("a")) == list(Backend.walk(backend, "a"))


def test_deep_walk_does_not_recurse() -> None:
    backend = MemoryBackend("m", "")
    deep = "/".join(["d"] * 1500)
    put(backend, f"{deep}/f.txt", b"x")
    walked = list(backend.walk())
    assert len(walked) == 1501
    assert walked[-1].path == f"{deep}/f.txt"


def test_thread_safety_smoke() -> None:
    backend = MemoryBackend("m", "root")
    threads_n, files_n = 8, 100
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def worker(t: int) -> None:
        try:
            start.wait()
            for n in range(files_n):
                # shared parent directories, so concurrent puts race to create them
                put(backend, f"shared/{n % 5}/t{t}-{n}.txt", f"{t}:{n}".encode())
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    files = [e for e in backend.walk() if not e.is_dir]
    assert len(files) == threads_n * files_n
    assert {e.path for e in backend.list("shared")} == {f"shared/{i}" for i in range(5)}
    for t in range(threads_n):
        for n in range(files_n):
            assert read(backend, f"shared/{n % 5}/t{t}-{n}.txt") == f"{t}:{n}".encode()
    usage = backend.about()
    assert usage.objects == threads_n * files_n
