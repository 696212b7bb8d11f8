"""rclone's +/- rule lists: --include, --exclude, --filter and their *-from files.

Semantics are rclone's (``fs/filter/filter.go`` and ``rules.go``, checked against the rclone binary):

- Rules are tried in order and the FIRST matching rule decides; a path no rule matches is included.
- The order is fixed by flag kind, not by position on the command line: every ``--include``, then every
  ``--include-from`` line, then ``--exclude``, ``--exclude-from``, ``--filter``, ``--filter-from``. When any
  include rule was given (``--include`` or ``--include-from``, even an empty file) a final ``- /**`` is added,
  so only what an include rule matched gets through.
- ``!`` (in ``--filter``/``--filter-from``) clears every rule added so far, including earlier --include
  rules; the implicit ``- /**`` is still added at the end.
- Rules are kept in two lists. File rules decide files. Directory rules decide which directories are
  listed at all (pruning), matched against the directory path plus a trailing '/':

  * a glob ending in '/' is a directory-only rule; as an exclude it becomes ``dir/**`` (which is also a
    file rule), as an include it only lets the walk into the directory - its files still need a rule;
  * a glob containing ``**`` is both a file and a directory rule;
  * an include file rule also adds include rules for every directory that could lead to a match
    (``dir_globs``); an exclude file rule adds none (except ``*``, which excludes every directory).
- Identical rules (same sign and regexp) are kept once, at their first position.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from filters.errors import FilterError
from filters.glob import NAME_PREFIX, Glob, compile_glob, dir_globs

__all__ = [
    "Rule",
    "RuleList",
    "Rules",
    "RulesBuilder",
    "RulesFile",
    "compile_rules",
    "read_rules_file",
    "rule_lines",
]


@dataclass(frozen=True, slots=True)
class Rule:
    """One include (+) or exclude (-) rule; ``str()`` is the line ``rclone --dump filters`` prints."""

    include: bool
    glob: Glob

    def __str__(self) -> str:
        return ("+ " if self.include else "- ") + self.glob.regex


class RuleList:
    """An ordered list of rules where the first match wins and no match means "include".

    All rules are joined into one alternation of start-anchored regexps, one capturing group each:
    Python tries the alternatives in order, so the group that matched is the first matching rule, and a
    path costs one ``re.match`` call however many rules there are.
    """

    __slots__ = ("_match", "_verdicts", "rules")

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._verdicts: tuple[bool, ...] = (True, *(rule.include for rule in self.rules))
        # A run of rules that only look at the last component shares one pass over the directories;
        # group numbers still follow rule order, so lastindex is the first matching rule.
        alternatives: list[str] = []
        names: list[str] = []
        for rule in self.rules:
            if rule.glob.name is not None:
                names.append(f"({rule.glob.name})")
                continue
            if names:
                alternatives.append(NAME_PREFIX + "(?:" + "|".join(names) + ")")
                names = []
            alternatives.append(f"({rule.glob.python})")
        if names:
            alternatives.append(NAME_PREFIX + "(?:" + "|".join(names) + ")")
        self._match = re.compile("|".join(alternatives)).match if alternatives else None

    def include(self, path: str) -> bool:
        """Whether ``path`` passes: the verdict of the first rule that matches it, else True."""
        match = self._match
        if match is None:
            return True
        m = match(path)
        if m is None:
            return True
        return self._verdicts[m.lastindex or 0]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)


@dataclass(frozen=True, slots=True)
class Rules:
    """The compiled file and directory rule lists of one command."""

    files: RuleList
    dirs: RuleList

    def include(self, path: str) -> bool:
        """Whether the file ``path`` (relative, no leading or trailing '/') passes the file rules."""
        return self.files.include(path)

    def include_dir(self, path: str) -> bool:
        """Whether the directory ``path`` is listed at all; the root ("") always is, as in rclone."""
        return path == "" or self.dirs.include(path + "/")

    def __bool__(self) -> bool:
        return bool(self.files.rules or self.dirs.rules)

    def dump_lines(self) -> list[str]:
        """The rule part of ``rclone --dump filters``, line for line."""
        return [
            "--- File filter rules ---",
            *map(str, self.files),
            "--- Directory filter rules ---",
            *map(str, self.dirs),
        ]


class RulesBuilder:
    """Accumulates rules the way rclone's Filter.Add / AddRule / Clear do, then compiles them."""

    def __init__(self, *, ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        self._files: dict[str, Rule] = {}
        self._dirs: dict[str, Rule] = {}

    def add(self, include: bool, glob: str) -> None:
        """Add one glob as an include or exclude rule (rclone's Filter.Add); FilterError if malformed."""
        is_dir_rule = glob.endswith("/")
        is_file_rule = not is_dir_rule
        if is_dir_rule and not include:
            glob += "**"  # excluding "dir/" is excluding "dir/**": the directory and everything in it
        if "**" in glob:
            is_dir_rule = is_file_rule = True
        rule = Rule(include, compile_glob(glob, ignore_case=self.ignore_case))
        if is_file_rule:
            self._files.setdefault(str(rule), rule)
            if include or glob == "*":
                for dir_glob in dir_globs(glob):
                    if dir_glob != "/":  # the root is always listed
                        dir_rule = Rule(include, compile_glob(dir_glob, ignore_case=self.ignore_case))
                        self._dirs.setdefault(str(dir_rule), dir_rule)
        if is_dir_rule:
            self._dirs.setdefault(str(rule), rule)

    def add_rule(self, line: str) -> None:
        """Add a ``+ glob`` / ``- glob`` line, or clear everything on ``!`` (rclone's AddRule)."""
        if line == "!":
            self.clear()
        elif line.startswith("+ "):
            self.add(True, line[2:])
        elif line.startswith("- "):
            self.add(False, line[2:])
        else:
            raise FilterError(f'malformed rule "{line}"')

    def clear(self) -> None:
        """Forget every rule added so far (what ``!`` does)."""
        self._files.clear()
        self._dirs.clear()

    def build(self) -> Rules:
        return Rules(RuleList(self._files.values()), RuleList(self._dirs.values()))


@dataclass(frozen=True, slots=True)
class RulesFile:
    """The text of an --include-from / --exclude-from / --filter-from / --files-from file, and its name
    for error messages. Keeping the text (not the path) is what lets rule compilation stay pure."""

    name: str
    text: str


def rule_lines(text: str) -> list[tuple[int, str]]:
    """The (line number, line) pairs of a rules file that hold a rule.

    As rclone: each line is stripped of surrounding whitespace; blank lines and lines starting with
    '#' or ';' are skipped. Line numbers count from 1.
    """
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if line and line[0] not in "#;":
            out.append((number, line))
    return out


def read_rules_file(path: str) -> RulesFile:
    """Read a local rules file ("-" is standard input); FilterError naming the file if unreadable."""
    try:
        if path == "-":
            return RulesFile("-", sys.stdin.read())
        with open(path, encoding="utf-8-sig") as stream:
            return RulesFile(path, stream.read())
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FilterError(f"cannot read filter file {path}: {reason}") from None


def _add_lines(builder: RulesBuilder, source: RulesFile, add: str, include: bool) -> None:
    for number, line in rule_lines(source.text):
        try:
            if add == "rule":
                builder.add_rule(line)
            else:
                builder.add(include, line)
        except FilterError as exc:
            raise FilterError(f"{source.name}:{number}: {exc}") from None


def compile_rules(
    *,
    include: Sequence[str] = (),
    include_from: Sequence[RulesFile] = (),
    exclude: Sequence[str] = (),
    exclude_from: Sequence[RulesFile] = (),
    filter_rules: Sequence[str] = (),
    filter_from: Sequence[RulesFile] = (),
    ignore_case: bool = False,
) -> Rules:
    """Build the rule lists from the rule flags in rclone's fixed order (see the module docstring).

    Raises FilterError for a malformed glob or rule; for a line of a file the message starts with
    ``name:line:``.
    """
    builder = RulesBuilder(ignore_case=ignore_case)
    for glob in include:
        builder.add(True, glob)
    for source in include_from:
        _add_lines(builder, source, "glob", True)
    for glob in exclude:
        builder.add(False, glob)
    for source in exclude_from:
        _add_lines(builder, source, "glob", False)
    for line in filter_rules:
        builder.add_rule(line)
    for source in filter_from:
        _add_lines(builder, source, "rule", True)
    if include or include_from:
        builder.add(False, "/**")
    return builder.build()
