"""Per-directory ignore files: gitignore-style files (``.syncignore``) and MEGA's ``.megaignore``.

Both kinds are read from the directory tree while it is walked, so each applies to the subtree of the
directory that holds it, with paths taken relative to that directory.

gitignore-style files follow git (via ``pathspec``'s GitIgnoreSpec): within one file the last matching
pattern wins, ``!pattern`` re-includes, a trailing '/' matches directories only; a deeper file takes
precedence over a shallower one, so a deeper ``!pattern`` can re-include what a parent file ignored. As in
git, nothing inside an ignored directory can be re-included: the walk never enters it. When several
ignore-file names are configured, the files of one directory are read as one, in the configured order
(a later file's patterns win over an earlier one's). A pattern git would reject is skipped with a warning,
as git skips it.

``.megaignore`` follows MEGA's sync-exclusion grammar, one rule per line::

    # comment
    exclude-larger:SIZE        files larger than SIZE are excluded  (SIZE: 10, 10k, 1.5M, 2G, 1T; k = 1024)
    exclude-smaller:SIZE       files smaller than SIZE are excluded
    CLASS[TARGET][TYPE][STRATEGY]:PATTERN

- CLASS ``-`` excludes, ``+`` includes;
- TARGET ``a`` anything (default), ``d`` directories, ``f`` files, ``s`` symlinks;
- TYPE ``N`` the name, at any depth below the file's folder (default); ``n`` the name, only for entries
  directly in that folder; ``p`` the path relative to that folder;
- STRATEGY ``G``/``g`` glob with ``*`` and ``?`` (which cross '/' in path rules, as fnmatch's do), ``R``/``r``
  a Python regular expression matched in full; upper case is case-sensitive, lower case is not.

Unlike rclone rules, the LAST matching line of a ``.megaignore`` wins, and a deeper ``.megaignore`` is
consulted before a shallower one (the deeper file wins where both match); a path no rule matches is
included. The size limits apply to files only; the nearest ``.megaignore`` that sets a limit decides it.
``.megaignore`` files themselves are always synced, as MEGA syncs them. A malformed line raises
FilterError naming the file and line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from filters.errors import FilterError

__all__ = [
    "MEGAIGNORE",
    "SYNCIGNORE",
    "GitIgnore",
    "IgnoreFiles",
    "MegaIgnore",
    "MegaRule",
    "parse_mega_size",
]

logger = logging.getLogger("filters.ignorefile")

SYNCIGNORE = ".syncignore"
MEGAIGNORE = ".megaignore"

_DIR_GROUP = "ps_d"  # pathspec's name for the '/' that ends a directory match
_DIR_GROUP_TOKEN = f"(?P<{_DIR_GROUP}>/)"


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")  # Windows editors (MEGA's users) write a BOM
    except UnicodeDecodeError:
        raise FilterError(f"{source}: not valid UTF-8") from None


def _prefix(directory: str) -> str:
    return directory + "/" if directory else ""


class GitIgnore:
    """The gitignore-style patterns of one directory (possibly from several files).

    pathspec compiles each pattern; the decision is ours. pathspec answers for a whole file path, so its
    regexps also match everything below a matching directory (its ``ps_d`` group marks where). The walk
    decides every directory at its own level, so here a pattern counts only when it matches the entry
    itself, as in git: with ``*.tmp`` then ``!keep/``, ``keep/a.tmp`` stays ignored.
    """

    __slots__ = ("_any", "_patterns", "directory", "prefix")

    def __init__(self, directory: str, lines: Sequence[tuple[str, int, str]]) -> None:
        """``lines``: (source name, line number, line) in precedence order, lowest first."""
        import pathspec  # only once an ignore file is found: it costs more to import than a small listing

        self.directory = directory
        self.prefix = _prefix(directory)
        patterns: list[tuple[bool, re.Pattern[str], bool, bool]] = []
        for source, number, line in lines:
            # pathspec reads "x/**/" as "x/" (fine for files, but git's "x/**/" is the directories below
            # x, not x itself): compile it as "x/**" and keep it for directories.
            core = line.rstrip(" \t")
            dir_only = core.endswith("/**/") and not core.endswith("\\/**/")
            try:
                compiled = pathspec.GitIgnoreSpec.from_lines([core[:-1] if dir_only else line]).patterns
            except ValueError as exc:
                logger.warning("%s:%d: ignoring invalid pattern: %s", source, number, exc)
                continue
            for pattern in compiled:
                regex = getattr(pattern, "regex", None)
                if pattern.include is not None and isinstance(regex, re.Pattern):
                    patterns.append((pattern.include, regex, _DIR_GROUP in regex.groupindex, dir_only))
        self._patterns = tuple(reversed(patterns))  # last pattern first: the first hit decides
        # One search that every hit implies (the ps_d group renamed away, as names cannot repeat): most
        # paths match no pattern at all and are settled by this single call.
        # pathspec's "(?:.+/)?" backtracks through the path a character at a time; "(?:[^/]*+/)*" accepts a
        # little more ("/" too), which a pre-check may, and backtracks a directory at a time.
        anything = "|".join(
            "(?:" + regex.pattern.replace(_DIR_GROUP_TOKEN, "/").replace("(?:.+/)?", "(?:[^/]*+/)*") + ")"
            for _, regex, _, _ in patterns
        )
        self._any = re.compile(anything).search if patterns else None

    @classmethod
    def parse(cls, directory: str, text: str, *, source: str = SYNCIGNORE) -> GitIgnore:
        """The patterns of one file's text; ``directory`` is where the file lives ("" for the root)."""
        lines = text.removeprefix("\ufeff").splitlines()
        return cls(directory, [(source, n, line) for n, line in enumerate(lines, 1)])

    def decide(self, relative: str, *, is_dir: bool) -> bool | None:
        """True if re-included, False if ignored, None if no pattern matches ``relative`` (a path below
        this directory) itself."""
        search = self._any
        if search is None or (search(relative) is None and not (is_dir and search(relative + "/"))):
            return None
        for ignored, regex, has_dir_group, dir_only in self._patterns:
            if dir_only and not is_dir:
                continue
            if has_dir_group:
                # Only a match that ends the path (or, for a directory, ends at its own trailing '/')
                # is about this entry; one that stops at an inner '/' is about an ancestor.
                subject = relative + "/" if is_dir else relative
                m = regex.fullmatch(subject)
                if m is None and is_dir:
                    m = regex.fullmatch(subject, len(relative))  # unanchored "**/" and "*/"
                hit = m is not None and m.start(_DIR_GROUP) in (-1, len(subject) - 1)
            else:
                # "dir/**", "*", "/**": they match anything below a point, so every match is direct;
                # tested without a trailing '/' so that "dir/**" does not match "dir" itself.
                hit = regex.search(relative) is not None
            if hit:
                return not ignored
        return None


def parse_mega_size(text: str) -> int:
    """A .megaignore size: a number with an optional k/K/M/G/T (powers of 1024) unit; ValueError if bad."""
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([kKmMgGtT]?)", text.strip())
    if not m:
        raise ValueError(f"invalid size {text!r}")
    exponent = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024**exponent)


_MEGA_RULE = re.compile(r"([+-])([adfs]?)([Nnp]?)([GgRr]?):(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class MegaRule:
    """One ``CLASS[TARGET][TYPE][STRATEGY]:PATTERN`` line of a .megaignore."""

    include: bool
    target: str  # "a", "d", "f" or "s"
    kind: str  # "N", "n" or "p"
    pattern: re.Pattern[str]
    line: int

    def applies(self, relative: str, name: str, *, is_dir: bool, is_symlink: bool) -> bool:
        target = self.target
        if target != "a":
            if target == "d":
                if not is_dir:
                    return False
            elif target == "f":
                if is_dir or is_symlink:
                    return False
            elif not is_symlink:
                return False
        kind = self.kind
        if kind == "p":
            return self.pattern.fullmatch(relative) is not None
        if kind == "n" and "/" in relative:
            return False
        return self.pattern.fullmatch(name) is not None


def _mega_glob(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


class MegaIgnore:
    """The rules of one .megaignore file."""

    __slots__ = ("directory", "exclude_larger", "exclude_smaller", "prefix", "rules")

    def __init__(
        self,
        directory: str,
        rules: Sequence[MegaRule],
        *,
        exclude_larger: int | None = None,
        exclude_smaller: int | None = None,
    ) -> None:
        self.directory = directory
        self.prefix = _prefix(directory)
        self.rules = tuple(rules)
        self.exclude_larger = exclude_larger
        self.exclude_smaller = exclude_smaller

    @classmethod
    def parse(cls, directory: str, text: str, *, source: str = MEGAIGNORE) -> MegaIgnore:
        """Parse a .megaignore's text; FilterError ``source:line: reason`` on a malformed line."""
        rules: list[MegaRule] = []
        limits: dict[str, int] = {}
        for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{source}:{number}"
            keyword, colon, value = line.partition(":")
            if keyword in ("exclude-larger", "exclude-smaller") and colon:
                try:
                    limits[keyword] = parse_mega_size(value)
                except ValueError:
                    raise FilterError(f"{where}: invalid size in {line!r}") from None
                continue
            m = _MEGA_RULE.fullmatch(line)
            if not m:
                raise FilterError(f"{where}: malformed rule {line!r}")
            sign, target, kind, strategy, pattern = m.groups()
            if not pattern:
                raise FilterError(f"{where}: empty pattern in {line!r}")
            strategy = strategy or "G"
            flags = 0 if strategy.isupper() else re.IGNORECASE
            source_re = pattern if strategy in "Rr" else _mega_glob(pattern)
            try:
                compiled = re.compile(source_re, flags | (re.DOTALL if strategy in "Gg" else 0))
            except re.error as exc:
                raise FilterError(f"{where}: bad regular expression {pattern!r}: {exc}") from None
            rules.append(MegaRule(sign == "+", target or "a", kind or "N", compiled, number))
        return cls(
            directory,
            rules,
            exclude_larger=limits.get("exclude-larger"),
            exclude_smaller=limits.get("exclude-smaller"),
        )

    def decide(self, relative: str, *, is_dir: bool, is_symlink: bool = False) -> bool | None:
        """True if included, False if excluded, None if no rule matches ``relative``."""
        name = relative.rpartition("/")[2]
        for rule in reversed(self.rules):
            if rule.applies(relative, name, is_dir=is_dir, is_symlink=is_symlink):
                return rule.include
        return None


class IgnoreFiles:
    """The ignore files in effect for one directory of the walk: its own and its ancestors'.

    Immutable: ``enter`` returns a new instance (or the same one, when the directory holds no ignore file,
    which is the common case and costs one set check).
    """

    __slots__ = ("exclude_larger", "exclude_smaller", "git", "mega", "megaignore", "names", "watched")

    def __init__(self, names: Sequence[str] = (SYNCIGNORE,), *, megaignore: bool = True) -> None:
        self.names = tuple(dict.fromkeys(names))
        self.megaignore = megaignore
        self.watched = frozenset(self.names) | ({MEGAIGNORE} if megaignore else set())
        self.git: tuple[GitIgnore, ...] = ()  # shallowest first
        self.mega: tuple[MegaIgnore, ...] = ()
        self.exclude_larger: int | None = None
        self.exclude_smaller: int | None = None

    def __bool__(self) -> bool:
        """Whether any ignore file is in effect (else ``include`` always answers True)."""
        return (
            bool(self.git or self.mega) or self.exclude_larger is not None or self.exclude_smaller is not None
        )

    def enter(self, directory: str, names: Collection[str], read: Callable[[str], bytes]) -> IgnoreFiles:
        """The ignore files in effect inside ``directory``, given the names of its entries.

        ``read(name)`` returns the bytes of a file of ``directory``; it is called only for the ignore files
        present in ``names``, and whatever it raises propagates. FilterError for an undecodable file or a
        malformed .megaignore line, naming the file by its path.
        """
        watched = self.watched
        if watched.isdisjoint(names):
            return self
        present = watched.intersection(names)
        prefix = _prefix(directory)
        git = self.git
        lines: list[tuple[str, int, str]] = []
        for name in self.names:
            if name in present and name != MEGAIGNORE:
                source = prefix + name
                text = _decode(read(name), source)
                lines.extend((source, n, line) for n, line in enumerate(text.splitlines(), 1))
        if any(line.strip() and not line.startswith("#") for _, _, line in lines):
            git = (*git, GitIgnore(directory, lines))
        mega = self.mega
        larger, smaller = self.exclude_larger, self.exclude_smaller
        if self.megaignore and MEGAIGNORE in present:
            source = prefix + MEGAIGNORE
            layer = MegaIgnore.parse(directory, _decode(read(MEGAIGNORE), source), source=source)
            if layer.rules:
                mega = (*mega, layer)
            if layer.exclude_larger is not None:
                larger = layer.exclude_larger
            if layer.exclude_smaller is not None:
                smaller = layer.exclude_smaller
        unchanged_limits = larger == self.exclude_larger and smaller == self.exclude_smaller
        if git is self.git and mega is self.mega and unchanged_limits:
            return self
        new = IgnoreFiles.__new__(IgnoreFiles)
        new.names, new.megaignore, new.watched = self.names, self.megaignore, self.watched
        new.git, new.mega, new.exclude_larger, new.exclude_smaller = git, mega, larger, smaller
        return new

    def include(self, path: str, *, is_dir: bool, size: int | None = None, is_symlink: bool = False) -> bool:
        """Whether ``path`` (relative to the walk's root) survives the ignore files in effect.

        Assumes the walk only asks about entries below the directories it entered, and that an ignored
        directory is never entered (so, as in git, nothing inside it can be re-included).
        """
        for layer in reversed(self.git):
            if path.startswith(layer.prefix):
                verdict = layer.decide(path[len(layer.prefix) :], is_dir=is_dir)
                if verdict is not None:
                    if not verdict:
                        return False
                    break
        if self.mega or self.exclude_larger is not None or self.exclude_smaller is not None:
            name = path.rpartition("/")[2]
            if name == MEGAIGNORE and not is_dir:
                return True
            if not is_dir and size is not None and size >= 0:
                if self.exclude_larger is not None and size > self.exclude_larger:
                    return False
                if self.exclude_smaller is not None and size < self.exclude_smaller:
                    return False
            for mega_layer in reversed(self.mega):
                if path.startswith(mega_layer.prefix):
                    verdict = mega_layer.decide(
                        path[len(mega_layer.prefix) :], is_dir=is_dir, is_symlink=is_symlink
                    )
                    if verdict is not None:
                        return verdict
        return True
