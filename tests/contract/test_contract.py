"""The backend conformance suite: what every backend must do, as base.py's docstrings state it.

Each test runs once per factory in conftest.py. Where a backend may legitimately lack a capability the test
skips with the ``Features`` flag that says so; nothing is skipped unconditionally.
"""

from __future__ import annotations

import hashlib
import io
import threading
import unicodedata
from collections.abc import Callable

import pytest

from backends.base import Backend, Entry, HashType, Usage
from backends.errors import (
    AlreadyExists,
    AmbiguousPath,
    DirectoryNotEmpty,
    DirNotFound,
    IntegrityError,
    InvalidName,
    IsADirectory,
    NotADirectory,
    NotFound,
    NotSupported,
)

#: conftest.py's duplicate maker: (path, data, mtime_ns) -> the new Entry.
MakeDuplicate = Callable[[str, bytes, int], Entry]
#: conftest.py's duplicate-directory maker: (source dir, path) -> the renamed directory's Entry.
MakeDuplicateDir = Callable[[str, str], Entry]

#: An mtime with nanoseconds, so truncation to microseconds or seconds shows.
MTIME = 1_600_000_000_123_456_789
#: Bytes with a different value at every offset of a 256-byte cycle, so a wrong range shows.
DATA = bytes(range(256)) * 40

#: Where "a file is in the way" of a directory path, backends raise one of these.
FILE_IN_THE_WAY = (NotADirectory, AlreadyExists)


# -- helpers -------------------------------------------------------------------------------------------------


def put_bytes(backend: Backend, path: str, data: bytes, mtime_ns: int = MTIME) -> Entry:
    return backend.put(path, io.BytesIO(data), size=len(data), mtime_ns=mtime_ns)


def read_all(backend: Backend, target: str | Entry, offset: int = 0, length: int | None = None) -> bytes:
    with backend.open_read(target, offset, length) as stream:
        data: bytes = stream.read()
        return data


def read_in_pieces(
    backend: Backend, target: str | Entry, offset: int, length: int | None, piece: int
) -> bytes:
    """Read with many small ``read(n)`` calls, as a transfer loop does."""
    out = bytearray()
    with backend.open_read(target, offset, length) as stream:
        while block := stream.read(piece):
            assert len(block) <= piece
            out += block
    return bytes(out)


def paths_in(backend: Backend, directory: str) -> set[str]:
    return {e.path for e in backend.list(directory)}


def assert_mtime(backend: Backend, actual: int | None, expected: int) -> None:
    precision = backend.features.mtime_precision_ns
    if precision is None:
        return
    assert actual is not None
    assert abs(actual - expected) < max(precision, 1), f"mtime {actual} != {expected} within {precision} ns"


def skip_unless_mtime(backend: Backend) -> None:
    if backend.features.mtime_precision_ns is None:
        pytest.skip(f"{backend.type_name}: features.mtime_precision_ns is None (mtimes not kept)")


class PatternReader:
    """A multi-megabyte stream made on the fly in 64 KiB blocks and served in short reads.

    It never holds the whole data, so a backend that needs ``len()`` or one big ``read()`` fails here.
    """

    BLOCK = 64 * 1024

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0

    @classmethod
    def block(cls, index: int) -> bytes:
        return hashlib.sha256(index.to_bytes(8, "big")).digest() * (cls.BLOCK // 32)

    def read(self, size: int = -1, /) -> bytes:
        if self.pos >= self.size:
            return b""
        index, within = divmod(self.pos, self.BLOCK)
        limit = self.size - self.pos if size < 0 else min(size, self.size - self.pos)
        out = self.block(index)[within : within + limit]
        self.pos += len(out)
        return out

    @classmethod
    def digests(cls, size: int) -> dict[HashType, str]:
        hashers = {kind: kind.new() for kind in HashType}
        reader = cls(size)
        while block := reader.read():
            for hasher in hashers.values():
                hasher.update(block)
        return {kind: hasher.hexdigest() for kind, hasher in hashers.items()}


# -- list ----------------------------------------------------------------------------------------------------


class TestList:
    def test_empty_root(self, backend: Backend) -> None:
        assert backend.list("") == []

    def test_root_files_and_dirs(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"12345")
        put_bytes(backend, "d/inner.txt", b"x")
        backend.mkdir("empty")
        entries = {e.path: e for e in backend.list("")}
        assert set(entries) == {"f.txt", "d", "empty"}
        assert not entries["f.txt"].is_dir
        assert entries["f.txt"].size == 5
        assert_mtime(backend, entries["f.txt"].mtime_ns, MTIME)
        assert entries["d"].is_dir and entries["empty"].is_dir
        assert entries["d"].size == -1

    def test_empty_dir(self, backend: Backend) -> None:
        backend.mkdir("empty")
        assert backend.list("empty") == []

    def test_nested_paths_are_relative_to_root(self, backend: Backend) -> None:
        put_bytes(backend, "a/b/c.txt", b"c")
        put_bytes(backend, "a/b/d/e.txt", b"e")
        assert paths_in(backend, "a") == {"a/b"}
        assert paths_in(backend, "a/b") == {"a/b/c.txt", "a/b/d"}
        assert paths_in(backend, "a/b/d") == {"a/b/d/e.txt"}

    def test_missing_dir(self, backend: Backend) -> None:
        with pytest.raises(DirNotFound):
            backend.list("missing")
        with pytest.raises(DirNotFound):
            backend.list("missing/deeper")

    def test_file(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"x")
        with pytest.raises(NotADirectory):
            backend.list("f.txt")


# -- stat ----------------------------------------------------------------------------------------------------


class TestStat:
    def test_file(self, backend: Backend) -> None:
        put_bytes(backend, "d/f.txt", b"hello")
        entry = backend.stat("d/f.txt")
        assert entry.path == "d/f.txt"
        assert entry.name == "f.txt"
        assert not entry.is_dir
        assert entry.size == 5
        assert_mtime(backend, entry.mtime_ns, MTIME)

    def test_dir(self, backend: Backend) -> None:
        backend.mkdir("a/b")
        entry = backend.stat("a/b")
        assert entry.path == "a/b"
        assert entry.is_dir

    def test_root(self, backend: Backend) -> None:
        entry = backend.stat("")
        assert entry.path == ""
        assert entry.is_dir

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.stat("missing.txt")
        with pytest.raises(NotFound):
            backend.stat("missing/deeper.txt")

    @pytest.mark.parametrize("operation", ["stat", "open_read", "remove"])
    def test_below_a_file_is_not_found(self, backend: Backend, operation: str) -> None:
        # a path under a file does not exist: NotFound, like any missing path, not a different error
        put_bytes(backend, "f.txt", b"x")
        calls: dict[str, Callable[[], object]] = {
            "stat": lambda: backend.stat("f.txt/inside"),
            "open_read": lambda: backend.open_read("f.txt/inside"),
            "remove": lambda: backend.remove("f.txt/inside"),
        }
        with pytest.raises(NotFound):
            calls[operation]()
        assert read_all(backend, "f.txt") == b"x"

    def test_exists_below_a_file(self, backend: Backend) -> None:
        # Backend.exists() catches only NotFound, so this holds only if stat honours the test above
        put_bytes(backend, "f.txt", b"x")
        assert not backend.exists("f.txt/inside")


# -- open_read -----------------------------------------------------------------------------------------------


class TestOpenRead:
    @pytest.fixture(autouse=True)
    def _data(self, backend: Backend) -> None:
        put_bytes(backend, "data.bin", DATA)

    def test_whole(self, backend: Backend) -> None:
        assert read_all(backend, "data.bin") == DATA

    @pytest.mark.parametrize(
        ("offset", "length"),
        [
            (0, None),
            (100, None),
            (100, 50),
            (0, 1),
            (257, 0),
            (len(DATA) - 10, 100),  # runs past the end: the tail only
            (len(DATA) - 1, None),
            (len(DATA), None),  # at the end
            (len(DATA) + 1000, None),  # past the end
            (len(DATA) + 1000, 10),
        ],
    )
    def test_range(self, backend: Backend, offset: int, length: int | None) -> None:
        end = None if length is None else offset + length
        assert read_all(backend, "data.bin", offset, length) == DATA[offset:end]

    def test_range_read_in_small_pieces(self, backend: Backend) -> None:
        assert read_in_pieces(backend, "data.bin", 3, 1000, piece=7) == DATA[3:1003]
        assert read_in_pieces(backend, "data.bin", 5000, None, piece=999) == DATA[5000:]

    def test_directory(self, backend: Backend) -> None:
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            backend.open_read("d")
        with pytest.raises(IsADirectory):
            backend.open_read("")

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.open_read("missing.bin")
        with pytest.raises(NotFound):
            backend.open_read("missing/deeper.bin")


# -- put -----------------------------------------------------------------------------------------------------


class TestPut:
    def test_creates_parents(self, backend: Backend) -> None:
        put_bytes(backend, "a/b/c/f.txt", b"deep")
        assert backend.stat("a").is_dir
        assert backend.stat("a/b/c").is_dir
        assert read_all(backend, "a/b/c/f.txt") == b"deep"

    def test_returns_entry(self, backend: Backend) -> None:
        entry = put_bytes(backend, "d/f.txt", b"hello world")
        assert entry.path == "d/f.txt"
        assert not entry.is_dir
        assert entry.size == 11
        assert_mtime(backend, entry.mtime_ns, MTIME)
        for kind, digest in entry.hashes.items():
            assert digest == hashlib.new(kind.value, b"hello world").hexdigest()

    def test_empty_file(self, backend: Backend) -> None:
        entry = put_bytes(backend, "empty", b"")
        assert entry.size == 0
        assert backend.stat("empty").size == 0
        assert read_all(backend, "empty") == b""

    def test_replaces_existing_file(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"first version, longer", MTIME)
        entry = put_bytes(backend, "f.txt", b"second", MTIME + 10**9)
        assert entry.size == 6
        assert read_all(backend, "f.txt") == b"second"
        listed = backend.list("")
        assert [e.path for e in listed] == ["f.txt"]
        assert listed[0].size == 6
        assert_mtime(backend, listed[0].mtime_ns, MTIME + 10**9)

    @pytest.mark.parametrize(("data", "size"), [(b"abc", 10), (b"abcdefghij", 3)], ids=["short", "long"])
    def test_size_mismatch(self, backend: Backend, data: bytes, size: int) -> None:
        put_bytes(backend, "keep.txt", b"keep")
        with pytest.raises(IntegrityError):
            backend.put("bad.txt", io.BytesIO(data), size=size, mtime_ns=MTIME)
        assert not backend.exists("bad.txt")
        # no partial or temp object may show up in a listing
        assert paths_in(backend, "") == {"keep.txt"}

    @pytest.mark.parametrize(("data", "size"), [(b"abc", 10), (b"abcdefghij", 3)], ids=["short", "long"])
    def test_size_mismatch_in_subdir(self, backend: Backend, data: bytes, size: int) -> None:
        put_bytes(backend, "sub/keep.txt", b"keep")
        with pytest.raises(IntegrityError):
            backend.put("sub/bad.txt", io.BytesIO(data), size=size, mtime_ns=MTIME)
        assert paths_in(backend, "sub") == {"sub/keep.txt"}

    def test_failed_replace_keeps_old_file(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"old content")
        with pytest.raises(IntegrityError):
            backend.put("f.txt", io.BytesIO(b"new"), size=100, mtime_ns=MTIME)
        # readers never see a partial file: the old one is still whole
        assert read_all(backend, "f.txt") == b"old content"

    def test_onto_directory(self, backend: Backend) -> None:
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            put_bytes(backend, "d", b"x")
        assert backend.stat("d").is_dir

    @pytest.mark.parametrize("path", ["f.txt/child.txt", "f.txt/deeper/child.txt"])
    def test_file_as_parent(self, backend: Backend, path: str) -> None:
        put_bytes(backend, "f.txt", b"a file")
        with pytest.raises(FILE_IN_THE_WAY):
            put_bytes(backend, path, b"x")
        assert read_all(backend, "f.txt") == b"a file"

    def test_streaming_multi_megabyte(self, backend: Backend) -> None:
        size = 5 * 1024 * 1024 + 123
        entry = backend.put("big.bin", PatternReader(size), size=size, mtime_ns=MTIME)
        assert entry.size == size
        assert backend.stat("big.bin").size == size
        expected = PatternReader.digests(size)
        for kind in backend.features.hashes:
            assert backend.hash("big.bin", kind) == expected[kind]
        got = hashlib.sha256()
        with backend.open_read("big.bin") as stream:
            while block := stream.read(1 << 20):
                got.update(block)
        assert got.hexdigest() == expected[HashType.SHA256]

    def test_unknown_size(self, backend: Backend) -> None:
        if not backend.features.unknown_size_put:
            pytest.skip(f"{backend.type_name}: features.unknown_size_put is False")
        size = 300_000
        entry = backend.put("u.bin", PatternReader(size), size=None, mtime_ns=MTIME)
        assert entry.size == size
        assert backend.stat("u.bin").size == size


# -- mkdir / rmdir -------------------------------------------------------------------------------------------


class TestMkdir:
    def test_with_parents(self, backend: Backend) -> None:
        backend.mkdir("a/b/c")
        for path in ("a", "a/b", "a/b/c"):
            assert backend.stat(path).is_dir
        assert backend.list("a/b/c") == []

    def test_idempotent(self, backend: Backend) -> None:
        put_bytes(backend, "a/b/f.txt", b"x")
        backend.mkdir("a/b")
        backend.mkdir("a/b")
        backend.mkdir("a")
        backend.mkdir("")
        assert read_all(backend, "a/b/f.txt") == b"x"
        assert paths_in(backend, "a/b") == {"a/b/f.txt"}

    @pytest.mark.parametrize("path", ["f.txt", "f.txt/sub", "f.txt/sub/deeper"])
    def test_file_in_the_way(self, backend: Backend, path: str) -> None:
        put_bytes(backend, "f.txt", b"a file")
        with pytest.raises(FILE_IN_THE_WAY):
            backend.mkdir(path)
        assert not backend.stat("f.txt").is_dir
        assert read_all(backend, "f.txt") == b"a file"


class TestRmdir:
    def test_empty(self, backend: Backend) -> None:
        backend.mkdir("a/b")
        backend.rmdir("a/b")
        with pytest.raises(NotFound):
            backend.stat("a/b")
        assert backend.stat("a").is_dir

    def test_not_empty(self, backend: Backend) -> None:
        put_bytes(backend, "a/f.txt", b"x")
        with pytest.raises(DirectoryNotEmpty):
            backend.rmdir("a")
        assert read_all(backend, "a/f.txt") == b"x"

    def test_holding_only_an_empty_dir(self, backend: Backend) -> None:
        backend.mkdir("a/b")
        with pytest.raises(DirectoryNotEmpty):
            backend.rmdir("a")
        assert backend.stat("a/b").is_dir

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(DirNotFound):
            backend.rmdir("missing")

    def test_file(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"x")
        with pytest.raises(NotADirectory):
            backend.rmdir("f.txt")
        assert backend.exists("f.txt")


# -- remove --------------------------------------------------------------------------------------------------


class TestRemove:
    def test_file(self, backend: Backend) -> None:
        put_bytes(backend, "d/f.txt", b"x")
        put_bytes(backend, "d/g.txt", b"y")
        backend.remove("d/f.txt")
        assert not backend.exists("d/f.txt")
        assert paths_in(backend, "d") == {"d/g.txt"}

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.remove("missing.txt")

    def test_directory(self, backend: Backend) -> None:
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            backend.remove("d")
        assert backend.stat("d").is_dir


# -- move / copy ---------------------------------------------------------------------------------------------


class TestMove:
    def test_rename_within_dir(self, backend: Backend) -> None:
        put_bytes(backend, "d/a.txt", b"content")
        entry = backend.move("d/a.txt", "d/b.txt")
        assert entry.path == "d/b.txt"
        assert entry.size == 7
        assert paths_in(backend, "d") == {"d/b.txt"}
        assert read_all(backend, "d/b.txt") == b"content"
        assert_mtime(backend, backend.stat("d/b.txt").mtime_ns, MTIME)

    def test_across_dirs_creating_parents(self, backend: Backend) -> None:
        put_bytes(backend, "a/x.txt", b"moving")
        backend.move("a/x.txt", "b/c/y.txt")
        assert not backend.exists("a/x.txt")
        assert backend.stat("b/c").is_dir
        assert read_all(backend, "b/c/y.txt") == b"moving"

    def test_replaces_existing_file(self, backend: Backend) -> None:
        put_bytes(backend, "src.txt", b"new")
        put_bytes(backend, "dst.txt", b"old and longer")
        entry = backend.move("src.txt", "dst.txt")
        assert entry.size == 3
        assert paths_in(backend, "") == {"dst.txt"}
        assert read_all(backend, "dst.txt") == b"new"

    def test_onto_itself(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"same")
        backend.move("f.txt", "f.txt")
        assert read_all(backend, "f.txt") == b"same"

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.move("missing.txt", "dst.txt")
        assert not backend.exists("dst.txt")

    def test_onto_directory(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"x")
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            backend.move("f.txt", "d")
        assert backend.stat("d").is_dir
        assert read_all(backend, "f.txt") == b"x"

    def test_directory_source(self, backend: Backend) -> None:
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            backend.move("d", "e")
        assert backend.stat("d").is_dir


class TestCopy:
    def test_keeps_content_and_mtime(self, backend: Backend) -> None:
        put_bytes(backend, "src.txt", DATA)
        entry = backend.copy("src.txt", "copies/dst.txt")
        assert entry.path == "copies/dst.txt"
        assert entry.size == len(DATA)
        assert read_all(backend, "copies/dst.txt") == DATA
        assert read_all(backend, "src.txt") == DATA
        assert_mtime(backend, backend.stat("copies/dst.txt").mtime_ns, MTIME)

    def test_replaces_existing_file(self, backend: Backend) -> None:
        put_bytes(backend, "src.txt", b"new")
        put_bytes(backend, "dst.txt", b"old and longer")
        backend.copy("src.txt", "dst.txt")
        assert read_all(backend, "dst.txt") == b"new"
        assert paths_in(backend, "") == {"src.txt", "dst.txt"}

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(NotFound):
            backend.copy("missing.txt", "dst.txt")

    def test_directory(self, backend: Backend) -> None:
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            backend.copy("d", "e")


# -- move_dir / purge ----------------------------------------------------------------------------------------


def make_tree(backend: Backend, top: str) -> dict[str, bytes]:
    """A small tree under ``top``; returns its files by path relative to ``top``."""
    files = {"f.txt": b"f", "sub/g.txt": b"gg", "sub/deeper/h.txt": b"hhh"}
    for rel, data in files.items():
        put_bytes(backend, f"{top}/{rel}", data)
    backend.mkdir(f"{top}/empty")
    return files


def tree_under(backend: Backend, top: str) -> set[tuple[str, bool]]:
    return {(e.path[len(top) + 1 :], e.is_dir) for e in backend.walk(top)}


class TestMoveDir:
    def test_moves_whole_tree(self, backend: Backend) -> None:
        files = make_tree(backend, "a")
        before = tree_under(backend, "a")
        backend.move_dir("a", "b/c")
        assert not backend.exists("a")
        assert tree_under(backend, "b/c") == before
        for rel, data in files.items():
            assert read_all(backend, f"b/c/{rel}") == data
        if backend.features.empty_dirs:
            assert backend.stat("b/c/empty").is_dir

    def test_rename_in_place(self, backend: Backend) -> None:
        make_tree(backend, "a")
        backend.move_dir("a", "z")
        assert paths_in(backend, "") == {"z"}

    def test_destination_exists(self, backend: Backend) -> None:
        make_tree(backend, "a")
        backend.mkdir("b")
        with pytest.raises(AlreadyExists):
            backend.move_dir("a", "b")
        assert read_all(backend, "a/f.txt") == b"f"
        assert backend.list("b") == []

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(DirNotFound):
            backend.move_dir("missing", "b")

    def test_file_source(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"x")
        with pytest.raises(NotADirectory):
            backend.move_dir("f.txt", "g")


class TestPurge:
    def test_removes_tree(self, backend: Backend) -> None:
        make_tree(backend, "a")
        put_bytes(backend, "keep/k.txt", b"k")
        backend.purge("a")
        assert not backend.exists("a")
        assert paths_in(backend, "") == {"keep"}
        assert read_all(backend, "keep/k.txt") == b"k"

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(DirNotFound):
            backend.purge("missing")

    def test_file(self, backend: Backend) -> None:
        put_bytes(backend, "f.txt", b"x")
        with pytest.raises(NotADirectory):
            backend.purge("f.txt")
        assert backend.exists("f.txt")


# -- hashes, mtimes, usage -----------------------------------------------------------------------------------


class TestHash:
    @pytest.mark.parametrize("kind", list(HashType), ids=[k.value for k in HashType])
    @pytest.mark.parametrize("data", [b"", b"hello", DATA], ids=["empty", "small", "10k"])
    def test_matches_hashlib(self, backend: Backend, kind: HashType, data: bytes) -> None:
        put_bytes(backend, "f.bin", data)
        if kind not in backend.features.hashes:
            with pytest.raises(NotSupported):
                backend.hash("f.bin", kind)
            return
        expected = hashlib.new(kind.value, data).hexdigest()
        assert backend.hash("f.bin", kind) == expected
        known = backend.stat("f.bin").hashes.get(kind)
        assert known in (None, expected)

    def test_after_replace(self, backend: Backend) -> None:
        if not backend.features.hashes:
            pytest.skip(f"{backend.type_name}: features.hashes is empty")
        kind = min(backend.features.hashes)
        put_bytes(backend, "f.bin", b"one")
        put_bytes(backend, "f.bin", b"two")
        assert backend.hash("f.bin", kind) == hashlib.new(kind.value, b"two").hexdigest()

    def test_unoffered_kinds(self, backend: Backend) -> None:
        missing = set(HashType) - backend.features.hashes
        if not missing:
            pytest.skip(f"{backend.type_name}: features.hashes offers every HashType")
        put_bytes(backend, "f.bin", b"x")
        for kind in missing:
            with pytest.raises(NotSupported):
                backend.hash("f.bin", kind)

    def test_directory(self, backend: Backend) -> None:
        if not backend.features.hashes:
            pytest.skip(f"{backend.type_name}: features.hashes is empty")
        backend.mkdir("d")
        with pytest.raises(IsADirectory):
            backend.hash("d", min(backend.features.hashes))


class TestMtime:
    @pytest.mark.parametrize("mtime", [MTIME, 1_000_000_000, 2_000_000_000_999_999_999])
    def test_round_trip(self, backend: Backend, mtime: int) -> None:
        skip_unless_mtime(backend)
        entry = put_bytes(backend, "f.txt", b"x", mtime)
        assert_mtime(backend, entry.mtime_ns, mtime)
        assert_mtime(backend, backend.stat("f.txt").mtime_ns, mtime)
        (listed,) = backend.list("")
        assert_mtime(backend, listed.mtime_ns, mtime)

    def test_set_mtime(self, backend: Backend) -> None:
        if not backend.features.can_set_mtime:
            pytest.skip(f"{backend.type_name}: features.can_set_mtime is False")
        put_bytes(backend, "f.txt", b"content", MTIME)
        later = MTIME + 86_400 * 10**9 + 1
        entry = backend.set_mtime("f.txt", later)
        assert entry.path == "f.txt"
        assert_mtime(backend, entry.mtime_ns, later)
        assert_mtime(backend, backend.stat("f.txt").mtime_ns, later)
        assert read_all(backend, "f.txt") == b"content"

    def test_set_mtime_missing(self, backend: Backend) -> None:
        if not backend.features.can_set_mtime:
            pytest.skip(f"{backend.type_name}: features.can_set_mtime is False")
        with pytest.raises(NotFound):
            backend.set_mtime("missing.txt", MTIME)


class TestAbout:
    def test_usage(self, backend: Backend, exact_usage: bool) -> None:
        put_bytes(backend, "a.bin", b"a" * 100)
        put_bytes(backend, "d/b.bin", b"b" * 250)
        usage = backend.about()
        assert isinstance(usage, Usage)
        figures = [usage.total, usage.used, usage.trashed, usage.other, usage.free, usage.objects]
        assert any(f is not None for f in figures), "about() reports no figure at all"
        assert all(f is None or f >= 0 for f in figures)
        if usage.total is not None:
            assert usage.total > 0
            if usage.free is not None:
                assert usage.free <= usage.total
        if exact_usage:
            assert usage.used == 350
            assert usage.objects == 2


# -- names ---------------------------------------------------------------------------------------------------

AWKWARD_NAMES = {
    "accents": "café é",
    "space": "with space",
    "double-space": "two  spaces",
    "hash": "a#b",
    "percent": "100% sure %2F",
    "emoji": "emoji 😀🎉",
    "cjk": "日本語のファイル",
    "leading-dash": "-leading-dash",
    "long-200": "n" * 196 + ".txt",
    "backslash": "back\\slash",
    "colon": "colon:name",
    "quotes": 'it\'s "quoted"',
    "brackets": "[x] {y} (z) *?",
    "dot-start": ".hidden",
}


class TestNames:
    @pytest.mark.parametrize("name", list(AWKWARD_NAMES.values()), ids=list(AWKWARD_NAMES))
    def test_awkward_name_round_trip(self, backend: Backend, name: str) -> None:
        # the same name as a directory and as a file inside it
        path = f"{name}/{name}"
        entry = put_bytes(backend, path, name.encode())
        assert entry.path == path
        assert paths_in(backend, "") == {name}
        assert paths_in(backend, name) == {path}
        assert backend.stat(name).is_dir
        assert backend.stat(path).size == len(name.encode())
        assert read_all(backend, path) == name.encode()
        assert [e.path for e in backend.walk()] == [name, path]
        backend.move(path, f"{name}/moved {name}")
        assert read_all(backend, f"{name}/moved {name}") == name.encode()

    def test_nfc_and_nfd(self, backend: Backend, normalizes_unicode: bool) -> None:
        nfc = unicodedata.normalize("NFC", "café")
        nfd = unicodedata.normalize("NFD", "café")
        assert nfc != nfd
        put_bytes(backend, nfc, b"nfc")
        put_bytes(backend, nfd, b"nfd")
        listed = backend.list("")
        if normalizes_unicode:
            assert len(listed) == 1
            assert read_all(backend, nfc) == b"nfd"
        else:
            assert {e.path for e in listed} == {nfc, nfd}
            assert read_all(backend, nfc) == b"nfc"
            assert read_all(backend, nfd) == b"nfd"

    def test_case(self, backend: Backend) -> None:
        put_bytes(backend, "Case.txt", b"upper")
        put_bytes(backend, "case.txt", b"lower")
        listed = backend.list("")
        if backend.features.case_insensitive:
            assert len(listed) == 1
            assert read_all(backend, "Case.txt") == b"lower"
        else:
            assert {e.path for e in listed} == {"Case.txt", "case.txt"}
            assert read_all(backend, "Case.txt") == b"upper"

    @pytest.mark.parametrize(
        "path", ["..", "../x", "a/..", "a/../b", ".", "a/./b", "a//b", "/a", "a/", "a\x00b"]
    )
    @pytest.mark.parametrize(
        "operation",
        ["stat", "list", "open_read", "put", "mkdir", "remove", "rmdir", "move-dst", "copy-dst", "walk"],
    )
    def test_invalid_paths(self, backend: Backend, path: str, operation: str) -> None:
        put_bytes(backend, "ok.txt", b"x")
        calls: dict[str, Callable[[], object]] = {
            "stat": lambda: backend.stat(path),
            "list": lambda: backend.list(path),
            "open_read": lambda: backend.open_read(path),
            "put": lambda: put_bytes(backend, path, b"x"),
            "mkdir": lambda: backend.mkdir(path),
            "remove": lambda: backend.remove(path),
            "rmdir": lambda: backend.rmdir(path),
            "move-dst": lambda: backend.move("ok.txt", path),
            "copy-dst": lambda: backend.copy("ok.txt", path),
            "walk": lambda: list(backend.walk(path)),
        }
        with pytest.raises(InvalidName):
            calls[operation]()
        assert paths_in(backend, "") == {"ok.txt"}


# -- walk ----------------------------------------------------------------------------------------------------

WALK_FILES = ["a.txt", "B.txt", "b/c.txt", "b/d/e.txt", "b/g.txt", "m/n.txt", "b/d/f/z.txt", "b-c.txt"]
WALK_DIRS = ["b", "b/d", "b/d/f", "m", "z", "b/empty"]


class TestWalk:
    @pytest.fixture(autouse=True)
    def _tree(self, backend: Backend) -> None:
        for path in WALK_FILES:
            put_bytes(backend, path, path.encode())
        for path in WALK_DIRS:
            backend.mkdir(path)

    def check_order(self, walked: list[Entry], top: str) -> None:
        order = [e.path for e in walked]
        assert len(order) == len(set(order)), "an entry appears twice"
        index = {path: i for i, path in enumerate(order)}
        for entry in walked:
            parent = entry.path.rpartition("/")[0]
            if parent != top:
                assert index[parent] < index[entry.path], f"{entry.path} before its directory"
        # siblings come in sorted order
        by_parent: dict[str, list[str]] = {}
        for path in order:
            by_parent.setdefault(path.rpartition("/")[0], []).append(path)
        for siblings in by_parent.values():
            assert siblings == sorted(siblings)

    def test_whole_tree(self, backend: Backend) -> None:
        walked = list(backend.walk())
        expected_dirs = set(WALK_DIRS)
        assert {e.path for e in walked} == set(WALK_FILES) | expected_dirs
        assert {e.path for e in walked if e.is_dir} == expected_dirs
        for entry in walked:
            if not entry.is_dir:
                assert entry.size == len(entry.path.encode())
        self.check_order(walked, "")

    def test_subtree(self, backend: Backend) -> None:
        walked = list(backend.walk("b"))
        assert {e.path for e in walked} == {
            "b/c.txt",
            "b/d",
            "b/d/e.txt",
            "b/d/f",
            "b/d/f/z.txt",
            "b/g.txt",
            "b/empty",
        }
        self.check_order(walked, "b")

    def test_missing(self, backend: Backend) -> None:
        with pytest.raises(DirNotFound):
            list(backend.walk("missing"))


# -- Entry-addressed operations ------------------------------------------------------------------------------


class TestEntryTargets:
    def listed(self, backend: Backend, path: str) -> Entry:
        (entry,) = [e for e in backend.list(path.rpartition("/")[0]) if e.path == path]
        return entry

    def test_open_read(self, backend: Backend) -> None:
        put_bytes(backend, "d/f.bin", DATA)
        entry = self.listed(backend, "d/f.bin")
        assert read_all(backend, entry) == DATA
        assert read_all(backend, entry, 10, 20) == DATA[10:30]

    def test_remove(self, backend: Backend) -> None:
        put_bytes(backend, "d/f.bin", b"x")
        put_bytes(backend, "d/g.bin", b"y")
        backend.remove(self.listed(backend, "d/f.bin"))
        assert paths_in(backend, "d") == {"d/g.bin"}

    def test_stale_entry(self, backend: Backend) -> None:
        put_bytes(backend, "f.bin", b"x")
        entry = self.listed(backend, "f.bin")
        backend.remove(entry)
        with pytest.raises(NotFound):
            backend.open_read(entry)
        with pytest.raises(NotFound):
            backend.remove(entry)

    def test_move_and_copy(self, backend: Backend) -> None:
        put_bytes(backend, "f.bin", b"payload")
        backend.copy(self.listed(backend, "f.bin"), "copy.bin")
        moved = backend.move(self.listed(backend, "f.bin"), "d/moved.bin")
        assert moved.path == "d/moved.bin"
        assert paths_in(backend, "") == {"copy.bin", "d"}
        assert read_all(backend, "copy.bin") == read_all(backend, "d/moved.bin") == b"payload"

    def test_hash_and_set_mtime(self, backend: Backend) -> None:
        put_bytes(backend, "f.bin", b"payload")
        entry = self.listed(backend, "f.bin")
        for kind in backend.features.hashes:
            assert backend.hash(entry, kind) == hashlib.new(kind.value, b"payload").hexdigest()
        if backend.features.can_set_mtime:
            backend.set_mtime(entry, MTIME + 5)
            assert_mtime(backend, backend.stat("f.bin").mtime_ns, MTIME + 5)


# -- duplicate names (backends with features.duplicate_names) ------------------------------------------------


class TestDuplicates:
    @pytest.fixture
    def twins(self, backend: Backend, make_duplicate: MakeDuplicate) -> tuple[Entry, Entry]:
        """Two files both named d/dup.txt, told apart by content and size."""
        put_bytes(backend, "d/dup.txt", b"first")
        (first,) = backend.list("d")
        second = make_duplicate("d/dup.txt", b"second!", MTIME + 1)
        return first, second

    def test_listed_separately(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        listed = backend.list("d")
        assert [e.path for e in listed] == ["d/dup.txt", "d/dup.txt"]
        assert {e.id for e in listed} == {twins[0].id, twins[1].id}
        assert None not in {e.id for e in listed}
        assert sorted(e.size for e in listed) == [5, 7]
        assert [e.path for e in backend.walk("d")] == ["d/dup.txt", "d/dup.txt"]

    def test_path_addressed_is_ambiguous(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        with pytest.raises(AmbiguousPath):
            backend.stat("d/dup.txt")
        with pytest.raises(AmbiguousPath):
            backend.open_read("d/dup.txt")
        with pytest.raises(AmbiguousPath):
            backend.remove("d/dup.txt")
        with pytest.raises(AmbiguousPath):
            backend.move("d/dup.txt", "elsewhere.txt")
        assert len(backend.list("d")) == 2

    def test_put_is_ambiguous(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        with pytest.raises(AmbiguousPath):
            put_bytes(backend, "d/dup.txt", b"third")
        # both originals are intact
        assert read_all(backend, twins[0]) == b"first"
        assert read_all(backend, twins[1]) == b"second!"

    def test_moving_onto_duplicates_is_ambiguous(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        put_bytes(backend, "other.txt", b"other")
        with pytest.raises(AmbiguousPath):
            backend.move("other.txt", "d/dup.txt")
        assert read_all(backend, "other.txt") == b"other"

    def test_read_by_entry(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        by_id = {e.id: e for e in backend.list("d")}
        assert read_all(backend, by_id[twins[0].id]) == b"first"
        assert read_all(backend, by_id[twins[1].id]) == b"second!"
        assert read_all(backend, twins[1], 3, 2) == b"on"

    def test_remove_by_entry(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        backend.remove(twins[0])
        (left,) = backend.list("d")
        assert left.id == twins[1].id
        # with one object left the path is unambiguous again
        assert backend.stat("d/dup.txt").id == twins[1].id
        assert read_all(backend, "d/dup.txt") == b"second!"

    def test_move_by_entry(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        backend.move(twins[1], "d/renamed.txt")
        assert read_all(backend, "d/renamed.txt") == b"second!"
        assert read_all(backend, "d/dup.txt") == b"first"

    def test_hash_by_entry(self, backend: Backend, twins: tuple[Entry, Entry]) -> None:
        for kind in backend.features.hashes:
            assert backend.hash(twins[0], kind) == hashlib.new(kind.value, b"first").hexdigest()
            assert backend.hash(twins[1], kind) == hashlib.new(kind.value, b"second!").hexdigest()


# -- merging duplicate directories (backends with features.merge_dirs) ---------------------------------------


class TestMergeDirs:
    @pytest.fixture
    def twin_dirs(self, backend: Backend, make_duplicate_dir: MakeDuplicateDir) -> tuple[Entry, Entry]:
        """Two directories both named top/a: the first holds x.txt and sub/deep.txt, the second y.txt and its
        own x.txt."""
        put_bytes(backend, "top/a/x.txt", b"first x")
        put_bytes(backend, "top/a/sub/deep.txt", b"deep")
        put_bytes(backend, "top/b/y.txt", b"y")
        put_bytes(backend, "top/b/x.txt", b"second x")
        (first,) = (e for e in backend.list("top") if e.name == "a")
        second = make_duplicate_dir("top/b", "top/a")
        return first, second

    def test_duplicate_dirs_listed_separately(self, backend: Backend, twin_dirs: tuple[Entry, Entry]) -> None:
        listed = backend.list("top")
        assert [e.path for e in listed] == ["top/a", "top/a"]
        assert {e.id for e in listed} == {twin_dirs[0].id, twin_dirs[1].id}
        with pytest.raises(AmbiguousPath):
            backend.list("top/a")
        walked = sorted(e.path for e in backend.walk("top") if not e.is_dir)
        assert walked == ["top/a/sub/deep.txt", "top/a/x.txt", "top/a/x.txt", "top/a/y.txt"]

    def test_merge_moves_all_into_the_first(self, backend: Backend, twin_dirs: tuple[Entry, Entry]) -> None:
        backend.merge_dirs(list(twin_dirs))
        (kept,) = backend.list("top")
        assert kept.id == twin_dirs[0].id
        listed = backend.list("top/a")
        assert sorted(e.name for e in listed) == ["sub", "x.txt", "x.txt", "y.txt"]
        contents = {read_all(backend, e) for e in listed if e.name == "x.txt"}
        assert contents == {b"first x", b"second x"}
        assert read_all(backend, "top/a/y.txt") == b"y"
        assert read_all(backend, "top/a/sub/deep.txt") == b"deep"
        with pytest.raises(NotFound):  # the emptied directory is gone (for MEGA: in the Rubbish Bin)
            backend.open_read(twin_dirs[1])

    def test_merge_refuses_files(self, backend: Backend, twin_dirs: tuple[Entry, Entry]) -> None:
        put_bytes(backend, "top/f.txt", b"f")
        with pytest.raises(NotADirectory):
            backend.merge_dirs([twin_dirs[0], backend.stat("top/f.txt")])
        assert len(backend.list("top")) == 3


class TestWatch:
    """``watch`` reports a change made under the root while it runs, and returns once ``stop`` is set."""

    def test_a_new_file_is_reported_and_stop_ends_the_watch(self, backend: Backend) -> None:
        if not backend.features.change_notify:
            pytest.skip(f"{backend.type_name}: features.change_notify is False")
        backend.mkdir("watched")
        stop = threading.Event()
        seen = threading.Event()
        heard: list[str] = []

        def notify(path: str) -> None:
            heard.append(path)
            seen.set()

        errors: list[BaseException] = []

        def follow() -> None:
            try:
                backend.watch(notify, stop)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        watcher = threading.Thread(target=follow, daemon=True)
        watcher.start()
        try:
            # the watch may start after the first write: write again until a notice arrives (bounded)
            for attempt in range(20):
                put_bytes(backend, f"watched/new-{attempt}.txt", b"hello")
                if seen.wait(1.0):
                    break
            assert seen.is_set(), "no change reported within 20 s"
        finally:
            stop.set()
            watcher.join(timeout=15)
        assert not watcher.is_alive(), "watch did not return after stop was set"
        assert not errors, errors
        assert all(p == "" or p.startswith("watched") for p in heard), heard
