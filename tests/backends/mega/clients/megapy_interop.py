"""mega.py 1.0.8 (PyPI ``mega.py``) against a MEGA API server, normally the local emulator: log in (v1 or v2),
create folders, upload, list (``get_files``), download (mega.py checks the MAC), rename, move, trash, destroy,
quota, file and folder links. Run by ``tests/backends/mega/test_megapy_interop.py``; usable by hand against
``syncer mega-emulator``.

mega.py has no API URL option: it posts to ``https://g.api.mega.co.nz/cs`` through the module-level name
``requests`` of ``mega.mega``. That name is replaced here by a shim whose ``post`` sends ``/cs`` to
``MEGA_API_URL`` and leaves every other URL alone (the transfer URLs come from the server).

Environment (the password never goes on a command line): ``MEGA_API_URL`` (ends in '/'), ``MEGA_EMAIL``,
``MEGA_PASSWORD``. Progress goes to stderr; stdout gets one JSON report line. Exit status 0 when every check
passed. Failures that are mega.py's own bugs (``shared/mega-protocol.md`` section 13) are not check failures:
they are listed under ``known_client_bugs`` by file size, for the caller to compare with what it expects.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import mega.mega as mega_module
import requests
from mega import Mega

API_URL = os.environ["MEGA_API_URL"]
MEGA_CS = "https://g.api.mega.co.nz/cs"
SIZES = [0, 1, 16, 17, 131072, 131073, 300000, 5 * 1024 * 1024 + 1]

report: dict[str, Any] = {"checks": [], "known_client_bugs": {}, "files": {}}


class RequestsToServer:
    """Stands in for the ``requests`` module inside ``mega.mega``: ``/cs`` goes to ``MEGA_API_URL``."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy between us and a local server

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        if url == MEGA_CS:
            url = API_URL + "cs"
        return self.session.post(url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.session.get(url, **kwargs)


mega_module.requests = RequestsToServer()  # type: ignore[assignment]


def log(*args: object) -> None:
    print("[mega.py]", *args, file=sys.stderr)


def check(condition: object, what: str) -> None:
    if not condition:
        raise AssertionError("check failed: " + what)
    report["checks"].append(what)
    log("ok:", what)


def content(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def client_bug(size: int, what: str, error: Exception) -> None:
    report["known_client_bugs"][str(size)] = f"{what}: {type(error).__name__}: {error}"
    log(f"mega.py bug at {size} bytes ({what}):", repr(error))


def run(work: Path) -> None:
    email, password = os.environ["MEGA_EMAIL"], os.environ["MEGA_PASSWORD"]
    m = Mega().login(email, password)
    check(m.sid and m.root_id and m.trashbin_id and m.inbox_id, "login (us0, us, f): the three roots")
    check(m.get_user()["email"] == email.lower(), "get_user (ug)")

    top_name = f"megapy-{os.urandom(3).hex()}"
    top = m.create_folder(top_name)[top_name]
    check(m.find_path_descriptor(top_name) == top, "create_folder, find_path_descriptor")
    report["top"] = top

    handles: dict[int, str] = {}
    for size in SIZES:
        data = content(size)
        source = work / f"up {size} ü.bin"
        source.write_bytes(data)
        try:
            answer = m.upload(str(source), dest=top)
        except IndexError as error:
            # a last chunk of 1..16 bytes in a file over 16 bytes: mega.py reuses a loop variable, gets an
            # empty chunk MAC and fails while condensing the meta-MAC (all pieces were sent, no node is made)
            client_bug(size, "upload", error)
            continue
        handles[size] = answer["f"][0]["h"]
        check(answer["f"][0]["s"] == size, f"upload {size} bytes")
        report["files"][str(size)] = {"handle": handles[size], "sha256": hashlib.sha256(data).hexdigest()}

    files = m.get_files()
    names = {files[h]["a"]["n"]: files[h]["s"] for h in handles.values()}
    check(names == {f"up {size} ü.bin": size for size in handles}, "get_files lists every upload by name")

    back = work / "back"
    back.mkdir()
    for size, handle in handles.items():
        try:
            path = m.download((handle, files[handle]), dest_path=str(back), dest_filename=f"{size}.bin")
        except (ValueError, IndexError) as error:  # "Mismatched mac", or the empty-MAC crash
            client_bug(size, "download", error)
            continue
        check(Path(path).read_bytes() == content(size), f"download {size} bytes byte-identical (MAC checked)")

    # rename (a with attr + key), move, delete (m to the Rubbish Bin), destroy (d)
    m.rename((handles[1], files[handles[1]]), "renamed ✓.bin")
    sub = m.create_folder("sub", dest=top)["sub"]
    m.move(handles[1], sub)
    files = m.get_files()
    check(files[handles[1]]["a"]["n"] == "renamed ✓.bin" and files[handles[1]]["p"] == sub, "rename and move")
    m.delete(handles[16])
    m.destroy(handles[17])
    files = m.get_files()
    check(files[handles[16]]["p"] == m.trashbin_id, "delete = move to the Rubbish Bin")
    check(handles[17] not in files, "destroy (d)")
    check(handles[16] in m.get_files_in_node(4), "get_files_in_node(4) lists the Rubbish Bin")

    space = m.get_storage_space()
    check(space["used"] >= 5 * 1024 * 1024 and space["total"] > space["used"], "get_storage_space (uq)")
    check(m.get_quota() > 0, "get_quota (uq with v:1)")
    m.get_balance()  # uq with pro:1; a free account has no balance

    # file link: export, info, download, import. export(node_id=...) is broken for files in mega.py 1.0.8
    # (get_link indexes the node dict with [1]): go by path.
    big = (handles[300000], files[handles[300000]])
    link = m.export(f"{top_name}/up 300000 ü.bin")
    check(link.startswith("https://mega.co.nz/#!"), "export a file (l)")
    check(m.get_link(big) == link, "get_link: the same link again")
    report["file_link"] = link
    check(
        m.get_public_url_info(link) == {"size": 300000, "name": "up 300000 ü.bin"},
        "get_public_url_info (g with p and ssm)",
    )
    path = m.download_url(link, dest_path=str(back), dest_filename="link.bin")
    check(Path(path).read_bytes() == content(300000), "download_url byte-identical")
    imported = m.import_public_url(link, dest_node=files[sub], dest_name="imported.bin")
    check(imported["f"][0]["s"] == 300000, "import_public_url (p with ph)")

    # folder link (s2 to EXP with cr, then l); mega.py's cr wraps only the folder's own key
    folder_link = m.export(node_id=sub)
    check(folder_link.startswith("https://mega.co.nz/#F!"), "export a folder (s2 + l)")
    check(m.export(node_id=sub) == folder_link, "exporting the folder again gives the same link")
    report["folder_link"] = folder_link
    report["sub"] = sub

    m.empty_trash()
    check(handles[16] not in m.get_files(), "empty_trash (a batch of d)")
    report["ok"] = True


def main() -> int:
    try:
        with tempfile.TemporaryDirectory(prefix="megapy-") as work:
            run(Path(work))
    except Exception as error:
        report["ok"] = False
        report["error"] = "".join(traceback.format_exception(error))
    print(json.dumps(report))
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
