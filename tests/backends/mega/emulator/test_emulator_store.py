"""The emulator's SQLite store: schema, WAL, one user per data directory, transactions and their hooks."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from backends.mega.emulator.store import Store, StoreLocked


def test_creates_a_private_data_directory_with_wal(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    try:
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        assert (tmp_path / "data" / "bodies").is_dir()
        with store.transaction() as tx:
            assert tx.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            tables = {row[0] for row in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {
            "accounts",
            "sessions",
            "nodes",
            "share_keys",
            "links",
            "shares",
            "uploads",
            "packets",
        } <= tables
    finally:
        store.close()


def test_data_survives_a_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction() as tx:
        Store.set_meta(tx, "answer", "42")
    store.close()
    again = Store(tmp_path)
    try:
        with again.transaction() as tx:
            assert Store.get_meta(tx, "answer") == "42"
            assert Store.get_meta(tx, "schema") == "1"
    finally:
        again.close()


def test_one_emulator_per_data_directory(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(StoreLocked):
        Store(tmp_path)
    store.close()
    Store(tmp_path).close()  # free again once closed


def test_a_failed_transaction_rolls_back_and_skips_its_hooks(tmp_path: Path) -> None:
    store = Store(tmp_path)
    ran: list[str] = []
    try:
        with pytest.raises(RuntimeError), store.transaction() as tx:
            Store.set_meta(tx, "k", "rolled back")
            tx.after_commit(lambda: ran.append("failed"))
            raise RuntimeError("boom")
        with store.transaction() as tx:
            assert Store.get_meta(tx, "k") is None
            tx.after_commit(lambda: ran.append("committed"))
        assert ran == ["committed"]
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".", "x" * 65])
def test_body_paths_stay_inside_the_bodies_directory(tmp_path: Path, bad: str) -> None:
    store = Store(tmp_path)
    try:
        with pytest.raises(ValueError):
            store.body_path(bad)
        assert store.body_path("abc_-DEF").parent == tmp_path / "bodies"
    finally:
        store.close()


def test_close_is_idempotent(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.close()
    store.close()
