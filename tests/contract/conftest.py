"""Backend factories for the conformance suite: every test in tests/contract runs once per factory.

Adding a backend to the suite means adding one factory to FACTORIES. A factory gets an empty pytest
``tmp_path`` and returns a ``Harness``: the backend, rooted at an existing empty directory, plus what the
suite cannot learn from ``Features`` (how to make duplicate names, whether the storage folds Unicode
normalization, whether ``about`` counts only what the test stored).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backends.base import Backend, Entry

#: Makes one more file named ``path`` even if objects already have that name: (path, data, mtime_ns).
MakeDuplicate = Callable[[str, bytes, int], Entry]
#: Renames the directory ``source`` to ``path`` (same parent) even if a directory already has that name, as
#: another client of a duplicate-names store may: (source, path) -> the renamed directory's Entry.
MakeDuplicateDir = Callable[[str, str], Entry]


@dataclass(frozen=True)
class Harness:
    """A backend under test and the backend-specific knowledge the suite needs about it."""

    backend: Backend
    #: Required when ``backend.features.duplicate_names``.
    make_duplicate: MakeDuplicate | None = None
    #: Required when ``backend.features.merge_dirs``.
    make_duplicate_dir: MakeDuplicateDir | None = None
    #: The storage treats NFC and NFD spellings of a name as the same name (macOS disks, say).
    normalizes_unicode: bool = False
    #: ``about().used``/``objects`` count exactly the files this test stored (a private store).
    exact_usage: bool = False


def _local(tmp_path: Path, request: pytest.FixtureRequest) -> Harness:
    from backends.local import LocalBackend

    root = tmp_path / "root"
    root.mkdir()
    # ask the disk itself whether it folds normalization: the answer depends on the filesystem, not the OS
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / unicodedata.normalize("NFC", "é")).touch()
    folds = (probe / unicodedata.normalize("NFD", "é")).exists()
    return Harness(
        backend=LocalBackend("", str(root), LocalBackend.Options()),
        normalizes_unicode=folds,
    )


def _memory(tmp_path: Path, request: pytest.FixtureRequest) -> Harness:
    from backends.memory import MemoryBackend, MemoryStore

    # a root below the store's top exercises the root scoping of every operation
    backend = MemoryBackend("mem", "contract/root", store=MemoryStore())
    backend.mkdir("")
    return Harness(
        backend=backend,
        make_duplicate=backend.add_duplicate,
        make_duplicate_dir=backend.add_duplicate_dir,
        exact_usage=True,
    )


def _mega(tmp_path: Path, request: pytest.FixtureRequest) -> Harness:
    """A fresh folder of the session's account on its MEGA emulator (real sockets, real crypto).

    The account and its state dir are shared by the session, as by the runs of one user: each test resumes
    the cached session and tree (no login, no ``f``) and works in a folder of its own.
    """
    import io
    import secrets

    from backends import paths
    from backends.mega.backend import MegaBackend

    options = request.getfixturevalue("mega_options")
    backend = MegaBackend("emu", f"contract/{secrets.token_hex(6)}", options)
    backend.mkdir("")

    def make_duplicate(path: str, data: bytes, mtime_ns: int) -> Entry:
        """An upload attached beside whatever already has that name, as another MEGA client may do."""
        folder = backend._make_dirs(path.split("/")[:-1], path)
        account = backend.account
        uploaded = account.transfers.upload(account.upload_url(len(data)), io.BytesIO(data), len(data), path)
        node = account.attach_upload(
            folder.handle, paths.basename(path), uploaded, mtime_ns // 10**9, replaces=None
        )
        return backend._entry(node, path)

    def make_duplicate_dir(source: str, path: str) -> Entry:
        """A folder renamed with ``a`` to a name another folder has (MEGA does not check names)."""
        node = backend.account.set_attributes(backend._dir(source), {"n": paths.basename(path)})
        return backend._entry(node, path)

    return Harness(backend=backend, make_duplicate=make_duplicate, make_duplicate_dir=make_duplicate_dir)


@pytest.fixture(scope="session")
def mega_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """One MEGA emulator for the whole run: (the Emulator, its API URL)."""
    from backends.mega.emulator import Emulator, EmulatorSettings

    settings = EmulatorSettings(data_dir=tmp_path_factory.mktemp("contract-mega"), host="127.0.0.1", port=0)
    emulator = Emulator(settings)
    api_url = emulator.start()
    yield emulator, api_url
    emulator.stop()


@pytest.fixture(scope="session")
def mega_options(mega_emulator: tuple[Any, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Options of a ``mega`` remote for one account on the session's emulator."""
    import secrets

    from backends.mega.backend import MegaOptions
    from backends.secret_values import Secret

    emulator, api_url = mega_emulator
    email = f"contract-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(12)
    emulator.add_account(email, password, version=2)
    state = tmp_path_factory.mktemp("contract-mega-state")
    return MegaOptions(user=email, password=Secret(password), api_url=api_url, state_dir=str(state))


FACTORIES: dict[str, Callable[[Path, pytest.FixtureRequest], Harness]] = {
    "local": _local,
    "memory": _memory,
    "mega": _mega,
}

_HARNESS = pytest.StashKey[Harness]()


@pytest.fixture(params=sorted(FACTORIES))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty backend of each kind in FACTORIES (the test id names the kind)."""
    harness = FACTORIES[request.param](tmp_path, request)
    request.node.stash[_HARNESS] = harness
    with harness.backend as opened:
        yield opened


@pytest.fixture
def harness(backend: Backend, request: pytest.FixtureRequest) -> Harness:
    """The Harness that made ``backend``."""
    made: Harness = request.node.stash[_HARNESS]
    return made


@pytest.fixture
def make_duplicate(harness: Harness) -> MakeDuplicate:
    """The factory's duplicate maker; skips where the backend cannot hold duplicate names."""
    if not harness.backend.features.duplicate_names:
        pytest.skip(f"{harness.backend.type_name}: features.duplicate_names is False")
    assert harness.make_duplicate is not None, (
        "a factory for duplicate_names backends must supply make_duplicate"
    )
    return harness.make_duplicate


@pytest.fixture
def make_duplicate_dir(harness: Harness) -> MakeDuplicateDir:
    """The factory's duplicate-directory maker; skips where the backend cannot merge directories."""
    if not harness.backend.features.merge_dirs:
        pytest.skip(f"{harness.backend.type_name}: features.merge_dirs is False")
    assert harness.make_duplicate_dir is not None, "merge_dirs backends' factories supply make_duplicate_dir"
    return harness.make_duplicate_dir


@pytest.fixture
def normalizes_unicode(harness: Harness) -> bool:
    return harness.normalizes_unicode


@pytest.fixture
def exact_usage(harness: Harness) -> bool:
    return harness.exact_usage
