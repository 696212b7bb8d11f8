"""rclone globs, compiled to regular expressions exactly as rclone compiles them.

rclone turns each glob into a Go regexp (``fs/filter/glob.go``) and matches it against the path with an
unanchored search. We build the very same Go regexp text, so ``--dump filters`` output is identical to
rclone's, and then translate that Go regexp into an equivalent Python one that is anchored at the start,
so several rules can later be joined into one alternation that a single ``re.match`` call evaluates.

Glob syntax (rclone's filtering docs, checked against the rclone binary):

- ``*`` any run of characters except ``/``; ``**`` any run including ``/``; three or more stars are an error;
- ``?`` one character except ``/``;
- ``[...]`` a Go character class, passed through unchanged: ``[^a]`` negates, ``[!a]`` does NOT (it is the
  class of ``!`` and ``a``, as in rclone), ``[[:alpha:]]`` is a POSIX class;
- ``{a,b,c}`` alternation (may nest and hold globs); ``{{re}}`` a raw Go regexp;
- ``\\`` makes the next character literal (``\\*``); other regexp metacharacters are escaped for you;
- a glob starting with ``/`` is anchored at the root; any other glob matches the end of the path at any
  depth, on a component boundary: ``file.jpg`` matches ``file.jpg`` and ``dir/file.jpg``, not ``afile.jpg``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from filters.errors import FilterError

__all__ = ["NAME_PREFIX", "Glob", "compile_glob", "dir_globs"]

# Skips every directory of a path in one pass and never gives them back: what a last-component-only
# glob (``Glob.name``) is matched after.
NAME_PREFIX = "(?:[^/]*+/)*+"


@dataclass(frozen=True, slots=True)
class Glob:
    """One compiled glob.

    ``regex`` is rclone's Go regexp text, exactly as ``rclone --dump filters`` prints it. ``python`` is an
    equivalent Python regexp (self-contained: the case flag is scoped inside it) meant for ``re.match``,
    so it can be embedded in a larger alternation; ``compiled`` is that regexp compiled.

    ``name`` is set for the common globs that can only ever match the last path component (unanchored,
    no '/', '**', class or raw regexp: ``*.tmp``, ``Thumbs.db``): a Python regexp for that component alone,
    to be matched after a possessive ``(?:[^/]*+/)*+`` that skips the directories once for a whole run of
    such rules instead of backtracking through the path once per rule.
    """

    pattern: str
    ignore_case: bool
    regex: str
    python: str
    compiled: re.Pattern[str]
    name: str | None = None

    def matches(self, path: str) -> bool:
        """Whether this glob matches ``path`` (relative, '/'-separated; directories end in '/')."""
        return self.compiled.match(path) is not None


def _quote(text: str) -> str:
    # Go's %q, near enough for messages: double quotes, escapes for quotes and control characters.
    import json  # only for messages

    return json.dumps(text, ensure_ascii=False)


def compile_glob(pattern: str, *, ignore_case: bool = False) -> Glob:
    """Compile an rclone glob; raise FilterError (naming the pattern) when it is malformed.

    The error messages are rclone's, so a user comparing with rclone sees the same complaint.
    """
    anchored = pattern.startswith("/")
    body = _rclone_body(pattern[1:] if anchored else pattern, pattern)
    regex = ("(?i)" if ignore_case else "") + ("^" if anchored else "(^|/)") + body + "$"
    try:
        translated = _GoToPython(body + "$").translate()
    except FilterError as exc:
        raise FilterError(f"bad glob pattern {_quote(pattern)} (regexp {_quote(regex)}): {exc}") from None
    # rclone searches for (^|/)X anywhere; matching (.*/)?X from the start accepts exactly the same paths.
    # '.' matches newlines too: rclone never shows its filters a control character (its local backend
    # encodes them as look-alikes), and without this "- /**" would let a name holding a newline through.
    flags = "(?is:" if ignore_case else "(?s:"
    # A trailing backslash escapes rclone's final '$', so such a glob may match beyond the last component.
    last_component_only = not (
        anchored
        or "/" in pattern
        or "[" in pattern
        or "**" in pattern
        or "{{" in pattern
        or pattern.endswith("\\")
    )
    name = flags + translated + ")" if last_component_only else None
    python = NAME_PREFIX + name if name else flags + ("" if anchored else "(?:[^/]*+/)*") + translated + ")"
    try:
        compiled = re.compile(python)
    except re.error as exc:
        raise FilterError(f"bad glob pattern {_quote(pattern)} (regexp {_quote(regex)}): {exc}") from None
    return Glob(pattern, ignore_case, regex, python, compiled, name)


def _rclone_body(glob: str, original: str) -> str:
    """The Go regexp rclone builds for ``glob`` (already stripped of a leading '/'), without anchors.

    Same state machine as rclone's globToRegexp, including its corner cases (``{{a}}}`` is the regexp
    ``a}``; a trailing backslash escapes the final ``$``), because the point is to accept and match
    exactly what rclone does.
    """
    out: list[str] = []
    stars = 0
    brace_depth = 0
    brackets = 0
    slashed = False
    in_regexp = False  # inside {{ ... }}
    in_regexp_end = False  # just saw the closing }}: more '}' still belong to the regexp
    last = ""
    current = ""

    def flush_stars() -> None:
        nonlocal stars
        if stars == 1:
            out.extend("[^/]*")
        elif stars == 2:
            out.extend(".*")
        elif stars > 2:
            raise FilterError(f"too many stars in {_quote(original)}")
        stars = 0

    for c in glob:
        last, current = current, c
        if slashed:
            out.append(c)
            slashed = False
            continue
        if in_regexp_end:
            if c == "}":
                out[-1] = "}"
                out.append(")")
                continue
            in_regexp_end = False
        if in_regexp:
            if c == "}" and last == "}":
                in_regexp = False
                in_regexp_end = True
                out[-1] = ")"
            else:
                out.append(c)
            continue
        if c != "*":
            flush_stars()
        if brackets:
            out.append(c)
            if c == "[":
                brackets += 1
            elif c == "]":
                brackets -= 1
            continue
        if c == "\\":
            out.append(c)
            slashed = True
        elif c == "*":
            stars += 1
        elif c == "?":
            out.extend("[^/]")
        elif c == "[":
            out.append(c)
            brackets += 1
        elif c == "]":
            raise FilterError(f"mismatched ']' in glob {_quote(original)}")
        elif c == "{":
            if brace_depth > 0 and last == "{":
                # "{{" opens a raw regexp: the '(' the first brace wrote now wraps it.
                in_regexp = True
                brace_depth -= 1
            else:
                brace_depth += 1
                out.append("(")
        elif c == "}":
            if brace_depth <= 0:
                raise FilterError(f"mismatched '{{' and '}}' in glob {_quote(original)}")
            out.append(")")
            brace_depth -= 1
        elif c == ",":
            out.append("|" if brace_depth else ",")
        elif c in ".+()|^$":
            out.append("\\")
            out.append(c)
        else:
            out.append(c)
    flush_stars()
    if brackets:
        raise FilterError(f"mismatched '[' and ']' in glob {_quote(original)}")
    if brace_depth:
        raise FilterError(f"mismatched '{{' and '}}' in glob {_quote(original)}")
    if in_regexp:
        raise FilterError(f"mismatched '{{{{' and '}}}}' in glob {_quote(original)}")
    return "".join(out)


# rclone's globToDirGlobs gives up (every directory may hold a match) on '/' or '**' inside braces, on
# {{regexp}} and on nested braces.
_TOO_HARD = re.compile(r"(\{[^{}]*(\*\*|/)[^{}]*\})|\{\{|\}\}|\{[^{}]*\{")
_SLASHES = re.compile(r"/{2,}")


def dir_globs(pattern: str) -> list[str]:
    """The directory globs rclone derives from a file glob (deepest first).

    A directory (matched with a trailing '/') can hold a match of ``pattern`` only if one of these globs
    matches it; rclone adds them as include rules for directories so that ``--include /a/b/*.jpg``
    descends into ``a`` and ``a/b`` only. ``["/**"]`` means "any directory may hold a match".
    """
    if _TOO_HARD.search(pattern):
        return ["/**"]
    glob = _SLASHES.sub("/", pattern)
    out: list[str] = []
    while True:
        i = glob.rfind("/")
        j = glob.rfind("**")
        what = ""
        if j > i:
            i, what = j, "**"
        if i < 0:
            if not out:
                out.append("/**")
            return out
        glob = glob[:i]
        new = glob + what + "/"
        if not out or out[-1] != new:
            out.append(new)


# --- Go (RE2) regexp syntax -> Python re --------------------------------------------------------------

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
# Go's Perl classes are ASCII-only; Python's are Unicode-aware, so spell them out.
_PERL_CLASSES = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}
_CONTROL_ESCAPES = {"a": "\\x07", "f": "\\f", "n": "\\n", "r": "\\r", "t": "\\t", "v": "\\v"}
_REPEAT = re.compile(r"\{\d+(,\d*)?\}")
_FLAG_GROUP = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")


class _GoToPython:
    """Translate the Go regexp syntax rclone emits (and users write in ``{{...}}``) into Python's.

    Everything rclone generates itself (``[^/]*``, ``.*``, ``(a|b)``, ``\\.``) maps one to one; the work is
    in the places where the two dialects differ: Go's ``$`` never matches before a final newline, its
    ``\\d``/``\\w``/``\\s`` are ASCII, it has POSIX classes and ``\\Q...\\E``, flag groups like ``(?i)`` may
    appear mid-pattern, and ``{,n}`` is literal. Groups become non-capturing so a caller can wrap each
    rule in its own group and learn which one matched. Unsupported syntax raises FilterError.
    """

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out: list[str] = []
        # One frame per open group: [extra ')' to close for "(?flags)" groups, multiline flag]
        self.frames: list[list[int]] = [[0, 0]]

    def translate(self) -> str:
        src = self.src
        while self.i < len(src):
            c = src[self.i]
            if c == "\\":
                self.out.append(self._escape(in_class=False))
            elif c == "[":
                self._char_class()
            elif c == "(":
                self._open_group()
            elif c == ")":
                if len(self.frames) == 1:
                    raise FilterError("unexpected )")
                extra, _ = self.frames.pop()
                self.out.append(")" * (extra + 1))
                self.i += 1
            elif c == "$":
                self.out.append("$" if self.frames[-1][1] else "\\Z")
                self.i += 1
            elif c == "{":
                m = _REPEAT.match(src, self.i)
                if m:
                    self.out.append(m.group())
                    self.i = m.end()
                else:
                    self.out.append("\\{")
                    self.i += 1
            elif c in "}]":
                self.out.append("\\" + c)
                self.i += 1
            else:
                self.out.append(c)
                self.i += 1
        if len(self.frames) != 1:
            raise FilterError("missing closing )")
        self.out.append(")" * self.frames[0][0])
        return "".join(self.out)

    def _open_group(self) -> None:
        src = self.src
        multiline = self.frames[-1][1]
        if not src.startswith("(?", self.i):
            self.out.append("(?:")
            self.frames.append([0, multiline])
            self.i += 1
            return
        m = _FLAG_GROUP.match(src, self.i)
        if m:
            on, off, end = m.group(1), m.group(2) or "", m.group(3)
            if "U" in on + off:
                raise FilterError("the ungreedy flag (?U) is not supported")
            if not on and not off:
                raise FilterError("missing flags in (?)")
            flags = on + ("-" + off if off else "")
            if "m" in on:
                multiline = 1
            elif "m" in off:
                multiline = 0
            self.out.append("(?" + flags + ":")
            self.i = m.end()
            if end == ":":
                self.frames.append([0, multiline])
            else:
                # "(?i)" applies to the rest of the enclosing group: open a scoped group closed with it.
                self.frames[-1][0] += 1
                self.frames[-1][1] = multiline
            return
        name = re.compile(r"\(\?P?<[A-Za-z0-9_]+>").match(src, self.i)
        if name:
            self.out.append("(?:")
            self.frames.append([0, multiline])
            self.i = name.end()
            return
        raise FilterError(f"unsupported group syntax at {_quote(src[self.i : self.i + 4])}")

    def _escape(self, *, in_class: bool) -> str:
        src = self.src
        if self.i + 1 >= len(src):
            raise FilterError("trailing backslash at end of expression")
        c = src[self.i + 1]
        self.i += 2
        if c.isascii() and not c.isalnum():
            return "\\" + c
        if c in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[c]
        if c in _PERL_CLASSES:
            return _PERL_CLASSES[c] if in_class else "[" + _PERL_CLASSES[c] + "]"
        if c in "DSW":
            if in_class:
                raise FilterError(f"\\{c} inside a character class is not supported")
            return "[^" + _PERL_CLASSES[c.lower()] + "]"
        if not in_class and c in "AbB":
            return "\\" + c
        if not in_class and c == "z":
            return "\\Z"
        if c == "Q":
            end = src.find("\\E", self.i)
            literal = src[self.i :] if end < 0 else src[self.i : end]
            self.i = len(src) if end < 0 else end + 2
            return "".join(re.escape(ch) for ch in literal)
        if c == "x":
            m = re.compile(r"\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2})").match(src, self.i)
            if not m:
                raise FilterError("invalid escape sequence \\x")
            self.i = m.end()
            code = int(m.group(1) or m.group(2), 16)
            if code > 0x10FFFF:
                raise FilterError("invalid escape sequence \\x")
            return "\\" + f"U{code:08x}"
        raise FilterError(f"invalid or unsupported escape sequence \\{c}")

    def _char_class(self) -> None:
        src = self.src
        start = self.i
        self.i += 1
        parts = ["["]
        if self.i < len(src) and src[self.i] == "^":
            parts.append("^")
            self.i += 1
        first = True
        while True:
            if self.i >= len(src):
                raise FilterError(f"missing closing ]: {_quote(src[start:])}")
            c = src[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" and src.startswith("[:", self.i):
                end = src.find(":]", self.i + 2)
                name = src[self.i + 2 : end] if end >= 0 else ""
                negated = name.startswith("^")
                ranges = _POSIX_CLASSES.get(name.lstrip("^"))
                if ranges is None:
                    raise FilterError(f"invalid character class range {_quote(src[self.i : end + 2])}")
                if negated:
                    raise FilterError(f"negated POSIX class {_quote(src[self.i : end + 2])} is not supported")
                parts.append(ranges)
                self.i = end + 2
            elif c == "\\":
                parts.append(self._escape(in_class=True))
            elif c in "[]^&~|\\":
                parts.append("\\" + c)
                self.i += 1
            else:
                parts.append(c)
                self.i += 1
        parts.append("]")
        self.out.append("".join(parts))
