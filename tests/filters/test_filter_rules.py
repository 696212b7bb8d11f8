"""rclone's rule language: first match wins, implicit ``- /**``, flag-kind ordering, directory pruning.

Every (flags, path, listed) case below was checked against the real rclone binary (v1.75.2): a tree holding
the case's paths was listed with ``rclone lsf -R FLAGS`` and the path's presence compared with ``listed``.
"listed" includes the directory pruning: a file rclone never reaches because a parent directory is
excluded is not listed, which is why e.g. ``--include dir/file.jpg`` does not find ``a/dir/file.jpg``.
Paths ending in '/' are directories.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filters import (
    Filter,
    FilterError,
    FilterOptions,
    RulesFile,
    compile_rules,
    read_rules_file,
    rule_lines,
)

Flags = tuple[str, ...]

RCLONE_CASES: list[tuple[Flags, str, bool]] = [
    # --- rclone's filtering docs: pattern syntax ---
    (("--include", "*.jpg"), "file.jpg", True),
    (("--include", "*.jpg"), "directory/file.jpg", True),
    (("--include", "*.jpg"), "file.png", False),
    (("--include", "*.jpg"), "directory/file.png", False),
    (("--include", "*.jpg"), "file.jpgx", False),
    (("--include", "*.jpg"), "file.JPG", False),
    (("--include", "/*.jpg"), "file.jpg", True),
    (("--include", "/*.jpg"), "directory/file.jpg", False),
    (("--include", "file.jpg"), "file.jpg", True),
    (("--include", "file.jpg"), "directory/file.jpg", True),
    (("--include", "file.jpg"), "afile.jpg", False),
    (("--include", "file.jpg"), "directory/afile.jpg", False),
    (("--include", "/file.jpg"), "file.jpg", True),
    (("--include", "/file.jpg"), "afile.jpg", False),
    (("--include", "/file.jpg"), "directory/file.jpg", False),
    (("--include", "*.t?t"), "file.txt", True),
    (("--include", "*.t?t"), "file.tzt", True),
    (("--include", "*.t?t"), "dir/file.txt", True),
    (("--include", "*.t?t"), "file.png", False),
    (("--include", "*.t?t"), "file.tt", False),
    (("--include", "l?ss"), "less", True),
    (("--include", "l?ss"), "lass", True),
    (("--include", "l?ss"), "floss", False),
    (("--include", "h[ae]llo"), "hello", True),
    (("--include", "h[ae]llo"), "hallo", True),
    (("--include", "h[ae]llo"), "hullo", False),
    (("--include", "[a-c]x"), "ax", True),
    (("--include", "[a-c]x"), "cx", True),
    (("--include", "[a-c]x"), "dx", False),
    (("--include", "[^a]x"), "bx", True),
    (("--include", "[^a]x"), "ax", False),
    # rclone hands brackets to Go's regexp, where '!' is not negation: [!a] is the set {'!', 'a'}
    (("--include", "[!a]x"), "ax", True),
    (("--include", "[!a]x"), "!x", True),
    (("--include", "[!a]x"), "bx", False),
    (("--include", "{one,two}_potato"), "one_potato", True),
    (("--include", "{one,two}_potato"), "two_potato", True),
    (("--include", "{one,two}_potato"), "three_potato", False),
    (("--include", "{one,two}_potato"), "_potato", False),
    (("--include", "*.{jpg,png}"), "a.jpg", True),
    (("--include", "*.{jpg,png}"), "d/a.png", True),
    (("--include", "*.{jpg,png}"), "a.gif", False),
    (("--include", r"\*.jpg"), "*.jpg", True),
    (("--include", r"\*.jpg"), "a.jpg", False),
    (("--include", r"\[one\].jpg"), "[one].jpg", True),
    (("--include", r"\[one\].jpg"), "o.jpg", False),
    (("--include", "{{.*\\.jpe?g}}"), "a.jpg", True),
    (("--include", "{{.*\\.jpe?g}}"), "d/a.jpeg", True),
    (("--include", "{{.*\\.jpe?g}}"), "a.png", False),
    # --- ** and anchoring, with rclone's directory pruning ---
    (("--include", "dir/**"), "dir/file.jpg", True),
    (("--include", "dir/**"), "dir/dir1/dir2/file.jpg", True),
    (("--include", "dir/**"), "directory/file.jpg", False),
    (("--include", "dir/**"), "other/dir/file.jpg", False),  # 'other/' is pruned: no dir rule admits it
    (("--include", "/dir/**"), "dir/sub/file.jpg", True),
    (("--include", "/dir/**"), "other/dir/file.jpg", False),
    (("--include", "**/dir/**"), "a/dir/file.jpg", True),
    (("--include", "**/dir/**"), "dir/file.jpg", False),  # the regexp needs a '/' before "dir"
    (("--include", "dir/file.jpg"), "dir/file.jpg", True),
    (("--include", "dir/file.jpg"), "a/dir/file.jpg", False),  # 'a/' is pruned
    (("--include", "a**b"), "a/b", True),
    (("--include", "a**b"), "a/x/b", True),
    (("--include", "a**b"), "x/a/y/b", False),  # 'x/' is pruned
    (("--include", "*"), "a", True),
    (("--include", "*"), "d/a", True),
    (("--include", "/a/*.jpg"), "a/x.jpg", True),
    (("--include", "/a/*.jpg"), "a/b/x.jpg", False),
    (("--include", "/a/*.jpg"), "a/b/", False),
    (("--include", "/a/*.jpg"), "b/", False),
    (("--include", "/a/*.jpg"), "a/", True),
    # --- directory rules: a trailing '/' ---
    (("--exclude", "dir/"), "dir/", False),
    (("--exclude", "dir/"), "dir/x", False),
    (("--exclude", "dir/"), "a/dir/x", False),
    (("--exclude", "dir/"), "dirx/y", True),
    (("--exclude", "dir/"), "b/dir", True),  # a file named "dir" is not a directory
    (("--exclude", "/dir/"), "dir/x", False),
    (("--exclude", "/dir/"), "a/dir/x", True),
    (("--exclude", "dir/**"), "dir/file.jpg", False),
    (("--exclude", "dir/**"), "a/dir/file.jpg", False),
    (("--exclude", "dir/**"), "dir2/file.jpg", True),
    (("--include", "dir/"), "dir/", True),
    (("--include", "dir/"), "dir/x", False),  # an include directory rule admits the walk, not the files
    (("--exclude", "*.bak"), "a.bak", False),
    (("--exclude", "*.bak"), "d/a.bak", False),
    (("--exclude", "*.bak"), "a.bak2", True),
    (("--exclude", "*"), "a", False),
    (("--exclude", "*"), "d/", False),
    (("--exclude", "/*"), "a", False),
    (("--exclude", "/*"), "d/a", True),
    (("--exclude", "**"), "a", False),
    (("--exclude", "**"), "d/", False),
    # --- --ignore-case ---
    (("--ignore-case", "--include", "*.JPG"), "file.jpg", True),
    (("--ignore-case", "--include", "*.JPG"), "D/FILE.JPG", True),
    (("--ignore-case", "--include", "*.JPG"), "file.png", False),
    (("--ignore-case", "--exclude", "DIR/"), "dir/x", False),
    (("--ignore-case", "--exclude", "DIR/"), "Dir/", False),
    (("--exclude", "DIR/"), "dir/x", True),
    # --- mixing flags: order is include, exclude, filter (then the implicit - /**), first match wins ---
    (("--exclude", "*.txt", "--include", "*.txt"), "a.txt", True),
    (("--include", "*.txt", "--exclude", "a.txt"), "a.txt", True),
    (("--include", "*.txt", "--exclude", "a.txt"), "b.txt", True),
    (("--include", "*.txt", "--exclude", "a.txt"), "c.jpg", False),
    (("--exclude", "a.txt", "--filter", "+ a.txt"), "a.txt", False),
    (("--filter", "+ a.txt", "--exclude", "*.txt"), "a.txt", False),
    (("--filter", "+ a.txt", "--filter", "- *.txt"), "a.txt", True),
    (("--filter", "+ a.txt", "--filter", "- *.txt"), "b.txt", False),
    (("--filter", "+ a.txt", "--filter", "- *.txt"), "c.jpg", True),
    (("--filter", "+ /a/keep/**", "--filter", "- /a/**"), "a/keep/x", True),
    (("--filter", "+ /a/keep/**", "--filter", "- /a/**"), "a/other/x", False),
    (("--filter", "+ /a/keep/**", "--filter", "- /a/**"), "a/x", False),
    (("--filter", "+ /a/keep/**", "--filter", "- /a/**"), "b/x", True),
    (("--filter", "- /a/**", "--filter", "+ /a/keep/**"), "a/keep/x", False),
    (("--filter", "+ *.jpg", "--filter", "- *"), "d/a.jpg", True),
    (("--filter", "+ *.jpg", "--filter", "- *"), "d/a.txt", False),
    (("--filter", "- *", "--filter", "+ *.jpg"), "a.jpg", False),
    (("--exclude", "*", "--include", "*.jpg"), "d/a.jpg", True),
    # --- '!' clears everything before it, --include rules too; the implicit - /** stays ---
    (("--include", "x", "--filter", "!", "--filter", "+ y"), "x", False),
    (("--include", "x", "--filter", "!", "--filter", "+ y"), "y", True),
    (("--include", "x", "--filter", "!", "--filter", "+ y"), "z", False),
    (("--filter", "- *.txt", "--filter", "!", "--filter", "- *.jpg"), "a.txt", True),
    (("--filter", "- *.txt", "--filter", "!", "--filter", "- *.jpg"), "a.jpg", False),
]


def options_from_flags(flags: Sequence[str]) -> FilterOptions:
    """FilterOptions for rclone command-line flags (the subset the tables use)."""
    lists: dict[str, list[str]] = {"include": [], "exclude": [], "filter_rules": []}
    ignore_case = False
    args = iter(flags)
    for flag in args:
        if flag == "--ignore-case":
            ignore_case = True
        else:
            key = {"--include": "include", "--exclude": "exclude", "--filter": "filter_rules"}[flag]
            lists[key].append(next(args))
    return FilterOptions(
        include=tuple(lists["include"]),
        exclude=tuple(lists["exclude"]),
        filter_rules=tuple(lists["filter_rules"]),
        ignore_case=ignore_case,
        ignore_files=(),
        megaignore=False,
    )


def listed(filt: Filter, path: str) -> bool:
    """Whether a walk that prunes excluded directories lists ``path`` (a directory if it ends in '/')."""
    parts = path.rstrip("/").split("/")
    for depth in range(1, len(parts)):
        if not filt.include_dir("/".join(parts[:depth])):
            return False
    if path.endswith("/"):
        return filt.include_dir(path[:-1])
    return filt.include(path)


@pytest.mark.parametrize(("flags", "path", "expected"), RCLONE_CASES)
def test_rclone_cases(flags: Flags, path: str, expected: bool) -> None:
    assert listed(Filter(options_from_flags(flags)), path) is expected


# (flags, rclone --dump filters output between the start/end lines), copied from the binary
DUMP_CASES: list[tuple[Flags, list[str]]] = [
    (
        ("--include", "*.jpg"),
        [r"+ (^|/)[^/]*\.jpg$", "- ^.*$", "--- Directory filter rules ---", "+ ^.*$", "- ^.*$"],
    ),
    (
        ("--include", "dir/file.jpg"),
        [r"+ (^|/)dir/file\.jpg$", "- ^.*$", "--- Directory filter rules ---", "+ (^|/)dir/$", "- ^.*$"],
    ),
    (
        ("--include", "/dir/**"),
        [
            "+ ^dir/.*$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ ^dir/.*/$",
            "+ ^dir/$",
            "+ ^dir/.*$",
            "- ^.*$",
        ],
    ),
    (
        ("--include", "**/dir/**"),
        [
            "+ (^|/).*/dir/.*$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ (^|/).*/dir/.*/$",
            "+ (^|/).*/dir/$",
            "+ (^|/).*/$",
            "+ (^|/).*/dir/.*$",
            "- ^.*$",
        ],
    ),
    (
        ("--include", "a**b"),
        [
            "+ (^|/)a.*b$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ (^|/)a.*/$",
            "+ (^|/)a.*b$",
            "- ^.*$",
        ],
    ),
    (
        ("--exclude", "dir/", "--include", "dir/"),
        [
            "- (^|/)dir/.*$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ (^|/)dir/$",
            "- (^|/)dir/.*$",
            "- ^.*$",
        ],
    ),
    (
        ("--exclude", "*.txt", "--include", "*.jpg", "--filter", "- b", "--filter", "+ c"),
        [
            r"+ (^|/)[^/]*\.jpg$",
            r"- (^|/)[^/]*\.txt$",
            "- (^|/)b$",
            "+ (^|/)c$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ ^.*$",
            "- ^.*$",
        ],
    ),
    (
        ("--include", "x", "--filter", "!"),
        ["- ^.*$", "--- Directory filter rules ---", "- ^.*$"],
    ),
    (
        ("--ignore-case", "--include", "*.JPG"),
        [
            r"+ (?i)(^|/)[^/]*\.JPG$",
            "- (?i)^.*$",
            "--- Directory filter rules ---",
            "+ (?i)^.*$",
            "- (?i)^.*$",
        ],
    ),
    (("--exclude", "*"), ["- (^|/)[^/]*$", "--- Directory filter rules ---", "- ^.*$"]),
    (("--exclude", "/*"), ["- ^[^/]*$", "--- Directory filter rules ---"]),
    (("--exclude", "**"), ["- (^|/).*$", "--- Directory filter rules ---", "- (^|/).*$"]),
    (("--include", "/"), ["- ^.*$", "--- Directory filter rules ---", "+ ^$", "- ^.*$"]),
    (
        ("--include", "/a/{jpg,png}/*.{jpg,png}"),
        [
            r"+ ^a/(jpg|png)/[^/]*\.(jpg|png)$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ ^a/(jpg|png)/$",
            "+ ^a/$",
            "- ^.*$",
        ],
    ),
    (
        ("--include", "q/{b,c**}/e"),
        [
            "+ (^|/)q/(b|c.*)/e$",
            "- ^.*$",
            "--- Directory filter rules ---",
            "+ ^.*$",
            "+ (^|/)q/(b|c.*)/e$",
            "- ^.*$",
        ],
    ),
    (
        ("--include", "a/b/"),
        ["- ^.*$", "--- Directory filter rules ---", "+ (^|/)a/b/$", "- ^.*$"],
    ),
    # duplicates are kept once, at their first position
    (
        ("--include", "a", "--include", "b", "--include", "a"),
        ["+ (^|/)a$", "+ (^|/)b$", "- ^.*$", "--- Directory filter rules ---", "+ ^.*$", "- ^.*$"],
    ),
]


@pytest.mark.parametrize(("flags", "expected"), DUMP_CASES)
def test_dump_is_rclones(flags: Flags, expected: list[str]) -> None:
    dump = Filter(options_from_flags(flags)).dump().split("\n")
    assert dump[:2] == ["--- start filters ---", "--- File filter rules ---"]
    assert dump[-1] == "--- end filters ---"
    assert dump[2:-1] == expected


def test_rules_file_order_and_implicit_exclude(tmp_path: Path) -> None:
    # Observed with rclone: include, include-from, exclude, exclude-from, filter, filter-from, - /**.
    (tmp_path / "inc").write_text("inc1\n")
    (tmp_path / "exc").write_text("exc1\n")
    (tmp_path / "flt").write_text("- ff1\n")
    options = FilterOptions(
        include=("i1",),
        include_from=(str(tmp_path / "inc"),),
        exclude=("e1",),
        exclude_from=(str(tmp_path / "exc"),),
        filter_rules=("+ f1",),
        filter_from=(str(tmp_path / "flt"),),
    )
    rules = [str(rule) for rule in Filter(options).rules.files]
    assert rules == [
        "+ (^|/)i1$",
        "+ (^|/)inc1$",
        "- (^|/)e1$",
        "- (^|/)exc1$",
        "+ (^|/)f1$",
        "- (^|/)ff1$",
        "- ^.*$",
    ]


def test_empty_include_from_still_adds_the_implicit_exclude() -> None:
    rules = compile_rules(include_from=[RulesFile("empty", "\n# nothing\n")])
    assert [str(rule) for rule in rules.files] == ["- ^.*$"]
    assert not rules.include("anything")


def test_no_rules_include_everything() -> None:
    rules = compile_rules()
    assert not rules
    assert rules.include("a/b") and rules.include_dir("a")


def test_rule_lines_trim_and_skip_comments() -> None:
    text = "  + a  \n;c\n#c\n\n  \n- b\r\n"
    assert rule_lines(text) == [(1, "+ a"), (6, "- b")]


@pytest.mark.parametrize("line", ["x", "+x", "+", "-", "+\ta", "!!"])
def test_malformed_filter_rule(line: str) -> None:
    with pytest.raises(FilterError, match="malformed rule"):
        compile_rules(filter_rules=[line])


def test_bad_line_in_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    path.write_text("# header\n+ *.jpg\n\nnonsense\n")
    with pytest.raises(FilterError) as info:
        Filter(FilterOptions(filter_from=(str(path),)))
    assert str(info.value) == f'{path}:4: malformed rule "nonsense"'
    path.write_text("*.jpg\n{a\n")
    with pytest.raises(FilterError, match=r"rules.txt:2: mismatched '\{' and '\}' in glob"):
        Filter(FilterOptions(exclude_from=(str(path),)))


def test_unreadable_rules_file(tmp_path: Path) -> None:
    with pytest.raises(FilterError, match=r"cannot read filter file .*missing"):
        read_rules_file(str(tmp_path / "missing"))


def test_rules_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    path.write_bytes("\ufeff- *.tmp\r\n+ keep/**\r\n".encode())
    rules = [str(rule) for rule in Filter(FilterOptions(filter_from=(str(path),))).rules.files]
    assert rules == [r"- (^|/)[^/]*\.tmp$", "+ (^|/)keep/.*$"]


def test_bad_glob_flag_raises() -> None:
    with pytest.raises(FilterError, match="too many stars"):
        Filter(FilterOptions(include=("***",)))


# --- properties --------------------------------------------------------------------------------------

_name = st.text(
    alphabet=st.characters(blacklist_characters="*?[]{}\\/", blacklist_categories=["Cs"]), min_size=1
)
_names = st.lists(_name, min_size=1, max_size=4)


@given(name=_name, path_parts=_names, pick=st.booleans())
def test_property_include_literal_name(name: str, path_parts: list[str], pick: bool) -> None:
    # --include NAME includes exactly the files whose last component is NAME (literal names only).
    if pick:
        path_parts[-1] = name
    path = "/".join(path_parts)
    rules = compile_rules(include=[name])
    assert rules.include(path) is (path_parts[-1] == name)


_rule = st.tuples(
    st.sampled_from(["+ ", "- "]),
    st.sampled_from(["*.txt", "a", "/a", "a/**", "**/b", "*", "/*", "b/", "?", "{a,b}*", "[ab]x"]),
).map("".join)
_path = st.lists(st.sampled_from(["a", "b", "x.txt", "ax", "bx", "c"]), min_size=1, max_size=4).map("/".join)


@given(rules=st.lists(_rule, min_size=1, max_size=5), extra=_rule, path=_path)
def test_property_first_match_wins(rules: list[str], extra: str, path: str) -> None:
    # Adding a rule after one that already matches never changes the verdict.
    before = compile_rules(filter_rules=rules)
    after = compile_rules(filter_rules=[*rules, extra])
    if any(rule.glob.matches(path) for rule in before.files):
        assert after.include(path) is before.include(path)
    # And the combined matcher agrees with trying the rules one by one.
    verdict = next((rule.include for rule in after.files if rule.glob.matches(path)), True)
    assert after.include(path) is verdict
