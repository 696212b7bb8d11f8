"""Location strings (rclone's syntax) and splitting off the last name."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends import Location, parse_location
from backends.errors import ConfigError
from syncer.paths import split_leaf


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("remote:path/in", Location("remote", "path/in")),
        ("remote:", Location("remote", "")),
        ("my remote.1:x", Location("my remote.1", "x")),
        ("/abs/path", Location(None, "/abs/path")),
        ("./a:b", Location(None, "./a:b")),
        ("dir/with:colon", Location(None, "dir/with:colon")),
        ("plain", Location(None, "plain")),
        (":local:/tmp", Location(None, "/tmp", type="local")),
    ],
)
def test_parse_location(spec: str, expected: Location) -> None:
    assert parse_location(spec) == expected


def test_bad_on_the_fly_remote() -> None:
    with pytest.raises(ConfigError):
        parse_location(":no-closing-colon")


@pytest.mark.parametrize(
    ("spec", "parent", "leaf"),
    [
        ("remote:a/b/c", "remote:a/b", "c"),
        ("remote:c", "remote:", "c"),
        ("remote:/c", "remote:", "c"),
        ("remote:", "remote:", ""),
        ("/x/y", "/x", "y"),
        (":memory:dir/f", ":memory:dir", "f"),
    ],
)
def test_split_leaf(spec: str, parent: str, leaf: str) -> None:
    assert split_leaf(spec) == (parent, leaf)


names = st.text(
    st.characters(blacklist_characters="/\x00:", blacklist_categories=("Cs",)), min_size=1
).filter(lambda n: n not in (".", "..") and not n.startswith(("-", " ", ".", "~")))


@given(st.lists(names, min_size=1, max_size=4))
def test_split_leaf_of_a_remote_path_round_trips(parts: list[str]) -> None:
    spec = "remote:" + "/".join(parts)
    parent, leaf = split_leaf(spec)
    assert leaf == parts[-1]
    assert parent == "remote:" + "/".join(parts[:-1])


@given(st.lists(names, min_size=1, max_size=4))
def test_split_leaf_of_a_local_path_round_trips(parts: list[str]) -> None:
    spec = "/" + "/".join(parts)
    parent, leaf = split_leaf(spec)
    assert os.path.join(parent, leaf) == os.path.normpath(spec)
