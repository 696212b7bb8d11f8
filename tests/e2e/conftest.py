"""Fixtures of the end-to-end suite: ``run`` (the installed ``syncer`` in a clean environment), the standard
tree, and ``unprivileged`` (a command prefix under which file modes are enforced even for root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .helpers import STANDARD_DIRS, STANDARD_FILES, Tree, build_tree

if TYPE_CHECKING:
    from .mega_support import Mega

Arg = str | bytes | os.PathLike[str]


def _syncer_executable() -> str:
    beside = Path(sys.executable).parent / "syncer"
    if beside.exists():
        return str(beside)
    found = shutil.which("syncer")
    if found is None:
        pytest.fail("the syncer command is not installed (pip install -e . in this venv)")
    return found


SYNCER = _syncer_executable()


class Runner:
    """Runs ``syncer ARGS`` with HOME, XDG dirs and TZ set for this test only and no SYNCER_* variable.

    The result is a CompletedProcess with text output (undecodable bytes kept as surrogates; the raw bytes are
    on ``stdout_bytes``/``stderr_bytes``).
    """

    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.config_home = base / "xdg-config"
        self.state_home = base / "xdg-state"
        for directory in (self.home, self.config_home, self.state_home):
            directory.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_STATE_HOME": str(self.state_home),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }

    @property
    def default_config(self) -> Path:
        return self.config_home / "syncer" / "config.yaml"

    def __call__(
        self,
        *args: Arg,
        env: Mapping[str, str] | None = None,
        unset: tuple[str, ...] = (),
        prefix: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        environment = {**self.env, **(env or {})}
        for name in unset:
            environment.pop(name, None)
        command = [*prefix, SYNCER, *(a if isinstance(a, bytes) else os.fspath(a) for a in args)]
        raw = subprocess.run(command, capture_output=True, env=environment, cwd=cwd, timeout=60, check=False)
        proc = subprocess.CompletedProcess(
            raw.args,
            raw.returncode,
            raw.stdout.decode("utf-8", "surrogateescape"),
            raw.stderr.decode("utf-8", "surrogateescape"),
        )
        proc.stdout_bytes = raw.stdout  # type: ignore[attr-defined]
        proc.stderr_bytes = raw.stderr  # type: ignore[attr-defined]
        return proc


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    """``run("ls", path)`` -> CompletedProcess; see Runner."""
    return Runner(tmp_path / "env")


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """The standard tree (helpers.STANDARD_FILES plus an empty directory) under tmp_path/"t"."""
    return build_tree(tmp_path / "t", STANDARD_FILES, STANDARD_DIRS)


def _userns_prefix(probe_dir: Path) -> tuple[tuple[str, ...] | None, str]:
    """The prefix that makes file modes apply, or None and why there is none."""
    if os.geteuid() != 0:
        return (), "not root"
    unshare = shutil.which("unshare")
    if unshare is None:
        return None, "running as root, and unshare (util-linux) is not installed"
    secret = probe_dir / "mode000"
    secret.write_bytes(b"secret")
    secret.chmod(0)
    try:
        probe = subprocess.run(
            [unshare, "--user", "cat", str(secret)], capture_output=True, timeout=30, check=False
        )
    except OSError as exc:
        return None, f"running as root, and unshare --user cannot start: {exc}"
    finally:
        secret.chmod(0o600)
    if probe.returncode == 0:
        return None, "running as root, and file modes do not apply even under unshare --user"
    if b"ermission denied" not in probe.stderr:
        return None, f"running as root, and unshare --user fails: {probe.stderr.decode(errors='replace')}"
    return (unshare, "--user"), ""


@pytest.fixture(scope="session")
def _userns(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[str, ...] | None, str]:
    return _userns_prefix(tmp_path_factory.mktemp("userns-probe"))


@pytest.fixture
def unprivileged(_userns: tuple[tuple[str, ...] | None, str]) -> tuple[str, ...]:
    """A command prefix under which a mode-000 file cannot be read (empty when not root); skips if none."""
    prefix, reason = _userns
    if prefix is None:
        pytest.skip(f"cannot make file modes apply: {reason}")
    return prefix


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A MEGA emulator on 127.0.0.1 in this process, one per test module (real HTTP, real crypto)."""
    from backends.mega.emulator import Emulator, EmulatorSettings

    started = Emulator(EmulatorSettings(data_dir=tmp_path_factory.mktemp("mega-e2e"), seed=7))
    started.start()
    yield started
    started.stop()


@pytest.fixture
def mega(emulator: Any, run: Runner) -> Mega:
    """A fresh account on the module's emulator, as remote ``emu:`` of ``run``."""
    from .mega_support import mega_remote

    return mega_remote(emulator, run)
