"""Properties of backends.paths: the helpers every backend and the engine build remote paths with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends import paths
from backends.errors import InvalidName

#: One valid path component: any text without '/' or NUL that is not '', '.' or '..'.
components = st.text(st.characters(exclude_characters="/\x00"), min_size=1, max_size=12).filter(
    lambda part: part not in (".", "..")
)
#: A valid remote path ("" is the root).
remote_paths = st.lists(components, max_size=5).map("/".join)
nonempty_paths = st.lists(components, min_size=1, max_size=5).map("/".join)


@given(nonempty_paths)
def test_parent_and_basename_rebuild_the_path(path: str) -> None:
    assert paths.join(paths.parent(path), paths.basename(path)) == path


@given(remote_paths, components)
def test_join_then_split(directory: str, name: str) -> None:
    joined = paths.join(directory, name)
    assert paths.parent(joined) == directory
    assert paths.basename(joined) == name
    assert paths.check_path(joined) == joined


@given(st.lists(components, max_size=5), st.lists(st.sampled_from(["", "/", "//", "./", "/./"]), max_size=7))
def test_check_path_accepts_what_clean_returns(parts: list[str], noise: list[str]) -> None:
    # the parts joined with doubled slashes, '.' components and slashes around them, as a user might type
    extra = iter(noise)
    typed = next(extra, "") + "".join(f"{part}/{next(extra, '')}" for part in parts)
    cleaned = paths.clean(typed)
    assert paths.check_path(cleaned) == cleaned
    assert cleaned == "/".join(parts)
    assert paths.clean(cleaned) == cleaned


@given(remote_paths, remote_paths)
def test_relative_to_inverts_join(directory: str, path: str) -> None:
    joined = paths.join(directory, path)
    assert paths.is_within(joined, directory)
    assert paths.relative_to(joined, directory) == path


@given(st.lists(components, max_size=3), st.lists(components, max_size=3), st.sampled_from(["..", "."]))
def test_check_path_rejects_dot_components(before: list[str], after: list[str], bad: str) -> None:
    with pytest.raises(InvalidName):
        paths.check_path("/".join([*before, bad, *after]))


@pytest.mark.parametrize("path", ["/", "//", "/a", "a/", "a//b", "/a/b/"])
def test_check_path_rejects_empty_components(path: str) -> None:
    with pytest.raises(InvalidName):
        paths.check_path(path)


@given(remote_paths, components)
def test_check_path_rejects_nul(directory: str, name: str) -> None:
    with pytest.raises(InvalidName):
        paths.check_path(paths.join(directory, name + "\x00"))


def test_is_within_is_not_a_string_prefix() -> None:
    assert not paths.is_within("ab/c", "a")
    assert paths.is_within("a/b", "a")
    assert paths.is_within("a", "")
