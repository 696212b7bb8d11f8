"""An independent MEGA client against the emulator: mega.py 1.0.8 (PyPI ``mega.py``), in its own virtualenv.

``clients/megapy_interop.py`` logs in (v1 and v2 accounts), creates folders, uploads, lists with
``get_files``, downloads (mega.py checks the MAC), renames, moves, trashes, destroys, reads the quota, exports
a file link (info, download, import) and a folder link. mega.py has no API URL option, so the script swaps the
``requests`` name inside ``mega.mega`` for one that sends ``/cs`` to the emulator. The protocol client then
checks what mega.py stored.

mega.py pins tenacity 5 (which does not import on Python 3.11) and the ``pathlib`` backport (which shadows the
standard library), so it lives in ``clients/.venv-megapy``, installed without its declared dependencies::

    python3 -m venv tests/backends/mega/clients/.venv-megapy
    tests/backends/mega/clients/.venv-megapy/bin/python -m pip install \\
        'pycryptodome>=3.9.6,<4' 'requests>=2.31,<3' 'tenacity>=8.2,<10'
    tests/backends/mega/clients/.venv-megapy/bin/python -m pip install --no-deps mega.py==1.0.8

Known mega.py 1.0.8 bugs (``shared/mega-protocol.md`` section 13), asserted so that a change shows up: an
upload whose last chunk holds 1..16 bytes of a file over 16 bytes (131073 here) dies with IndexError before
``p``, and so does every 0-byte download (its MAC loop never runs). mega.py also decodes attributes as
Latin-1, so names other clients store as UTF-8 come out garbled, and its folder export wraps only the folder's
own key for the share (``cr``), so link visitors cannot decrypt anything inside.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from protocol_client import Account, Client, Server, StartServer, meta_mac_of, new_account

from backends.mega import crypto

CLIENTS = Path(__file__).parent / "clients"
SCRIPT = CLIENTS / "megapy_interop.py"
PYTHON = CLIENTS / ".venv-megapy" / "bin" / "python"
#: file size -> the step where mega.py 1.0.8 fails on its own (see the module docstring)
MEGAPY_BUGS = {"0": "download", "131073": "upload"}

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def megapy_python() -> Path:
    """The interpreter of the mega.py virtualenv, once mega.py 1.0.8 imports there."""
    if not PYTHON.is_file():
        pytest.fail(
            f"mega.py is not installed: create {PYTHON.parent.parent} as this module's docstring says"
        )
    probe = subprocess.run(
        [str(PYTHON), "-c", "import importlib.metadata as m, mega.mega; print(m.version('mega.py'))"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0 or probe.stdout.strip() != "1.0.8":
        pytest.fail(f"mega.py 1.0.8 does not import from {PYTHON}:\n{probe.stdout}{probe.stderr}")
    return PYTHON


def run_megapy(python: Path, server: Server, account: Account, tmp_path: Path) -> dict[str, Any]:
    log = tmp_path / "megapy.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "MEGA_API_URL": server.api_url,
        "MEGA_EMAIL": account.email,
        "MEGA_PASSWORD": account.password,
    }
    with log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run(
            [str(python), str(SCRIPT)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            timeout=80,
        )
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert done.returncode == 0 and report.get("ok"), (
        f"mega.py failed: {report.get('error')}\n{log.read_text(encoding='utf-8')[-4000:]}"
    )
    bugs = {size: text.split(":")[0] for size, text in report["known_client_bugs"].items()}
    assert bugs == MEGAPY_BUGS, report["known_client_bugs"]
    return report


def check_stored_files(client: Client, report: dict[str, Any]) -> None:
    """Every file mega.py uploaded and kept comes back with its bytes, keyed with the SDK's meta-MAC rule."""
    tree = client.fetch()
    for size_text, uploaded in report["files"].items():
        if size_text in ("16", "17"):  # trashed and emptied, destroyed
            assert uploaded["handle"] not in tree.nodes
            continue
        stored = tree.nodes[uploaded["handle"]]
        info = client.download_info(node=stored.handle)
        data = client.download(info["g"], stored.file_key, info["s"])
        assert len(data) == int(size_text) and hashlib.sha256(data).hexdigest() == uploaded["sha256"]
        assert meta_mac_of(stored.file_key, data) == stored.file_key.meta_mac, size_text


@pytest.mark.parametrize("version", [2, 1])
def test_megapy(megapy_python: Path, start_server: StartServer, tmp_path: Path, version: int) -> None:
    server = start_server()
    account = new_account(server, version=version)
    report = run_megapy(megapy_python, server, account, tmp_path)
    assert "import_public_url (p with ph)" in report["checks"]
    with server.client() as observer:
        observer.login(account.email, account.password)
        check_stored_files(observer, report)

        # mega.py's folder link opens; only the folder itself is readable through it (mega.py's cr)
        public, key = report["folder_link"].split("#F!")[1].split("!")
        with Client(server.api_url, folder=public, folder_key=crypto.b64decode(key)) as visitor:
            listing = visitor.fetch()
            assert listing.nodes[report["sub"]].name == "sub"
            inside = [n for n in listing.nodes.values() if n.handle != report["sub"]]
            assert inside and all(n.key is None and n.raw["k"] == "" for n in inside)
