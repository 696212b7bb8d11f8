"""An independent MEGA client against the emulator: megajs (MEGA's unofficial JavaScript SDK) on Node.js.

``clients/megajs_interop.js`` logs in, lists, uploads and downloads (megajs verifies each whole download's
MAC), makes folders, renames, moves, copies, deletes, reads the quota, exports file and folder links and opens
them with ``File.fromURL``, removes them, and watches the ``sc`` channel for changes made elsewhere. Here it
runs against a fresh emulator per test; the Python protocol client then checks what megajs stored, and makes
the change megajs must see arrive over ``sc``.

megajs is pinned in ``clients/package.json``; ``npm ci --prefix tests/backends/mega/clients`` installs it.

Known megajs 1.3.10 bug (``shared/mega-protocol.md`` section 13), asserted below so that a fixed version shows
up: when a size rounded up to 16 bytes ends on a chunk boundary (131057..131072, 393201..393216, ...) and at
size 0, its MAC code adds one chunk MAC too many. Its own uploads then carry a meta-MAC other MEGA clients
reject, and it rejects ("MAC verification failed") files of those sizes that SDK-rule clients uploaded. The
server never sees MACs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from protocol_client import Account, Client, Server, StartServer, meta_mac_of, new_account

from backends.mega import crypto

CLIENTS = Path(__file__).parent / "clients"
SCRIPT = CLIENTS / "megajs_interop.js"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL = "npm ci --prefix tests/backends/mega/clients"
PINNED = json.loads((CLIENTS / "package.json").read_text(encoding="utf-8"))["dependencies"]["megajs"]

pytestmark = [
    pytest.mark.skipif(
        NODE is None or NPM is None, reason="megajs runs on Node.js: `node` and `npm` are not on PATH"
    ),
    pytest.mark.timeout(90),
]


def megajs_mac_bug(size: int) -> bool:
    """Whether megajs 1.3.10 gets the meta-MAC of a ``size``-byte file wrong: for 0 bytes, and whenever the
    size rounded up to 16 bytes ends on a chunk boundary (its MAC code steps 16 bytes per block and closes a
    chunk there, then adds the fresh, empty one at the end)."""
    if size == 0:
        return True
    padded = -(-size // 16) * 16
    return padded in {offset + length for offset, length in crypto.chunk_bounds(padded + (1 << 20))}


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` binary, once megajs is installed at the pinned version."""
    installed = CLIENTS / "node_modules" / "megajs" / "package.json"
    if not installed.is_file():
        pytest.fail(f"megajs is not installed: run `{INSTALL}` (make test does)")
    version = json.loads(installed.read_text(encoding="utf-8"))["version"]
    if version != PINNED:
        pytest.fail(f"megajs {version} is installed, package.json pins {PINNED}: run `{INSTALL}`")
    assert NODE is not None
    return NODE


def run_megajs(
    node: str,
    server: Server,
    account: Account,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    external_sc: Client | None = None,
) -> dict[str, Any]:
    """Run the script; with ``external_sc``, answer its handshake by making a folder with that client.
    Returns the script's JSON report (its last stdout line)."""
    log = tmp_path / "megajs.log"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MEGA_GATEWAY": server.api_url,
        "MEGA_EMAIL": account.email,
        "MEGA_PASSWORD": account.password,
        **({"MEGAJS_EXTERNAL_SC": "1"} if external_sc is not None else {}),
        **(env or {}),
    }
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=CLIENTS,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            lines = []
            if external_sc is not None:
                for line in process.stdout:
                    lines.append(line)
                    message = json.loads(line)
                    if "external_sc" in message:
                        name = "made by the protocol client ✓"
                        external_sc.mkdir(message["external_sc"]["parent"], name)
                        process.stdin.write(name + "\n")
                        process.stdin.flush()
                        break
            rest, _ = process.communicate(timeout=60)
            lines += rest.splitlines()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    report: dict[str, Any] = json.loads(lines[-1])
    assert process.returncode == 0 and report.get("ok"), (
        f"megajs failed: {report.get('error')}\n{log.read_text(encoding='utf-8')[-4000:]}"
    )
    assert report["megajs"] == PINNED
    return report


def test_megajs_v2_account_end_to_end(node: str, start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    account = new_account(server)
    with server.client() as observer:
        observer.login(account.email, account.password)
        report = run_megajs(node, server, account, tmp_path, external_sc=observer)
        assert "sc: a folder made by an independent client arrives" in report["checks"]

        # what megajs stored: the plaintext it uploaded comes back from the server, under megajs's key
        tree = observer.fetch()
        for size_text, uploaded in report["files"].items():
            size = int(size_text)
            if size == 16:
                assert uploaded["handle"] not in tree.nodes  # destroyed by the script
                continue
            stored = tree.nodes[uploaded["handle"]]
            assert crypto.b64decode(uploaded["key"]) == stored.key
            info = observer.download_info(node=stored.handle)
            data = observer.download(info["g"], stored.file_key, info["s"])
            assert hashlib.sha256(data).hexdigest() == uploaded["sha256"] and len(data) == size
            sdk_rule = meta_mac_of(stored.file_key, data) == stored.file_key.meta_mac
            # megajs's meta-MAC equals the SDK's except at its bug sizes
            assert sdk_rule is not megajs_mac_bug(size), size


def test_megajs_v1_account(node: str, start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    account = new_account(server, version=1)
    report = run_megajs(node, server, account, tmp_path)
    assert "folder link: download a file (g, n=)" in report["checks"]


def test_megajs_downloads_files_of_sdk_rule_clients(
    node: str, start_server: StartServer, tmp_path: Path
) -> None:
    """megajs downloads what the protocol client (the SDK's MAC rule) uploaded, except at its bug sizes."""
    server = start_server()
    account = new_account(server)
    sizes = [0, 1, 16, 131056, 131057, 131072, 131073, 393216, 393217]
    wanted = []
    with server.client() as uploader:
        uploader.login(account.email, account.password)
        root = uploader.fetch().root().handle
        for size in sizes:
            data = os.urandom(size)
            stored, _ = uploader.upload(root, f"sdk rule {size}", data)
            wanted.append({"handle": stored.handle, "sha256": hashlib.sha256(data).hexdigest(), "size": size})
    report = run_megajs(node, server, account, tmp_path, env={"MEGAJS_VERIFY": json.dumps(wanted)})
    outcome = {item["size"]: report["verify"][item["handle"]] for item in wanted}
    assert outcome == {size: "MAC verification failed" if megajs_mac_bug(size) else "ok" for size in sizes}
