"""Public links from the client's side: every URL form parsed (and round-tripped), exporting files and folders
from a ``mega`` remote, and reading them back as read-only ``link`` remotes, all against the emulator.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from protocol_client import Account, Client, Server

from backends import open_backend, parse_location
from backends.errors import AuthError, ConfigError, DirNotFound, NotFound, ReadOnly
from backends.mega import crypto
from backends.mega.backend import MegaBackend, MegaOptions
from backends.mega.links import LinkError, PublicLink, parse_link
from backends.secret_values import Secret

pytestmark = pytest.mark.timeout(60)

HANDLE = "AbCdEf12"
FILE_KEY = bytes(range(32))
FOLDER_KEY = bytes(range(100, 116))
FILE_KEY_TEXT = crypto.b64encode(FILE_KEY)
FOLDER_KEY_TEXT = crypto.b64encode(FOLDER_KEY)


# -- parsing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://mega.nz/file/{HANDLE}#{FILE_KEY_TEXT}", PublicLink("file", HANDLE, FILE_KEY)),
        (f"https://mega.nz/folder/{HANDLE}#{FOLDER_KEY_TEXT}", PublicLink("folder", HANDLE, FOLDER_KEY)),
        (
            f"https://mega.nz/folder/{HANDLE}#{FOLDER_KEY_TEXT}/folder/SubFold1",
            PublicLink("folder", HANDLE, FOLDER_KEY, "SubFold1", "folder"),
        ),
        (
            f"https://mega.nz/folder/{HANDLE}#{FOLDER_KEY_TEXT}/file/InnerFi1",
            PublicLink("folder", HANDLE, FOLDER_KEY, "InnerFi1", "file"),
        ),
        (f"https://mega.nz/#!{HANDLE}!{FILE_KEY_TEXT}", PublicLink("file", HANDLE, FILE_KEY)),
        (f"https://mega.nz/#F!{HANDLE}!{FOLDER_KEY_TEXT}", PublicLink("folder", HANDLE, FOLDER_KEY)),
        (
            f"https://mega.nz/#F!{HANDLE}!{FOLDER_KEY_TEXT}!SubFold1",
            PublicLink("folder", HANDLE, FOLDER_KEY, "SubFold1", "folder"),
        ),
        (f"https://mega.co.nz/#!{HANDLE}!{FILE_KEY_TEXT}", PublicLink("file", HANDLE, FILE_KEY)),
        (f"http://www.mega.co.nz/#F!{HANDLE}!{FOLDER_KEY_TEXT}", PublicLink("folder", HANDLE, FOLDER_KEY)),
        (f"https://MEGA.NZ/folder/{HANDLE}#{FOLDER_KEY_TEXT}", PublicLink("folder", HANDLE, FOLDER_KEY)),
    ],
)
def test_every_link_form_parses(url: str, expected: PublicLink) -> None:
    assert parse_link(url) == expected
    location = parse_location(url)
    assert (location.remote, location.type, location.path, location.link) == (None, "mega", "", url)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (f"https://mega.nz/folder/{HANDLE}", "has no key"),
        (f"https://mega.nz/file/{HANDLE}#", "has no key"),
        (f"https://mega.nz/file/{HANDLE}#{FOLDER_KEY_TEXT}", "16 bytes"),
        (f"https://mega.nz/folder/{HANDLE}#{FILE_KEY_TEXT}", "32 bytes"),
        (f"https://mega.nz/file/AbCd#{FILE_KEY_TEXT}", "8 characters"),
        (f"https://mega.nz/file/{HANDLE}#{FILE_KEY_TEXT}/folder/SubFold1", "inside itself"),
        ("https://mega.nz/help", "unrecognised"),
    ],
)
def test_malformed_links_say_why_without_the_key(url: str, complaint: str) -> None:
    with pytest.raises(LinkError) as caught:
        parse_link(url)
    assert complaint in str(caught.value)
    assert FILE_KEY_TEXT not in str(caught.value) and FOLDER_KEY_TEXT not in str(caught.value)
    assert isinstance(caught.value, ConfigError) and caught.value.exit_code == 2


_handles = st.binary(min_size=6, max_size=6).map(crypto.b64encode)


@st.composite
def _links(draw: st.DrawFn) -> PublicLink:
    kind = draw(st.sampled_from(["file", "folder"]))
    key = draw(st.binary(min_size=32 if kind == "file" else 16, max_size=32 if kind == "file" else 16))
    inner = draw(st.none() | _handles) if kind == "folder" else None
    inner_kind = draw(st.sampled_from(["file", "folder"])) if inner is not None else None
    return PublicLink(kind, draw(_handles), key, inner, inner_kind)  # type: ignore[arg-type]


@given(_links())
def test_built_links_parse_back(link: PublicLink) -> None:
    assert parse_link(link.url()) == link
    if link.inner_kind != "file":
        assert parse_link(link.legacy_url()) == link
    assert crypto.b64encode(link.key) not in link.public_part()
    assert crypto.b64encode(link.key) not in repr(link)


# -- against the emulator -------------------------------------------------------------------------------


@pytest.fixture
def owner(server: Server, account: Account, tmp_path: Path) -> Iterator[MegaBackend]:
    options = MegaOptions(
        user=account.email,
        password=Secret(account.password),
        api_url=server.api_url,
        state_dir=str(tmp_path / "state"),
    )
    backend = MegaBackend("emu", "", options)
    yield backend
    backend.close()


def _put(backend: MegaBackend, path: str, data: bytes, mtime_s: int = 1_700_000_000) -> None:
    backend.put(path, io.BytesIO(data), size=len(data), mtime_ns=mtime_s * 10**9)


def _link_remote(server: Server, url: str) -> MegaBackend:
    """A URL opened the way the command line opens it (the API address as a type-wide option)."""
    backend = open_backend(url, overrides={"api_url": server.api_url})
    assert isinstance(backend, MegaBackend)
    return backend


def _read(backend: MegaBackend, path: str) -> bytes:
    with backend.open_read(path) as stream:
        return bytes(stream.read())


def test_file_link_reads_without_login(server: Server, owner: MegaBackend) -> None:
    data = os.urandom(300_001)
    _put(owner, "docs/report.bin", data, 1_650_000_000)
    url = owner.public_link("docs/report.bin")
    assert url.startswith("https://mega.nz/file/")
    assert owner.public_link("docs/report.bin") == url  # the same link again

    with _link_remote(server, url) as shared:
        assert shared.account.session is None
        (entry,) = shared.list("")
        assert (entry.path, entry.size, entry.mtime_ns) == ("report.bin", len(data), 1_650_000_000 * 10**9)
        assert _read(shared, "report.bin") == data
        assert shared.features.read_only
        assert "#" not in shared.describe("report.bin")


def test_folder_link_lists_the_subtree_and_downloads(server: Server, owner: MegaBackend) -> None:
    files = {"pub/a.txt": b"alpha", "pub/sub/b.bin": os.urandom(200_000), "private/c.txt": b"not shared"}
    for path, data in files.items():
        _put(owner, path, data)
    url = owner.public_link("pub")
    assert url.startswith("https://mega.nz/folder/")
    assert owner.public_link("pub") == url

    with _link_remote(server, url) as shared:
        walked = {e.path: e for e in shared.walk("")}
        assert set(walked) == {"a.txt", "sub", "sub/b.bin"}
        assert walked["sub/b.bin"].mtime_ns == 1_700_000_000 * 10**9
        assert _read(shared, "sub/b.bin") == files["pub/sub/b.bin"]

    sub_handle = owner.stat("pub/sub").id
    inner = PublicLink("folder", parse_link(url).handle, parse_link(url).key, sub_handle, "folder").url()
    with _link_remote(server, inner) as shared_sub:
        assert [e.path for e in shared_sub.list("")] == ["b.bin"]


def test_files_added_after_export_are_visible_through_the_link(server: Server, owner: MegaBackend) -> None:
    _put(owner, "live/first.txt", b"first")
    url = owner.public_link("live")
    _put(owner, "live/later/second.txt", b"second")  # new folder and file below the exported one
    _put(owner, "elsewhere.txt", b"moved in")
    owner.move("elsewhere.txt", "live/moved.txt")
    owner.copy("live/first.txt", "live/copy.txt")
    with _link_remote(server, url) as shared:
        assert {e.path for e in shared.walk("")} == {
            "first.txt",
            "later",
            "later/second.txt",
            "moved.txt",
            "copy.txt",
        }
        assert _read(shared, "later/second.txt") == b"second"
        assert _read(shared, "moved.txt") == b"moved in"


def test_export_survives_a_new_run_with_the_same_key(server: Server, owner: MegaBackend) -> None:
    _put(owner, "kept/x.txt", b"x")
    url = owner.public_link("kept")
    owner.close()
    again = MegaBackend("emu", "", owner.options)  # a later run: cached session and tree, no f
    try:
        assert again.public_link("kept") == url
        _put(again, "kept/y.txt", b"y")
    finally:
        again.close()
    with _link_remote(server, url) as shared:
        assert {e.path for e in shared.list("")} == {"x.txt", "y.txt"}


def test_unlink_kills_the_link(server: Server, owner: MegaBackend) -> None:
    _put(owner, "gone/f.txt", b"f")
    _put(owner, "single.txt", b"s")
    folder_url, file_url = owner.public_link("gone"), owner.public_link("single.txt")
    assert owner.public_link("gone", unlink=True) == ""
    assert owner.public_link("single.txt", unlink=True) == ""
    assert owner.public_link("single.txt", unlink=True) == ""  # no link left: nothing to do
    with pytest.raises(DirNotFound), _link_remote(server, folder_url) as dead:
        dead.list("")
    with pytest.raises(NotFound), _link_remote(server, file_url) as dead:
        dead.list("")


def test_link_remote_refuses_writes(server: Server, owner: MegaBackend) -> None:
    _put(owner, "ro/f.txt", b"f")
    with _link_remote(server, owner.public_link("ro")) as shared:
        for write in (
            lambda: _put(shared, "new.txt", b"n"),
            lambda: shared.mkdir("d"),
            lambda: shared.remove("f.txt"),
            lambda: shared.move("f.txt", "g.txt"),
            lambda: shared.copy("f.txt", "g.txt"),
            lambda: shared.set_mtime("f.txt", 0),
            lambda: shared.public_link("f.txt"),
        ):
            with pytest.raises(ReadOnly):
                write()
        assert [e.path for e in shared.list("")] == ["f.txt"]


def test_wrong_key_and_missing_path(server: Server, owner: MegaBackend) -> None:
    _put(owner, "k/f.txt", b"f")
    link = parse_link(owner.public_link("k"))
    wrong = PublicLink("folder", link.handle, bytes(16)).url()
    with pytest.raises(AuthError), _link_remote(server, wrong) as shared:
        shared.list("")
    with pytest.raises(NotFound):
        owner.public_link("no/such/thing")


def test_folder_link_seen_by_the_protocol_client(server: Server, owner: MegaBackend) -> None:
    """An independent reader (the protocol suite's client) opens what the export made."""
    _put(owner, "indep/z.bin", b"zzz")
    link = parse_link(owner.public_link("indep"))
    with Client(server.api_url, folder=link.handle, folder_key=link.key) as visitor:
        names = {n.name for n in visitor.fetch().nodes.values()}
    assert names == {"indep", "z.bin"}
