"""MEGA's .megaignore: CLASS[TARGET][TYPE][STRATEGY]:PATTERN rules, last match wins, size limits."""

from __future__ import annotations

import itertools

import pytest

from filters import Filter, FilterError, FilterOptions, MegaIgnore, parse_mega_size

MEGA = FilterOptions(ignore_files=())


def walk(filt: Filter, files: dict[str, str]) -> list[str]:
    """The walker's way through a tree of ``path -> text`` (keys ending in '/' are empty directories);
    returns the included entries, directories with a trailing '/'. Sizes are the texts' lengths."""
    children: dict[str, dict[str, bool]] = {"": {}}
    for key in files:
        parts = key.rstrip("/").split("/")
        for depth, name in enumerate(parts):
            is_dir = depth < len(parts) - 1 or key.endswith("/")
            children.setdefault("/".join(parts[:depth]), {})[name] = is_dir
            if is_dir:
                children.setdefault("/".join(parts[: depth + 1]), {})
    out: list[str] = []

    def visit(directory: str, current: Filter) -> None:
        prefix = directory + "/" if directory else ""
        entries = children[directory]
        inner = current.enter(directory, set(entries), lambda name: files[prefix + name].encode())
        assert inner is not None
        for name, is_dir in sorted(entries.items()):
            path = prefix + name
            if is_dir:
                if inner.include_dir(path):
                    out.append(path + "/")
                    visit(path, inner)
            elif inner.include(path, size=len(files[path])):
                out.append(path)

    visit("", filt)
    return sorted(out)


# --- every CLASS x TARGET x TYPE x STRATEGY combination ------------------------------------------------

# (relative path, is_dir, is_symlink)
FOO_TXT = ("Foo.txt", False, False)
SUB_FOO_TXT = ("sub/Foo.txt", False, False)
FOO_DIR = ("Foo.d", True, False)
LOWER_FOO = ("foo.txt", False, False)
FOO_LINK = ("Foo.lnk", False, True)
SUB_FOO_DIR = ("sub/Foo.d", True, False)
SUB_LOWER_DIR = ("sub/foo.d", True, False)
ENTRIES = [FOO_TXT, SUB_FOO_TXT, FOO_DIR, LOWER_FOO, FOO_LINK, SUB_FOO_DIR, SUB_LOWER_DIR]

# What "Foo*" (names) and "sub/Foo*" (paths) match, case-sensitively and not
NAME_CASE = {FOO_TXT, SUB_FOO_TXT, FOO_DIR, FOO_LINK, SUB_FOO_DIR}
NAME_NOCASE = NAME_CASE | {LOWER_FOO, SUB_LOWER_DIR}
TOP = {FOO_TXT, FOO_DIR, LOWER_FOO, FOO_LINK}
PATH_CASE = {SUB_FOO_TXT, SUB_FOO_DIR}
PATH_NOCASE = PATH_CASE | {SUB_LOWER_DIR}
TARGETS = {
    "": set(ENTRIES),
    "a": set(ENTRIES),
    "d": {FOO_DIR, SUB_FOO_DIR, SUB_LOWER_DIR},
    "f": {FOO_TXT, SUB_FOO_TXT, LOWER_FOO},
    "s": {FOO_LINK},
}


def _expected(target: str, kind: str, strategy: str) -> set[tuple[str, bool, bool]]:
    case_sensitive = strategy in ("", "G", "R")
    if kind == "p":
        by_pattern = PATH_CASE if case_sensitive else PATH_NOCASE
    else:
        by_pattern = NAME_CASE if case_sensitive else NAME_NOCASE
        if kind == "n":
            by_pattern = by_pattern & TOP
    return by_pattern & TARGETS[target]


@pytest.mark.parametrize(
    ("sign", "target", "kind", "strategy"),
    list(itertools.product("+-", ["", "a", "d", "f", "s"], ["", "N", "n", "p"], ["", "G", "g", "R", "r"])),
)
def test_every_rule_combination(sign: str, target: str, kind: str, strategy: str) -> None:
    regexp = strategy in ("R", "r")
    pattern = ("sub/" if kind == "p" else "") + ("Foo.*" if regexp else "Foo*")
    text = f"{sign}{target}{kind}{strategy}:{pattern}\n"
    if sign == "+":
        text = "-:*\n" + text  # so that a match is visible: matched entries come back, others stay out
    layer = MegaIgnore.parse("", text)
    expected = _expected(target, kind, strategy)
    for entry in ENTRIES:
        path, is_dir, is_symlink = entry
        verdict = layer.decide(path, is_dir=is_dir, is_symlink=is_symlink)
        if sign == "-":
            assert verdict is (False if entry in expected else None), (text, entry)
        else:
            assert verdict is (entry in expected), (text, entry)


def test_short_forms_are_name_glob_case_sensitive_for_anything() -> None:
    layer = MegaIgnore.parse("", "-:*.tmp\n")
    assert layer.decide("a.tmp", is_dir=False) is False
    assert layer.decide("d/e/a.tmp", is_dir=True) is False
    assert layer.decide("a.TMP", is_dir=False) is None
    assert layer.decide("a.tmpx", is_dir=False) is None


def test_glob_wildcards() -> None:
    layer = MegaIgnore.parse("", "-:a?c\n-p:x/*/z\n-:[ab]\n")
    assert layer.decide("abc", is_dir=False) is False
    assert layer.decide("ac", is_dir=False) is None
    assert layer.decide("x/y/z", is_dir=False) is False
    assert layer.decide("x/y/w/z", is_dir=False) is False  # '*' crosses '/' in path rules
    assert layer.decide("a", is_dir=False) is None  # brackets are literal: only * and ? are wildcards
    assert layer.decide("[ab]", is_dir=False) is False


def test_regex_is_a_full_match() -> None:
    layer = MegaIgnore.parse("", "-R:\\d+\n-pr:logs/.*\\.LOG\n")
    assert layer.decide("123", is_dir=False) is False
    assert layer.decide("a123", is_dir=False) is None
    assert layer.decide("logs/x.log", is_dir=False) is False
    assert layer.decide("x/logs/x.log", is_dir=False) is None


def test_last_matching_line_wins() -> None:
    layer = MegaIgnore.parse("", "-:*.txt\n+:keep*.txt\n-:keep-not.txt\n")
    assert layer.decide("a.txt", is_dir=False) is False
    assert layer.decide("keep1.txt", is_dir=False) is True
    assert layer.decide("keep-not.txt", is_dir=False) is False
    assert layer.decide("a.bin", is_dir=False) is None


def test_nested_files_deeper_wins() -> None:
    tree = {
        ".megaignore": "-:*.log\n-d:cache\n",
        "a.log": "",
        "sub/.megaignore": "+:*.log\n",
        "sub/b.log": "",
        "sub/deeper/c.log": "",
        "other/d.log": "",
        "cache/x": "",
        "sub/cache/y": "",
        "file/cache": "",
    }
    assert walk(Filter(MEGA), tree) == [
        ".megaignore",
        "file/",
        "file/cache",  # -d: only directories
        "other/",
        "sub/",
        "sub/.megaignore",
        "sub/b.log",
        "sub/deeper/",
        "sub/deeper/c.log",
    ]


def test_name_rule_only_in_its_folder() -> None:
    tree = {
        ".megaignore": "-n:tmp\n",
        "tmp": "",
        "d/tmp": "",
        "d/.megaignore": "-fn:x\n",
        "d/x": "",
        "d/e/x": "",
    }
    assert walk(Filter(MEGA), tree) == [".megaignore", "d/", "d/.megaignore", "d/e/", "d/e/x", "d/tmp"]


def test_path_rules_are_relative_to_the_folder() -> None:
    tree = {"sub/.megaignore": "-p:a/b\n", "a/b": "", "sub/a/b": "", "sub/x/a/b": ""}
    expected = ["a/", "a/b", "sub/", "sub/.megaignore", "sub/a/", "sub/x/", "sub/x/a/", "sub/x/a/b"]
    assert walk(Filter(MEGA), tree) == expected


def test_megaignore_itself_is_always_synced() -> None:
    tree = {".megaignore": "-:.*\n-:*ignore\n", ".hidden": "", "d/.megaignore": "-:*\n", "d/x": ""}
    assert walk(Filter(MEGA), tree) == [".megaignore", "d/", "d/.megaignore"]


def test_size_limits() -> None:
    tree = {
        ".megaignore": "exclude-larger:1k\nexclude-smaller:2\n",
        "empty": "",
        "two": "xx",
        "k": "x" * 1024,
        "big": "x" * 1025,
        "d/big": "x" * 1025,
    }
    assert walk(Filter(MEGA), tree) == [".megaignore", "d/", "k", "two"]


def test_nearest_size_limit_wins_and_rules_still_apply() -> None:
    tree = {
        ".megaignore": "exclude-larger:1\n",
        "sub/.megaignore": "exclude-larger:10\n-:*.skip\n",
        "a": "xx",
        "sub/a": "x" * 10,
        "sub/b": "x" * 11,
        "sub/c.skip": "",
        "sub/deeper/a": "x" * 10,
        "sub/deeper/b": "x" * 11,
        "other/a": "xx",
    }
    assert walk(Filter(MEGA), tree) == [
        ".megaignore",
        "other/",
        "sub/",
        "sub/.megaignore",
        "sub/a",
        "sub/deeper/",
        "sub/deeper/a",
    ]


def test_unknown_size_is_not_judged() -> None:
    filt = Filter(MEGA).enter("", {".megaignore"}, lambda name: b"exclude-larger:1\n")
    assert filt is not None
    assert filt.include("a", size=None) and filt.include("a", size=-1) and not filt.include("a", size=2)
    assert filt.include("d", is_dir=True)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10", 10),
        ("10k", 10240),
        ("10K", 10240),
        ("1.5M", 1536 * 1024),
        ("2G", 2 * 1024**3),
        ("1T", 1024**4),
        ("0", 0),
        (".5k", 512),
        ("3m", 3 * 1024**2),
        ("1g", 1024**3),
    ],
)
def test_parse_mega_size(text: str, size: int) -> None:
    assert parse_mega_size(text) == size


@pytest.mark.parametrize("text", ["", "k", "1x", "-1", "1 k", "1kb", "1P", "1e3"])
def test_parse_mega_size_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_mega_size(text)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("foo", "malformed rule"),
        ("-x:foo", "malformed rule"),
        ("-aNGx:foo", "malformed rule"),
        ("-Na:foo", "malformed rule"),
        ("*:foo", "malformed rule"),
        ("-aNG", "malformed rule"),
        ("=:foo", "malformed rule"),
        ("-:", "empty pattern"),
        ("exclude-larger:abc", "invalid size"),
        ("exclude-smaller:", "invalid size"),
        ("exclude-bigger:1k", "malformed rule"),
        ("-R:[", "bad regular expression"),
        ("-r:(?", "bad regular expression"),
    ],
)
def test_malformed_lines_name_file_and_line(line: str, message: str) -> None:
    with pytest.raises(FilterError) as info:
        MegaIgnore.parse("", f"# comment\n\n-:ok\n{line}\n", source="d/.megaignore")
    assert str(info.value).startswith(f"d/.megaignore:4: {message}")
    assert "\n" not in str(info.value)


def test_enter_names_the_file_by_path() -> None:
    with pytest.raises(FilterError, match=r"^a/b/\.megaignore:2: malformed rule"):
        Filter(MEGA).enter("a/b", {".megaignore"}, lambda name: b"-:x\nbad\n")


def test_comments_blank_lines_bom_crlf() -> None:
    layer = MegaIgnore.parse(
        "", "\ufeff# MEGA\r\n\r\n   \r\n  # indented\r\n-:Thumbs.db\r\n-:desktop.ini  \r\n"
    )
    assert [rule.line for rule in layer.rules] == [5, 6]
    assert layer.decide("Thumbs.db", is_dir=False) is False
    assert layer.decide("desktop.ini", is_dir=False) is False


def test_megaignore_can_be_turned_off() -> None:
    filt = Filter(FilterOptions(ignore_files=(), megaignore=False))
    assert ".megaignore" not in filt.ignore_file_names
    assert walk(filt, {".megaignore": "-:*\n", "a": ""}) == [".megaignore", "a"]


def test_megaignore_and_syncignore_both_apply() -> None:
    tree = {".megaignore": "-:*.mega\n", ".syncignore": "*.sync\n", "a.mega": "", "a.sync": "", "a": ""}
    assert walk(Filter(), tree) == [".megaignore", ".syncignore", "a"]


def test_symlink_rules_need_the_walker_to_say_so() -> None:
    filt = Filter(MEGA).enter("", {".megaignore"}, lambda name: b"-s:*\n")
    assert filt is not None
    assert filt.include("link", size=1, is_symlink=True) is False
    assert filt.include("link", size=1) is True
