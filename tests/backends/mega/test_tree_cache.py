"""``backends.mega.tree_cache``: the node tree snapshot on disk, read back exactly, private, and never trusted
when damaged (the tree is then fetched anew). No server needed: trees are built from nodes directly."""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.mega.nodes import FILE, FOLDER, ROOT, RUBBISH, Node, NodeTree
from backends.mega.tree_cache import TreeCache

API = "http://127.0.0.1:1/"


def _tree(sn: str = "sn-1") -> NodeTree:
    tree = NodeTree(sn)
    tree.add(Node("ROOT0001", "", ROOT, "", -1, 100, b"", "", None))
    tree.add(Node("RUBB0001", "", RUBBISH, "", -1, 100, b"", "", None))
    tree.add(Node("FOLD0001", "ROOT0001", FOLDER, "docs", -1, 200, bytes(range(16)), "attrs-f", None))
    tree.add(Node("FILE0001", "FOLD0001", FILE, "a.txt", 5, 300, bytes(range(32)), "attrs-1", 1_700_000_000))
    tree.add(Node("FILE0002", "FOLD0001", FILE, "a.txt", 7, 301, bytes(range(1, 33)), "attrs-2", None))
    tree.add(Node("FILE0003", "ROOT0001", FILE, "bad\udcffname/x", 0, 302, bytes(32), "attrs-3", 5))
    return tree


def _rows(tree: NodeTree) -> dict[str, tuple[object, ...]]:
    return {handle: node.row() for handle, node in tree.nodes.items()}


def _cache(tmp_path: Path) -> TreeCache:
    return TreeCache(tmp_path / "state", API, "user-handle")


def test_a_saved_tree_loads_back_exactly(tmp_path: Path) -> None:
    tree = _tree()
    _cache(tmp_path).save(tree, share_keys={"FOLD0001": b"k" * 16})
    loaded_by = _cache(tmp_path)
    loaded = loaded_by.load()
    assert loaded is not None
    assert loaded.sn == "sn-1" and (loaded.root, loaded.rubbish) == ("ROOT0001", "RUBB0001")
    assert _rows(loaded) == _rows(tree)
    assert loaded.children == tree.children  # duplicates stay separate entries under one name
    assert [n.handle for n in loaded.named("FOLD0001", "a.txt")] == ["FILE0001", "FILE0002"]
    assert loaded_by.share_keys == {"FOLD0001": b"k" * 16}
    assert not loaded.dirty and not loaded.removed  # nothing to write back after a load


def test_the_file_and_its_directory_are_private(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.save(_tree())
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700


def test_an_unchanged_tree_is_not_written_again_and_a_changed_one_is(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    tree = _tree()
    cache.save(tree)
    first = cache.path.stat().st_ino
    cache.save(tree)
    assert cache.path.stat().st_ino == first  # the same file: no rewrite
    tree.remove("FILE0002")
    cache.save(tree)
    assert cache.path.stat().st_ino != first
    loaded = _cache(tmp_path).load()
    assert loaded is not None and "FILE0002" not in loaded.nodes and "FILE0001" in loaded.nodes


def test_a_new_sequence_number_alone_is_written(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    tree = _tree()
    cache.save(tree)
    tree.sn = "sn-2"  # caught up from packets that changed nothing here
    cache.save(tree)
    loaded = _cache(tmp_path).load()
    assert loaded is not None and loaded.sn == "sn-2"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-10] + bytes(10), id="body-changed"),
        pytest.param(lambda data: b"SQLite format 3\0" + data[16:], id="other-format"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_a_damaged_file_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object
) -> None:
    cache = _cache(tmp_path)
    cache.save(_tree())
    cache.path.write_bytes(damage(cache.path.read_bytes()))  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="backends.mega.tree_cache"):
        assert _cache(tmp_path).load() is None
    assert "ignoring unusable MEGA tree cache" in caplog.text


def test_no_file_means_no_tree(tmp_path: Path) -> None:
    assert _cache(tmp_path).load() is None


def test_forget_removes_the_snapshot_and_an_older_database(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.save(_tree())
    stem = cache.path.with_suffix("")
    legacy = [Path(f"{stem}.sqlite"), Path(f"{stem}.sqlite-wal")]
    for path in legacy:
        path.write_bytes(b"old")
    cache.forget()
    assert not cache.path.exists() and not any(p.exists() for p in legacy)
    cache.forget()  # twice is fine
    assert cache.load() is None


def test_the_first_save_replaces_an_older_database(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.directory.mkdir(parents=True)
    legacy = Path(f"{cache.path.with_suffix('')}.sqlite")
    legacy.write_bytes(b"old")
    cache.save(_tree())
    assert not legacy.exists() and cache.path.exists()


def test_accounts_and_endpoints_have_separate_files(tmp_path: Path) -> None:
    state = tmp_path / "state"
    paths = {
        TreeCache(state, API, "one").path,
        TreeCache(state, API.rstrip("/"), "one").path,  # the same endpoint
        TreeCache(state, API, "two").path,
        TreeCache(state, "http://127.0.0.1:2/", "one").path,
    }
    assert len(paths) == 3


def test_a_failed_write_keeps_the_previous_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(tmp_path)
    cache.save(_tree())
    before = cache.path.read_bytes()
    changed = _tree("sn-9")

    def disk_full(path: object, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("backends.mega.tree_cache.write_private", disk_full)
    with caplog.at_level(logging.WARNING, logger="backends.mega.tree_cache"):
        cache.save(changed)
    assert "could not write the MEGA tree cache" in caplog.text
    assert cache.path.read_bytes() == before
    assert changed.dirty  # still to be written by a later save


#: any text, with the characters MEGA names may hold and paths may not ('/', NUL, invalid UTF-8)
names = st.text(st.characters(blacklist_categories=("Cc",)) | st.sampled_from(["/", "\x00", "\udcff"]))


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(
        st.tuples(names, st.integers(-1, 2**53), st.one_of(st.none(), st.integers(0, 2**40))), max_size=12
    )
)
def test_any_names_sizes_and_times_round_trip(
    tmp_path_factory: pytest.TempPathFactory, entries: list[tuple[str, int, int | None]]
) -> None:
    tree = NodeTree("sn")
    tree.add(Node("ROOT0001", "", ROOT, "", -1, 1, b"", "", None))
    for i, (name, size, mtime) in enumerate(entries):
        tree.add(Node(f"H{i:07d}", "ROOT0001", FILE, name, size, i, os.urandom(32), f"a{i}", mtime))
    cache = TreeCache(tmp_path_factory.mktemp("state"), API, "u")
    cache.save(tree)
    loaded = TreeCache(cache.directory.parent.parent, API, "u").load()
    assert loaded is not None and _rows(loaded) == _rows(tree) and loaded.children == tree.children
