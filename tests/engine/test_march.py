"""syncer.march over real backends: which pairs come out, in what order, what is reported and left alone."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from backends import Backend, Entry
from backends.errors import DirNotFound, NotADirectory
from backends.local import LocalBackend
from backends.memory import MemoryBackend
from filters import Filter, FilterOptions
from syncer.accounting import Stats
from syncer.march import Match, march

T = 1_700_000_000_123_456_789

Factory = Callable[[str], Backend]


@pytest.fixture(params=["memory", "local"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """``make("src")`` -> an empty backend of the parametrized kind whose root does not exist yet."""
    if request.param == "memory":
        return lambda name: MemoryBackend(name, name)
    return lambda name: LocalBackend("", str(tmp_path / name))


def put(backend: Backend, path: str, data: bytes = b"x") -> None:
    backend.put(path, io.BytesIO(data), size=len(data), mtime_ns=T)


def fill(backend: Backend, files: Iterable[str], dirs: Iterable[str] = ()) -> Backend:
    backend.mkdir("")
    for path in dirs:
        backend.mkdir(path)
    for path in files:
        put(backend, path)
    return backend


def pairs(matches: Iterable[Match]) -> list[tuple[str, str, str]]:
    """(path, src kind, dst kind), a kind being 'f', 'd' or '-'."""

    def kind(e: Entry | None) -> str:
        return "-" if e is None else ("d" if e.is_dir else "f")

    return [(m.path, kind(m.src), kind(m.dst)) for m in matches]


def test_pairs_both_sides_in_order(make: Factory) -> None:
    src = fill(make("src"), ["b.txt", "a/1.txt", "a/2.txt", "c/deep/x.txt", "z.txt"])
    dst = fill(make("dst"), ["b.txt", "a/2.txt", "a/3.txt", "y.txt"], dirs=["e"])
    stats = Stats()
    result = pairs(march(src, dst, stats=stats))
    assert stats.errors == 0
    assert sorted(result) == sorted(
        [
            ("a", "d", "d"),
            ("a/1.txt", "f", "-"),
            ("a/2.txt", "f", "f"),
            ("a/3.txt", "-", "f"),
            ("b.txt", "f", "f"),
            ("c", "d", "-"),
            ("c/deep", "d", "-"),
            ("c/deep/x.txt", "f", "-"),
            ("e", "-", "d"),
            ("y.txt", "-", "f"),
            ("z.txt", "f", "-"),
        ]
    )
    paths = [p for p, _, _ in result]
    assert len(paths) == len(set(paths)), "each path once"
    # parents before children
    for i, path in enumerate(paths):
        if "/" in path:
            assert path.rsplit("/", 1)[0] in paths[:i], f"{path} came before its parent"
    # each directory's names in sorted order
    by_parent: dict[str, list[str]] = {}
    for path in paths:
        parent, _, name = path.rpartition("/")
        by_parent.setdefault(parent, []).append(name)
    for parent, names in by_parent.items():
        assert names == sorted(names), f"{parent or 'root'}: {names}"


def test_the_entries_are_the_backends_own(make: Factory) -> None:
    src = fill(make("src"), ["f.txt"])
    dst = fill(make("dst"), ["f.txt"])
    (match,) = march(src, dst, stats=Stats())
    assert match.src == src.stat("f.txt")
    assert match.dst == dst.stat("f.txt")


@pytest.mark.parametrize("side", ["src", "dst"])
def test_one_sided_subtrees_are_walked(make: Factory, side: str) -> None:
    full = fill(make("full"), ["top.txt", "only/a.txt", "only/deeper/b.txt", "only/deeper/deepest/c.txt"])
    empty = fill(make("empty"), ["top.txt"])
    src, dst = (full, empty) if side == "src" else (empty, full)
    result = pairs(march(src, dst, stats=Stats()))
    one = ("d", "-") if side == "src" else ("-", "d")
    one_file = ("f", "-") if side == "src" else ("-", "f")
    assert sorted(result) == sorted(
        [
            ("only", *one),
            ("only/a.txt", *one_file),
            ("only/deeper", *one),
            ("only/deeper/b.txt", *one_file),
            ("only/deeper/deepest", *one),
            ("only/deeper/deepest/c.txt", *one_file),
            ("top.txt", "f", "f"),
        ]
    )


def test_missing_destination_root_is_empty(make: Factory) -> None:
    src = fill(make("src"), ["a.txt", "d/b.txt"])
    dst = make("never/made")
    stats = Stats()
    assert pairs(march(src, dst, stats=stats)) == [
        ("a.txt", "f", "-"),
        ("d", "d", "-"),
        ("d/b.txt", "f", "-"),
    ]
    assert stats.errors == 0


def test_missing_source_root_is_dir_not_found(make: Factory) -> None:
    dst = fill(make("dst"), ["a.txt"])
    with pytest.raises(DirNotFound):
        list(march(make("absent"), dst, stats=Stats()))


def test_source_root_that_is_a_file_is_not_a_directory(make: Factory) -> None:
    parent = fill(make("p"), ["file.txt"])
    src = parent.with_root(
        f"{parent.root}/file.txt"
        if isinstance(parent, MemoryBackend)
        else os.path.join(parent.root, "file.txt")
    )
    with pytest.raises(NotADirectory):
        list(march(src, make("dst"), stats=Stats()))


def test_empty_source_and_destination(make: Factory) -> None:
    assert list(march(fill(make("src"), []), fill(make("dst"), []), stats=Stats())) == []


@pytest.mark.parametrize(
    ("src_kind", "dst_kind"), [("file", "dir"), ("dir", "file")], ids=["file-over-dir", "dir-over-file"]
)
def test_file_versus_directory_is_reported_and_skipped(make: Factory, src_kind: str, dst_kind: str) -> None:
    def build(name: str, kind: str) -> Backend:
        backend = fill(make(name), ["ok.txt"])
        if kind == "file":
            put(backend, "clash")
        else:
            put(backend, "clash/inside.txt")
        return backend

    stats = Stats()
    result = pairs(march(build("src", src_kind), build("dst", dst_kind), stats=stats))
    assert result == [("ok.txt", "f", "f")], "the clash is neither paired nor walked into"
    assert stats.errors == 1
    assert "clash" in str(stats.last_error)


def test_skip_root_names_hides_them_on_both_sides_at_the_top_only(make: Factory) -> None:
    src = fill(make("src"), ["a.txt", ".debris/x.txt", "sub/.debris/kept.txt"])
    dst = fill(make("dst"), [".debris/2024-01-01/old.txt", "a.txt"])
    result = pairs(march(src, dst, stats=Stats(), skip_root_names=frozenset({".debris"})))
    assert sorted(result) == sorted(
        [
            ("a.txt", "f", "f"),
            ("sub", "d", "-"),
            ("sub/.debris", "d", "-"),
            ("sub/.debris/kept.txt", "f", "-"),
        ]
    )


def test_keep_filters_both_sides(make: Factory) -> None:
    src = fill(make("src"), ["a.txt", "b.log", "logs/c.log", "logs/d.txt"])
    dst = fill(make("dst"), ["e.log", "f.txt"])
    result = pairs(march(src, dst, stats=Stats(), rules=Filter(FilterOptions(exclude=("*.log",)))))
    assert sorted(result) == sorted(
        [("a.txt", "f", "-"), ("f.txt", "-", "f"), ("logs", "d", "-"), ("logs/d.txt", "f", "-")]
    )


# -- duplicate names (memory only: it allows them, as MEGA does) ---------------------------------------------


def _memory_pair() -> tuple[MemoryBackend, MemoryBackend]:
    src, dst = MemoryBackend("src", "src"), MemoryBackend("dst", "dst")
    for backend in (src, dst):
        fill(backend, ["ok.txt", "sub/ok.txt"])
    return src, dst


def test_duplicates_on_the_source_are_reported_and_skipped() -> None:
    src, dst = _memory_pair()
    src.add_duplicate("twice.txt", b"one", T)
    src.add_duplicate("twice.txt", b"two", T)
    src.add_duplicate("sub/dup.txt", b"one", T)
    src.add_duplicate("sub/dup.txt", b"two", T)
    stats = Stats()
    result = pairs(march(src, dst, stats=stats))
    assert sorted(result) == [("ok.txt", "f", "f"), ("sub", "d", "d"), ("sub/ok.txt", "f", "f")]
    assert stats.errors == 2
    assert "duplicate" in str(stats.last_error)


def test_duplicates_on_the_destination_are_reported_and_skipped() -> None:
    src, dst = _memory_pair()
    dst.add_duplicate("twice.txt", b"one", T)
    dst.add_duplicate("twice.txt", b"two", T)
    stats = Stats()
    result = pairs(march(src, dst, stats=stats))
    assert sorted(result) == [("ok.txt", "f", "f"), ("sub", "d", "d"), ("sub/ok.txt", "f", "f")]
    assert stats.errors == 1


def test_a_name_duplicated_on_the_source_leaves_the_destinations_file_alone() -> None:
    """Skipped means skipped on both sides: were the destination's single ``twice.txt`` paired with nothing, a
    sync would delete it, and a copy of the source's other name would clash with a duplicate."""
    src, dst = _memory_pair()
    src.add_duplicate("twice.txt", b"one", T)
    src.add_duplicate("twice.txt", b"two", T)
    put(dst, "twice.txt", b"the destination's own")
    stats = Stats()
    result = pairs(march(src, dst, stats=stats))
    assert "twice.txt" not in [p for p, _, _ in result], result
    assert stats.errors == 1


def test_a_name_duplicated_on_the_destination_is_not_copied_onto() -> None:
    src, dst = _memory_pair()
    put(src, "twice.txt", b"the source's")
    dst.add_duplicate("twice.txt", b"one", T)
    dst.add_duplicate("twice.txt", b"two", T)
    stats = Stats()
    result = pairs(march(src, dst, stats=stats))
    assert "twice.txt" not in [p for p, _, _ in result], result
    assert stats.errors == 1
