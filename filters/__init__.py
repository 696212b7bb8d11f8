"""Filters: rclone's filter rules, gitignore-style ignore files and MEGA's .megaignore.

Works on plain strings and numbers (relative '/'-separated paths, sizes in bytes, times in nanoseconds) and
imports neither ``syncer`` nor ``backends``. ``Filter`` is the entry point; the walker's contract is in
``filters.filter``.
"""

from filters.errors import FilterError
from filters.filter import Filter, FilterOptions, format_size, parse_duration, parse_files_from, parse_size
from filters.glob import Glob, compile_glob, dir_globs
from filters.ignorefile import MEGAIGNORE, SYNCIGNORE, GitIgnore, IgnoreFiles, MegaIgnore, parse_mega_size
from filters.rules import Rule, RuleList, Rules, RulesFile, compile_rules, read_rules_file, rule_lines

__all__ = [
    "MEGAIGNORE",
    "SYNCIGNORE",
    "Filter",
    "FilterError",
    "FilterOptions",
    "GitIgnore",
    "Glob",
    "IgnoreFiles",
    "MegaIgnore",
    "Rule",
    "RuleList",
    "Rules",
    "RulesFile",
    "compile_glob",
    "compile_rules",
    "dir_globs",
    "format_size",
    "parse_duration",
    "parse_files_from",
    "parse_mega_size",
    "parse_size",
    "read_rules_file",
    "rule_lines",
]
