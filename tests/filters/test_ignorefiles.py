"""gitignore-style ignore files (.syncignore, --ignore-file NAME), read per directory during the walk.

The expected listings follow git: they were checked with ``git ls-files --others
--exclude-per-directory=.syncignore`` on the same trees.
"""

from __future__ import annotations

import logging

import pytest

from filters import Filter, FilterError, FilterOptions, GitIgnore


def walk(filt: Filter, files: dict[str, str]) -> list[str]:
    """List a tree the way the walker does: enter() each directory, prune with include_dir().

    ``files`` maps file paths to their text; a key ending in '/' is an empty directory. Returns the
    included entries, directories with a trailing '/'.
    """
    children: dict[str, dict[str, bool]] = {"": {}}
    for key in files:
        parts = key.rstrip("/").split("/")
        for depth, name in enumerate(parts):
            parent = "/".join(parts[:depth])
            is_dir = depth < len(parts) - 1 or key.endswith("/")
            children.setdefault(parent, {})[name] = is_dir
            if is_dir:
                children.setdefault("/".join(parts[: depth + 1]), {})
    out: list[str] = []

    def visit(directory: str, current: Filter) -> bool:
        prefix = directory + "/" if directory else ""
        entries = children[directory]
        inner = current.enter(directory, set(entries), lambda name: files[prefix + name].encode())
        if inner is None:
            return False
        for name, is_dir in sorted(entries.items()):
            path = prefix + name
            if is_dir:
                if inner.include_dir(path) and visit(path, inner):
                    out.append(path + "/")
            elif inner.include(path, size=len(files[path])):
                out.append(path)
        return True

    visit("", filt)
    return sorted(out)


def only_files(listing: list[str]) -> list[str]:
    return [path for path in listing if not path.endswith("/")]


SYNC = FilterOptions(megaignore=False)


def test_root_file_applies_at_every_depth() -> None:
    tree = {
        ".syncignore": "*.log\nbuild/\n",
        "a.log": "",
        "a.txt": "",
        "d/b.log": "",
        "d/build/x": "",
        "build": "",
    }
    assert walk(Filter(SYNC), tree) == [".syncignore", "a.txt", "build", "d/"]


def test_nested_negation_reincludes() -> None:
    tree = {
        ".syncignore": "*.log\n",
        "keep.log": "",
        "sub/.syncignore": "!keep.log\n",
        "sub/keep.log": "",
        "sub/other.log": "",
        "sub/deeper/keep.log": "",
        "other/keep.log": "",
    }
    assert only_files(walk(Filter(SYNC), tree)) == [
        ".syncignore",
        "sub/.syncignore",
        "sub/deeper/keep.log",
        "sub/keep.log",
    ]


def test_patterns_are_relative_to_the_file() -> None:
    tree = {
        "sub/.syncignore": "/x\na/b.txt\n",
        "x": "",
        "sub/x": "",
        "sub/y/x": "",
        "a/b.txt": "",
        "sub/a/b.txt": "",
        "sub/z/a/b.txt": "",
    }
    assert only_files(walk(Filter(SYNC), tree)) == [
        "a/b.txt",
        "sub/.syncignore",
        "sub/y/x",
        "sub/z/a/b.txt",
        "x",
    ]


def test_nothing_inside_an_ignored_directory_comes_back() -> None:
    tree = {".syncignore": "cache/\n", "cache/.syncignore": "!*\n", "cache/a": "", "b": ""}
    assert walk(Filter(SYNC), tree) == [".syncignore", "b"]


def test_deeper_file_can_ignore_what_a_shallower_one_reincluded() -> None:
    tree = {".syncignore": "*.tmp\n!important.tmp\n", "important.tmp": "", "d/.syncignore": "important.tmp\n"}
    tree |= {"d/important.tmp": "", "d/e/important.tmp": "", "d/x.tmp": ""}
    assert only_files(walk(Filter(SYNC), tree)) == [".syncignore", "d/.syncignore", "important.tmp"]


def test_ignore_file_can_ignore_itself() -> None:
    assert walk(Filter(SYNC), {".syncignore": ".syncignore\n", "a": ""}) == ["a"]


def test_several_ignore_file_names_later_wins() -> None:
    options = FilterOptions(ignore_files=(".gitignore", ".syncignore"), megaignore=False)
    tree = {".gitignore": "*.txt\n", ".syncignore": "!keep.txt\n", "keep.txt": "", "drop.txt": ""}
    assert walk(Filter(options), tree) == [".gitignore", ".syncignore", "keep.txt"]
    assert Filter(options).ignore_file_names == {".gitignore", ".syncignore"}


def test_custom_name_replaces_the_default() -> None:
    options = FilterOptions(ignore_files=(".rsyncignore",), megaignore=False)
    tree = {".rsyncignore": "a\n", ".syncignore": "b\n", "a": "", "b": ""}
    assert walk(Filter(options), tree) == [".rsyncignore", ".syncignore", "b"]


def test_rclone_rules_and_ignore_files_both_apply() -> None:
    options = FilterOptions(exclude=("*.bak",), megaignore=False)
    tree = {".syncignore": "*.tmp\n", "a.bak": "", "a.tmp": "", "a.txt": ""}
    assert walk(Filter(options), tree) == [".syncignore", "a.txt"]


def test_enter_reads_only_present_ignore_files_and_keeps_the_parent_unchanged() -> None:
    calls: list[str] = []

    def read(name: str) -> bytes:
        calls.append(name)
        return b"*.o\n"

    root = Filter(SYNC)
    assert not root.active
    inner = root.enter("src", {"main.c", "main.o", ".syncignore"}, read)
    assert calls == [".syncignore"]
    assert inner is not None and inner is not root and inner.active
    assert not inner.include("src/main.o") and inner.include("src/main.c")
    assert root.include("src/main.o")  # the parent filter is untouched
    assert inner.include("main.o")  # outside the subtree: not judged by src/.syncignore
    assert root.enter("src", {"main.c"}, read) is root and calls == [".syncignore"]


def test_comment_only_file_changes_nothing() -> None:
    root = Filter(SYNC)
    assert root.enter("", {".syncignore"}, lambda name: b"# nothing\n\n") is root


def test_invalid_pattern_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="filters.ignorefile"):
        tree = {"d/.syncignore": "a\\\n*.log\n", "d/x.log": "", "d/y": ""}
        assert walk(Filter(SYNC), tree) == ["d/", "d/.syncignore", "d/y"]
    assert "d/.syncignore:1: ignoring invalid pattern" in caplog.text


def test_undecodable_file_names_its_path() -> None:
    with pytest.raises(FilterError, match=r"^d/\.syncignore: not valid UTF-8$"):
        Filter(SYNC).enter("d", {".syncignore"}, lambda name: b"\xff\xfe\xfa")


def test_bom_and_crlf() -> None:
    layer = GitIgnore.parse("", "\ufeff*.log\r\n!keep.log\r\n")
    assert layer.decide("a.log", is_dir=False) is False
    assert layer.decide("keep.log", is_dir=False) is True
    assert layer.decide("a.txt", is_dir=False) is None


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("build/", "build", True, True),
        ("build/", "build", False, False),
        ("build/", "a/build", True, True),
        ("/build", "a/build", False, False),
        ("doc/*.txt", "doc/a.txt", False, True),
        ("doc/*.txt", "doc/sub/a.txt", False, False),
        ("doc/**/*.txt", "doc/sub/a.txt", False, True),
        ("**/logs", "x/y/logs", True, True),
        ("a?c", "abc", False, True),
        ("[0-9].txt", "5.txt", False, True),
        ("\\#x", "#x", False, True),
        ("*.LOG", "a.log", False, False),
    ],
)
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert (GitIgnore.parse("", pattern).decide(path, is_dir=is_dir) is False) is ignored


def test_disabled_ignore_files_are_not_read() -> None:
    filt = Filter(FilterOptions(ignore_files=(), megaignore=False))
    assert not filt.needs_enter
    assert filt.enter("", {".syncignore", ".megaignore"}, lambda name: b"*\n") is filt


# Cases where a path-matching library and git disagree; the expectations are git's (verified with
# git ls-files): a pattern counts only when it matches the entry itself, not one of its parents.
GIT_SUBTLETIES = [
    # "!keep/" re-includes the directory, not the *.tmp files inside it
    (
        {".syncignore": "*.tmp\n!keep/\n", "keep/a.tmp": "", "keep/b": "", "c.tmp": ""},
        [".syncignore", "keep/b"],
    ),
    # a negated name that also names a parent directory does not re-include that directory's contents
    (
        {
            ".syncignore": "build/\n!keep.log\n",
            "keep.log/build/a": "",
            "keep.log/b": "",
            "build/keep.log": "",
        },
        [".syncignore", "keep.log/b"],
    ),
    # "a/**/" is the directories below a, not a itself: files directly in a stay
    ({".syncignore": "a/**/\n", "a/x": "", "a/sub/y": "", "b/a/z": ""}, [".syncignore", "a/x", "b/a/z"]),
    # "dir/**" ignores everything below dir; a deeper file can still re-include (dir itself is entered)
    (
        {".syncignore": "d/**\n", "d/.syncignore": "!keep\n", "d/keep": "", "d/drop": ""},
        [".syncignore", "d/keep"],
    ),
    # "**/" matches every directory
    ({".syncignore": "**/\n", "a/b": "", "c": ""}, [".syncignore", "c"]),
]


@pytest.mark.parametrize(("tree", "expected"), GIT_SUBTLETIES)
def test_git_subtleties(tree: dict[str, str], expected: list[str]) -> None:
    assert only_files(walk(Filter(SYNC), tree)) == expected
