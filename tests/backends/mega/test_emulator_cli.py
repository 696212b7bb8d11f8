"""``syncer mega-emulator`` as a process: it prints its API URL, serves logins over HTTP, keeps its data
directory, stops cleanly on SIGINT/SIGTERM, and never prints a password.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from protocol_client import Client

pytestmark = pytest.mark.timeout(60)

API_URL = re.compile(r"https?://127\.0\.0\.1:\d+/?")


def emulator_command() -> list[str]:
    """``syncer mega-emulator`` from this venv."""
    beside = Path(sys.executable).parent / "syncer"
    syncer = str(beside) if beside.exists() else shutil.which("syncer")
    assert syncer is not None, "the syncer command is not installed (pip install -e . in this venv)"
    return [syncer, "mega-emulator"]


@dataclass
class Running:
    """A started emulator process; its output is collected by reader threads."""

    process: subprocess.Popen[bytes]
    lines: queue.Queue[tuple[str, bytes]] = field(default_factory=queue.Queue)
    output: list[bytes] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def api_url(self, timeout: float = 20) -> str:
        """The first API URL the process prints (stdout or stderr)."""
        while True:
            try:
                _stream, line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no API URL printed; output so far: {b''.join(self.output)!r}"
                ) from None
            if not line:
                if self.process.poll() is not None:
                    raise AssertionError(f"exited {self.process.returncode}: {b''.join(self.output)!r}")
                continue
            found = API_URL.search(line.decode("utf-8", "replace"))
            if found:
                return found.group(0)

    def stop(self, sig: int) -> tuple[int, bytes]:
        """Send ``sig``, wait for the exit; returns (exit code, everything printed)."""
        self.process.send_signal(sig)
        code = self.process.wait(timeout=20)
        for thread in self.readers:
            thread.join(5)
        return code, b"".join(self.output)


def start(args: list[str], env: dict[str, str]) -> Running:
    process = subprocess.Popen(
        [*emulator_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    running = Running(process)

    def pump(name: str, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            running.output.append(line)
            running.lines.put((name, line))
        running.lines.put((name, b""))

    for name, stream in (("stdout", process.stdout), ("stderr", process.stderr)):
        thread = threading.Thread(target=pump, args=(name, stream), daemon=True)
        thread.start()
        running.readers.append(thread)
    return running


@pytest.fixture
def launched() -> Iterator[list[Running]]:
    """Processes started by a test; any still running at teardown are killed."""
    processes: list[Running] = []
    yield processes
    for running in processes:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(10)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serves_logins_and_stops_cleanly(tmp_path: Path, launched: list[Running], sig: int) -> None:
    email = "cli-user@example.com"
    password = f"cli-{secrets.token_urlsafe(16)}"
    data = tmp_path / "data"
    running = start(
        ["--data", str(data), "--port", "0", "--user", f"{email}:{password}"], clean_env(tmp_path)
    )
    launched.append(running)
    api_url = running.api_url()
    with Client(api_url) as client:
        client.login(email, password)
        root = client.fetch().root().handle
        client.mkdir(root, "kept across restarts")
    code, output = running.stop(sig)
    assert code == 0, output
    assert password.encode() not in output

    # the data directory keeps the account and its tree
    again = start(["--data", str(data), "--port", "0"], clean_env(tmp_path))
    launched.append(again)
    with Client(again.api_url()) as client:
        client.login(email, password)
        assert [n.name for n in client.fetch().named("kept across restarts")] == ["kept across restarts"]
    code, output = again.stop(signal.SIGTERM)
    assert code == 0 and password.encode() not in output


def test_cli_takes_the_password_from_the_environment_via_config(
    tmp_path: Path, launched: list[Running]
) -> None:
    email = "config-user@example.com"
    password = f"env-{secrets.token_urlsafe(16)}"
    config = tmp_path / "emulator.yaml"
    config.write_text(f'accounts:\n  - email: {email}\n    password: "${{MEGA_EMULATOR_TEST_PASSWORD}}"\n')
    env = clean_env(tmp_path, MEGA_EMULATOR_TEST_PASSWORD=password)
    running = start(["--data", str(tmp_path / "data"), "--port", "0", "--config", str(config)], env)
    launched.append(running)
    with Client(running.api_url()) as client:
        client.login(email, password)
        assert client.call({"a": "ug"})["email"] == email
    code, output = running.stop(signal.SIGINT)
    assert code == 0 and password.encode() not in output
    assert password not in config.read_text()


def test_cli_fault_flags_reach_the_server(tmp_path: Path, launched: list[Running]) -> None:
    running = start(
        ["--data", str(tmp_path / "data"), "--port", "0", "--eagain-rate", "1", "--seed", "7"],
        clean_env(tmp_path),
    )
    launched.append(running)
    with Client(running.api_url()) as client:
        assert client.post_cs([{"a": "us0", "user": "x@example.com"}]).text == "-3"
    code, _ = running.stop(signal.SIGTERM)
    assert code == 0
