"""Fixtures of the emulator's protocol suite: a running emulator (per module, or per test with its own
settings), a fresh account per test, logged-in clients, and ``rclone`` bound to that account.

Every server listens on 127.0.0.1 with port 0 and keeps its data under the test's tmp dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from protocol_client import Account, Client, Server, StartServer, new_account

RCLONE = str(Path(sys.executable).parent / "rclone")


def _start(data_dir: Path, **settings: Any) -> Server:
    # imported here so that the crypto tests in this directory do not depend on the emulator
    from backends.mega.emulator import Emulator, EmulatorSettings

    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "seed": 1234, **settings}
    emulator = Emulator(EmulatorSettings(data_dir=data_dir, **options))
    return Server(emulator, emulator.start())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One emulator for the whole test module, default settings (no faults)."""
    started = _start(tmp_path_factory.mktemp("mega-emulator"), sc_wait=20)
    yield started
    started.emulator.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Starts emulators with the given settings for this test only; all are stopped at teardown."""
    started: list[Server] = []

    def start(**settings: Any) -> Server:
        one = _start(tmp_path / f"emulator-{len(started)}", **settings)
        started.append(one)
        return one

    yield start
    for one in started:
        one.emulator.stop()


@pytest.fixture
def account(server: Server) -> Account:
    return new_account(server)


@pytest.fixture
def client(server: Server, account: Account) -> Iterator[Client]:
    """A client logged in to ``account``."""
    with server.client() as logged_in:
        logged_in.login(account.email, account.password)
        yield logged_in


def rclone_obscure(secret: str) -> str:
    """``rclone obscure -``: the secret goes in on stdin, never on the command line."""
    done = subprocess.run([RCLONE, "obscure", "-"], input=secret, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Rclone:
    """rclone with one MEGA remote ``emu:`` configured through the environment only."""

    env: dict[str, str]

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [RCLONE, *args], env=self.env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"rclone {' '.join(args)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}"
            )
        return done


@pytest.fixture
def rclone(server: Server, account: Account, tmp_path: Path) -> Rclone:
    """rclone whose remote ``emu:`` is ``account`` on ``server`` (go-mega reads ``X_MEGA_API_URL``)."""
    config = tmp_path / "rclone.conf"
    config.write_text("")
    home = tmp_path / "rclone-home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "RCLONE_CONFIG": str(config),
        "RCLONE_CONFIG_EMU_TYPE": "mega",
        "RCLONE_CONFIG_EMU_USER": account.email,
        "RCLONE_CONFIG_EMU_PASS": rclone_obscure(account.password),
        # go-mega appends "/cs?id=..." to this value itself
        "X_MEGA_API_URL": server.api_url.rstrip("/"),
    }
    return Rclone(env)
