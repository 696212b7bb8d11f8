"""A restart over the same data directory keeps accounts, sessions, the tree, links and the sn sequence; the
in-process API (add_account, set_faults, context manager) behaves as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from protocol_client import Client

from backends.mega.emulator import AccountExists, Emulator, EmulatorSettings, StoreLocked


def settings(data: Path, **extra: object) -> EmulatorSettings:
    options: dict[str, object] = {"host": "127.0.0.1", "port": 0, "sc_wait": 5, **extra}
    return EmulatorSettings(data_dir=data, **options)  # type: ignore[arg-type]


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    with Emulator(settings(tmp_path)) as emulator:
        user = emulator.add_account("keep@example.com", "pw-keep")
        with Client(emulator.api_url) as client:
            client.login("keep@example.com", "pw-keep")
            tree = client.fetch()
            folder = client.mkdir(tree.root().handle, "kept", req_id="abcdefghij")
            node, _ = client.upload(folder.handle, "kept.bin", b"x" * 1000)
            public = client.call({"a": "l", "n": node.handle})
            sid, master_key, sn = client.sid, client.master_key, tree.sn
            before = client.fetch()
    with Emulator(settings(tmp_path)) as emulator:
        assert emulator.has_account("KEEP@example.com")
        with pytest.raises(AccountExists):
            emulator.add_account("keep@example.com", "other")
        with Client(emulator.api_url, sid=sid, master_key=master_key) as client:
            after = client.fetch()  # the old session still works
            assert client.user_handle == user
            assert [n.raw for n in after.nodes.values()] == [n.raw for n in before.nodes.values()]
            assert after.sn == before.sn and after.raw["ph"] == before.raw["ph"]
            assert client.call({"a": "l", "n": node.handle}) == public  # one public handle per node
            packets = client.poll_sc(sn)  # the packets after the old sn are still there, in order
            assert [p["a"] for p in packets["a"]] == ["t", "t", "ph"]
            assert packets["a"][0]["i"] == "abcdefghij" and packets["sn"] == before.sn


def test_a_data_directory_serves_one_emulator_at_a_time(tmp_path: Path) -> None:
    emulator = Emulator(settings(tmp_path))
    try:
        with pytest.raises(StoreLocked):
            Emulator(settings(tmp_path))
    finally:
        emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(RuntimeError):
        emulator.start()


def test_set_faults_applies_at_once(tmp_path: Path) -> None:
    with Emulator(settings(tmp_path)) as emulator, Client(emulator.api_url) as client:
        emulator.set_faults(eagain_rate=1.0)
        assert client.post_cs([{"a": "us0", "user": "a@b.c"}]).text == "-3"
        emulator.set_faults(eagain_rate=0.0)
        assert client.call({"a": "us0", "user": "a@b.c"})["v"] == 2
        with pytest.raises(ValueError):
            emulator.set_faults(host="0.0.0.0")
        assert emulator.settings.eagain_rate == 0.0


def test_unknown_emails_get_a_stable_salt(tmp_path: Path) -> None:
    with Emulator(settings(tmp_path)) as emulator, Client(emulator.api_url) as client:
        first = client.call({"a": "us0", "user": "nobody@example.com"})
        assert client.call({"a": "us0", "user": "Nobody@Example.com"}) == first
    with Emulator(settings(tmp_path)) as emulator, Client(emulator.api_url) as client:
        assert client.call({"a": "us0", "user": "nobody@example.com"}) == first
        assert client.call({"a": "us0", "user": "somebody@example.com"}) != first


def test_a_taken_port_fails_start_and_frees_the_data_directory(tmp_path: Path) -> None:
    with Emulator(settings(tmp_path / "first")) as running:
        port = int(running.api_url.rsplit(":", 1)[1].rstrip("/"))
        with pytest.raises(OSError), Emulator(settings(tmp_path / "second", port=port)):
            pass
        Emulator(settings(tmp_path / "second")).stop()  # not left locked


def test_a_retried_logout_gets_its_answer_again(tmp_path: Path) -> None:
    with Emulator(settings(tmp_path)) as emulator, Client(emulator.api_url) as client:
        emulator.add_account("bye@example.com", "pw-bye")
        client.login("bye@example.com", "pw-bye")
        assert client.request([{"a": "sml"}], req_id="logout-1") == [0]
        assert client.request([{"a": "sml"}], req_id="logout-1") == [0]  # the lost answer, replayed
        assert client.post_cs([{"a": "sml"}], req_id="logout-2").text == "-15"  # a new request: dead sid
