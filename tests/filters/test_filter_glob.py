"""rclone globs: the Go regexp we build must be rclone's, byte for byte, and match the same paths.

The expected regexps and error messages below were taken from ``rclone --dump filters`` (v1.75.2); the
matching cases from ``rclone lsf -R`` over real trees (see test_filter_rules.py).
"""

from __future__ import annotations

import fnmatch
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filters import FilterError, compile_glob, dir_globs

# (glob, ignore_case, rclone's regexp)
GLOB_REGEXPS = [
    ("*.jpg", False, r"(^|/)[^/]*\.jpg$"),
    ("/*.jpg", False, r"^[^/]*\.jpg$"),
    ("file.jpg", False, r"(^|/)file\.jpg$"),
    ("dir/file.jpg", False, r"(^|/)dir/file\.jpg$"),
    ("dir/**", False, r"(^|/)dir/.*$"),
    ("/dir/**", False, r"^dir/.*$"),
    ("**/dir/**", False, r"(^|/).*/dir/.*$"),
    ("/**", False, r"^.*$"),
    ("**", False, r"(^|/).*$"),
    ("a**b", False, r"(^|/)a.*b$"),
    ("*.t?t", False, r"(^|/)[^/]*\.t[^/]t$"),
    ("[!a]x", False, r"(^|/)[!a]x$"),
    ("[[:alpha:]]x", False, r"(^|/)[[:alpha:]]x$"),
    ("[a[b]c]", False, r"(^|/)[a[b]c]$"),
    (r"a\*b\.c\d", False, r"(^|/)a\*b\.c\d$"),
    (r"a\[b", False, r"(^|/)a\[b$"),
    ("x\\", False, r"(^|/)x\$"),
    ("a(b)|c+d^$", False, r"(^|/)a\(b\)\|c\+d\^\$$"),
    ("a,b", False, r"(^|/)a,b$"),
    (r"{a\,b}", False, r"(^|/)(a\,b)$"),
    ("*.{jpg,png}", False, r"(^|/)[^/]*\.(jpg|png)$"),
    ("{a,{b}}", False, r"(^|/)(a|(b))$"),
    ("{a,{b,c}}", False, r"(^|/)(a|(b|c))$"),
    ("a{b{c}}", False, r"(^|/)a(b(c))$"),
    ("{}", False, r"(^|/)()$"),
    ("{,a}", False, r"(^|/)(|a)$"),
    ("a/{b,c/d}/e", False, r"(^|/)a/(b|c/d)/e$"),
    ("q/{b,c**}/e", False, r"(^|/)q/(b|c.*)/e$"),
    ("/a/{jpg,png}/*.{jpg,png}", False, r"^a/(jpg|png)/[^/]*\.(jpg|png)$"),
    ("{{a.*b}}", False, r"(^|/)(a.*b)$"),
    ("x{{[0-9]+}}y", False, r"(^|/)x([0-9]+)y$"),
    ("{{a|b}}", False, r"(^|/)(a|b)$"),
    ("{{(?i)AB}}", False, r"(^|/)((?i)AB)$"),
    ("{{}}", False, r"(^|/)()$"),
    ("{{a}}{{b}}", False, r"(^|/)(a)(b)$"),
    ("{{a}}}", False, r"(^|/)(a})$"),
    ("{{a}}}}", False, r"(^|/)(a}})$"),
    ("{{{a}}", False, r"(^|/)({a)$"),
    ("a b", False, r"(^|/)a b$"),
    ("", False, r"(^|/)$"),
    ("/", False, r"^$"),
    ("*.JPG", True, r"(?i)(^|/)[^/]*\.JPG$"),
    ("/**", True, r"(?i)^.*$"),
]


@pytest.mark.parametrize(("glob", "ignore_case", "regexp"), GLOB_REGEXPS)
def test_regexp_is_rclones(glob: str, ignore_case: bool, regexp: str) -> None:
    assert compile_glob(glob, ignore_case=ignore_case).regex == regexp


# (glob, rclone's error message) - rclone reports these exact texts
GLOB_ERRORS = [
    ("***", 'too many stars in "***"'),
    ("a]", "mismatched ']' in glob \"a]\""),
    ("[]a]", "mismatched ']' in glob \"[]a]\""),
    ("{a", "mismatched '{' and '}' in glob \"{a\""),
    ("a}", "mismatched '{' and '}' in glob \"a}\""),
    ("[a", "mismatched '[' and ']' in glob \"[a\""),
    ("[[]", "mismatched '[' and ']' in glob \"[[]\""),
    ("{a,{{b}}}", "mismatched '{' and '}' in glob \"{a,{{b}}}\""),
    ("{{a},b}", "mismatched '{{' and '}}' in glob \"{{a},b}\""),
    ("a{{b", "mismatched '{{' and '}}' in glob \"a{{b\""),
    ("a[]b", 'bad glob pattern "a[]b" (regexp "(^|/)a[]b$")'),
]


@pytest.mark.parametrize(("glob", "message"), GLOB_ERRORS)
def test_malformed_globs_raise_rclones_message(glob: str, message: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_glob(glob)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


# (glob, path, matches): the glob alone, rclone's regexp semantics (unanchored search)
GLOB_MATCHES = [
    ("*.jpg", "file.jpg", True),
    ("*.jpg", "dir/sub/file.jpg", True),
    ("*.jpg", "file.jpgx", False),
    ("*.jpg", "dir.jpg/file", False),
    ("file.jpg", "afile.jpg", False),
    ("file.jpg", "a/file.jpg", True),
    ("dir/file.jpg", "x/dir/file.jpg", True),
    ("dir/file.jpg", "xdir/file.jpg", False),
    ("/file.jpg", "a/file.jpg", False),
    ("?", "a", True),
    ("?", "ab", False),
    ("a?c", "a/c", False),
    ("a*c", "a/c", False),
    ("a**c", "a/b/c", True),
    ("[^b]", "/", True),  # a Go class may match '/', as in rclone
    ("[!a]x", "ax", True),
    ("[!a]x", "!x", True),
    ("[!a]x", "bx", False),
    ("[[:digit:]]x", "7x", True),
    ("[[:digit:]]x", "ax", False),
    (r"\*.jpg", "*.jpg", True),
    (r"\*.jpg", "a.jpg", False),
    ("x\\", "x$", True),
    ("x\\", "x$/rest", True),  # the escaped '$' leaves the end unanchored, as rclone's regexp does
    ("{{\\d+}}", "123", True),
    ("{{\\d+}}", "12a", False),
    ("{{\\d+}}", "\u0663", False),  # Go's \d is ASCII only
    ("{{(?i)ab}}c", "ABc", True),
    ("{{(?i)ab}}c", "ABC", False),
    ("{{a{,2}}}", "a{,2}", True),  # Go reads {,2} literally
    ("{{\\Qa.b\\E}}", "a.b", True),
    ("{{\\Qa.b\\E}}", "axb", False),
    ("{{\\x41}}", "A", True),
    ("*.txt", "a.txt\n", False),  # Go's $ never matches before a final newline
    ("/**", "a\nb", True),  # '.' matches a newline, so "- /**" excludes every name
    ("**.txt", "a\n/b.txt", True),
    ("/", "", True),
]


@pytest.mark.parametrize(("glob", "path", "expected"), GLOB_MATCHES)
def test_glob_matches(glob: str, path: str, expected: bool) -> None:
    assert compile_glob(glob).matches(path) is expected


def test_ignore_case() -> None:
    glob = compile_glob("*.JPG", ignore_case=True)
    assert glob.matches("a/file.jpg") and glob.matches("FILE.Jpg")
    assert not compile_glob("*.JPG").matches("file.jpg")


@pytest.mark.parametrize("glob", ["{{\\pL}}", "{{(?U)a*}}", "{{a)}}", "{{\\y}}", "[[:nope:]]"])
def test_regexps_python_cannot_match_like_go_are_refused(glob: str) -> None:
    with pytest.raises(FilterError, match="bad glob pattern"):
        compile_glob(glob)


# rclone's own table for globToDirGlobs (fs/filter/glob_test.go), which the binary's dumps agree with
DIR_GLOBS = [
    ("*", ["/**"]),
    ("/*", ["/"]),
    ("*.jpg", ["/**"]),
    ("/*.jpg", ["/"]),
    ("/a/*.jpg", ["/a/", "/"]),
    ("/a/b/*.jpg", ["/a/b/", "/a/", "/"]),
    ("*/*/*.jpg", ["*/*/", "*/"]),
    ("a/b/", ["a/b/", "a/"]),
    ("a/b", ["a/"]),
    ("a/b/*.{jpg,png,gif}", ["a/b/", "a/"]),
    ("/a/{jpg,png,gif}/*.{jpg,png,gif}", ["/a/{jpg,png,gif}/", "/a/", "/"]),
    ("a/{a,a*b,a**c}/d/", ["/**"]),
    ("/a/{a,a*b,a/c,d}/d/", ["/**"]),
    ("a{{b}}/c/d", ["/**"]),
    ("{a,{b}}/c", ["/**"]),
    ("**", ["**/"]),
    ("a**", ["a**/"]),
    ("a**b", ["a**/"]),
    ("a**b**c**d", ["a**b**c**/", "a**b**/", "a**/"]),
    ("a**b/c**d", ["a**b/c**/", "a**b/", "a**/"]),
    (
        "/A/a**b/B/c**d/C/",
        [
            "/A/a**b/B/c**d/C/",
            "/A/a**b/B/c**d/",
            "/A/a**b/B/c**/",
            "/A/a**b/B/",
            "/A/a**b/",
            "/A/a**/",
            "/A/",
            "/",
        ],
    ),
    ("/var/spool/**", ["/var/spool/**/", "/var/spool/", "/var/", "/"]),
    ("a//b///c", ["a/b/", "a/"]),
]


@pytest.mark.parametrize(("glob", "expected"), DIR_GLOBS)
def test_dir_globs(glob: str, expected: list[str]) -> None:
    assert dir_globs(glob) == expected


# --- property: globs of literals and '*' agree with an independent per-component matcher ---------------

_segment_text = st.text(alphabet="ab.", min_size=0, max_size=3)
_glob_segment = (
    st.lists(st.one_of(_segment_text, st.just("*")), min_size=1, max_size=4).map("".join).filter(bool)
)


def _reference(glob: str, path: str) -> bool:
    """rclone semantics restated without regexps: an unanchored glob matches a trailing run of whole
    components, each component by fnmatch (where '*' cannot cross '/', since components hold none)."""
    anchored = glob.startswith("/")
    glob_parts = glob.lstrip("/").split("/")
    path_parts = path.split("/")
    if len(glob_parts) > len(path_parts) or (anchored and len(glob_parts) != len(path_parts)):
        return False
    tail = path_parts[len(path_parts) - len(glob_parts) :]
    return all(fnmatch.fnmatchcase(part, pattern) for part, pattern in zip(tail, glob_parts, strict=True))


@given(
    glob_parts=st.lists(_glob_segment, min_size=1, max_size=3),
    anchored=st.booleans(),
    path_parts=st.lists(st.text(alphabet="ab.", min_size=1, max_size=4), min_size=1, max_size=4),
)
def test_property_star_globs_agree_with_reference(
    glob_parts: list[str], anchored: bool, path_parts: list[str]
) -> None:
    glob = ("/" if anchored else "") + "/".join(glob_parts)
    if "**" in glob:  # "**" crosses '/', which the per-component reference does not model
        return
    path = "/".join(path_parts)
    assert compile_glob(glob).matches(path) is _reference(glob, path), (glob, path)


@given(
    st.text(alphabet=st.characters(blacklist_characters="*?[]{}\\/", blacklist_categories=["Cs"]), min_size=1)
)
def test_property_literal_glob_is_escaped(name: str) -> None:
    # Regexp metacharacters in a name are literal: the glob matches the name itself and nothing else.
    glob = compile_glob(name)
    assert glob.matches(name) and glob.matches("dir/" + name)
    assert not glob.matches(name + "x")
    assert re.fullmatch(r"\(\^\|/\).*\$", glob.regex, re.DOTALL)
