"""The ``encoding`` option of a ``mega`` remote against the emulator: ``lookalike`` (rclone's mapping, the
default) and ``raw`` (names as MEGA stores them; names no path can hold are skipped with one warning each,
and refused on write).

Names that no engine path can spell ('/', NUL, invalid UTF-8) are made the way another MEGA client makes
them: a folder node created through the account with that name in its attributes.
"""

# Look-alike characters are the subject here, so they appear literally.
# ruff: noqa: RUF001

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_client import Server, new_account

from backends.errors import InvalidName
from backends.mega.backend import MegaBackend, MegaOptions
from backends.mega.names import is_raw_name
from backends.secret_values import Secret

#: MEGA names another client may write, and how each mode lists them (None: skipped).
AWKWARD = {
    "a/b": ("a／b", None),
    "nul\x00x": ("nul␀x", None),
    "bad\udcffutf8": ("bad\udcffutf8", None),
    "..": ("．．", None),
    "plain": ("plain", "plain"),
    "look／alike": ("look‛／alike", "look／alike"),
}


@pytest.fixture(scope="module")
def remotes(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, MegaBackend]]:
    """One account seen through a lookalike and a raw remote (their own state dirs, so their own trees)."""
    account = new_account(server)
    opened: dict[str, MegaBackend] = {}
    for encoding in ("lookalike", "raw"):
        options = MegaOptions(
            user=account.email,
            password=Secret(account.password),
            api_url=server.api_url,
            encoding=encoding,  # type: ignore[arg-type]
            state_dir=str(tmp_path_factory.mktemp(f"state-{encoding}")),
        )
        opened[encoding] = MegaBackend("emu", "", options)
    yield opened
    for backend in opened.values():
        backend.close()


def _made_by_another_client(backend: MegaBackend, folder: str, mega_names: list[str]) -> None:
    """Folders named exactly ``mega_names`` (no mapping at all) in ``folder``, created as any client would."""
    backend.mkdir(folder)
    parent = backend._dir(folder)
    for name in mega_names:
        backend.account.make_folders(parent.handle, [name])


def _refresh(backend: MegaBackend) -> None:
    """Catch the other remote's changes up from the action packets, as the next run would."""
    with backend.account.lock:
        backend.account._catch_up(backend.account.tree)


def test_each_mode_lists_what_it_can_and_raw_warns_once_per_skipped_name(
    remotes: dict[str, MegaBackend], caplog: pytest.LogCaptureFixture
) -> None:
    lookalike, raw = remotes["lookalike"], remotes["raw"]
    _made_by_another_client(raw, "awkward", list(AWKWARD))
    _refresh(lookalike)

    listed = {e.path.split("/")[-1] for e in lookalike.list("awkward")}
    assert listed == {shown for shown, _ in AWKWARD.values()}

    caplog.set_level(logging.WARNING, logger="backends.mega")
    listed_raw = {e.path.split("/")[-1] for e in raw.list("awkward")}
    assert listed_raw == {shown for _, shown in AWKWARD.values() if shown is not None}
    walked = {e.path for e in raw.walk("awkward")}
    assert walked == {f"awkward/{n}" for n in listed_raw}
    warnings = [r.getMessage() for r in caplog.records if "encoding: raw" in r.getMessage()]
    skipped = [name for name, (_, shown) in AWKWARD.items() if shown is None]
    # one warning per skipped name, though it was listed twice
    assert len(warnings) == len(skipped), warnings
    for name in skipped:
        assert sum(repr(name) in w for w in warnings) == 1, (name, warnings)


def test_raw_stores_names_as_they_are_and_lookalike_maps_them(remotes: dict[str, MegaBackend]) -> None:
    lookalike, raw = remotes["lookalike"], remotes["raw"]
    raw.mkdir("stored/raw／slash")
    _refresh(lookalike)
    lookalike.mkdir("stored/look／slash")
    assert raw._find("stored/raw／slash") is not None
    _refresh(raw)
    names = {n.name for n in raw.account.tree.children_of(raw._dir("stored").handle)}
    assert names == {"raw／slash", "look/slash"}


def test_raw_refuses_names_that_are_not_unicode(remotes: dict[str, MegaBackend]) -> None:
    raw = remotes["raw"]
    data = b"content"
    with pytest.raises(InvalidName):
        raw.put("refused/bad\udcffname", io.BytesIO(data), size=len(data), mtime_ns=None)
    with pytest.raises(InvalidName):
        raw.mkdir("refused/bad\udcffdir")
    # the look-alike remote stores it (as the original bytes, which the local backend writes back)
    entry = remotes["lookalike"].put("kept/bad\udcffname", io.BytesIO(data), size=len(data), mtime_ns=None)
    assert entry.path == "kept/bad\udcffname"


_raw_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=12,
).filter(lambda n: n not in (".", ".."))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_raw_names)
def test_raw_names_come_back_exactly(remotes: dict[str, MegaBackend], name: str) -> None:
    raw = remotes["raw"]
    assert is_raw_name(name)
    raw.mkdir(f"property/{name}")
    assert name in {e.path.split("/")[-1] for e in raw.list("property")}
    node = raw._find(f"property/{name}")
    assert node is not None and node.name == name  # on MEGA exactly as given
    raw.rmdir(f"property/{name}")


def test_a_name_that_is_not_utf8_survives_the_tree_cache(remotes: dict[str, MegaBackend]) -> None:
    lookalike = remotes["lookalike"]
    _made_by_another_client(lookalike, "cached", ["bad\udcffname"])
    lookalike.account.close()  # saves the tree cache, as the end of a run does
    again = MegaBackend("emu", "", lookalike.options)
    try:
        assert again.account.tree.named(again._dir("cached").handle, "bad\udcffname")  # from the cache
        assert [e.path for e in again.list("cached")] == ["cached/bad\udcffname"]
    finally:
        again.close()
    remotes["lookalike"] = MegaBackend("emu", "", lookalike.options)
