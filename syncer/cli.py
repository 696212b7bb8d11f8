"""The ``syncer`` command line: rclone's command names, flags and exit codes.

Argparse namespaces stop here: each command gets plain arguments and a Runtime. Every failure becomes one line
on stderr and an exit code from rclone's table; a traceback only with ``-vv``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from backends import HashType
from backends.errors import BackendError

from . import __version__
from .errors import ExitCode, UsageError, exit_code_for
from .logs import LEVELS, is_set_up, set_level, setup_logging
from .prompts import terminal_prompt

__all__ = ["build_parser", "main"]

log = logging.getLogger("syncer")


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the width so it does not import shutil (and its compression modules) on
    every ``add_argument``: that import alone costs more than listing a few hundred files."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ):
        if width is None:
            try:
                width = os.get_terminal_size().columns - 2
            except OSError:
                width = 78
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line and exit 2, like every other error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        # whole flag names only, as rclone: a shortened or misspelt one (in a job's options too) is an error
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _add_global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global flags, accepted before or after the command name (as rclone does)."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global flags")
    group.add_argument("--config", metavar="PATH", default=default(None), help="config file (YAML)")
    group.add_argument(
        "-v", "--verbose", action="count", default=default(0), help="-v for INFO, -vv for DEBUG"
    )
    group.add_argument("-q", "--quiet", action="store_true", default=default(False), help="only errors")
    group.add_argument("--log-file", metavar="FILE", default=default(None), help="log to FILE (created 0600)")
    group.add_argument(
        "--log-level",
        choices=sorted(LEVELS),
        default=default(None),
        help="DEBUG, INFO, NOTICE (default), ERROR",
    )
    group.add_argument(
        "--use-json-log", action="store_true", default=default(False), help="log lines as JSON"
    )
    group.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        default=default(False),
        help="show what would change, change nothing",
    )
    group.add_argument(
        "-L",
        "--copy-links",
        action="store_true",
        default=default(None),
        help="follow symlinks on local disks",
    )
    group.add_argument(
        "--checkers", type=int, metavar="N", default=default(None), help="parallel listings/checks"
    )
    group.add_argument("--transfers", type=int, metavar="N", default=default(None), help="parallel transfers")
    group.add_argument(
        "--max-depth", type=int, metavar="N", default=default(None), help="descend at most N directory levels"
    )


def _rate(text: str) -> float | None:
    from .bwlimit import parse_rate

    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str) -> float | None:
    """rclone's durations (``90s``, ``1h30m``, ``30d``, ``off``) in seconds."""
    from filters.filter import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int | None:
    """rclone's sizes (``100k``, ``1.5G``, ``off``; a bare number is KiB) in bytes."""
    from filters.filter import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_filter_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """rclone's filter flags: global, since every command that walks a tree honours them."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("filters")
    for flag, text in (
        ("--include", "include files matching PATTERN"),
        ("--exclude", "exclude files matching PATTERN"),
        ("--include-from", "read include patterns from FILE"),
        ("--exclude-from", "read exclude patterns from FILE"),
        ("--filter-from", "read filter rules from FILE"),
        ("--files-from", "only the files listed in FILE"),
        ("--exclude-if-present", "exclude directories holding a file of this NAME"),
        ("--ignore-file", "also honour gitignore-style files of this NAME in every directory"),
    ):
        group.add_argument(flag, action="append", metavar="X", default=default(None), help=text)
    group.add_argument("-f", "--filter", action="append", metavar="RULE", default=default(None),
                       help="a filter rule: '+ PATTERN', '- PATTERN' or '!'")  # fmt: skip
    for flag, kind, text in (
        ("--min-size", _size, "only files of at least SIZE (100k, 1G...)"),
        ("--max-size", _size, "only files of at most SIZE"),
        ("--min-age", _duration, "only files older than AGE (30d, 2h...)"),
        ("--max-age", _duration, "only files younger than AGE"),
    ):
        group.add_argument(flag, type=kind, metavar="X", default=default(None), help=text)
    group.add_argument("--delete-excluded", action="store_true", default=default(False),
                       help="sync: delete excluded files on the destination")  # fmt: skip
    group.add_argument("--ignore-case", action="store_true", default=default(False),
                       help="patterns ignore case")  # fmt: skip
    group.add_argument("--no-megaignore", action="store_true", default=default(False),
                       help="do not honour MEGA's .megaignore files")  # fmt: skip
    group.add_argument(
        "--dump", choices=["filters"], default=default(None), help="print the filters, then run"
    )


def _filter_options(args: argparse.Namespace) -> Any:
    from filters import SYNCIGNORE, FilterOptions

    return FilterOptions(
        include=tuple(args.include or ()),
        exclude=tuple(args.exclude or ()),
        filter_rules=tuple(args.filter or ()),
        include_from=tuple(args.include_from or ()),
        exclude_from=tuple(args.exclude_from or ()),
        filter_from=tuple(args.filter_from or ()),
        files_from=tuple(args.files_from or ()),
        exclude_if_present=tuple(args.exclude_if_present or ()),
        min_size=args.min_size,
        max_size=args.max_size,
        min_age=args.min_age,
        max_age=args.max_age,
        delete_excluded=args.delete_excluded,
        ignore_case=args.ignore_case,
        ignore_files=(SYNCIGNORE, *(args.ignore_file or ())),
        megaignore=not args.no_megaignore,
    )


def _hash_type(text: str) -> HashType:
    try:
        return HashType(text.lower().replace("-", ""))
    except ValueError:
        known = ", ".join(h.value for h in HashType)
        raise argparse.ArgumentTypeError(f"unknown hash type {text!r} (known: {known})") from None


def _path_only(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")


def _lsd_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("-R", "--recursive", action="store_true", help="recurse into the listing")


def _lsf_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument(
        "-F", "--format", default="p", help="fields: p path, s size, t time, h hash, i id, m mime"
    )
    sub.add_argument("-s", "--separator", default=";", help="field separator (default ';')")
    sub.add_argument("-d", "--dir-slash", default=True, action=argparse.BooleanOptionalAction)
    sub.add_argument("--dirs-only", action="store_true")
    sub.add_argument("--files-only", action="store_true")
    sub.add_argument("-R", "--recursive", action="store_true")
    sub.add_argument("--hash", type=_hash_type, default=HashType.MD5, help="hash for the 'h' field (md5)")
    sub.add_argument("--absolute", action="store_true", help="put a leading / in front of paths")
    sub.add_argument("--csv", action="store_true", help="output in CSV format")


def _lsjson_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("-R", "--recursive", action="store_true")
    sub.add_argument("--dirs-only", action="store_true")
    sub.add_argument("--files-only", action="store_true")
    sub.add_argument("--hash", action="store_true", help="include hashes in the output (may take longer)")
    sub.add_argument("--hash-type", type=_hash_type, action="append", help="only these hash types")
    sub.add_argument("--no-modtime", action="store_true")
    sub.add_argument("--no-mimetype", action="store_true")
    sub.add_argument("--stat", action="store_true", help="just the object or directory named")


def _tree_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("-a", "--all", action="store_true", help="list names starting with '.' too")
    sub.add_argument("-d", "--dirs-only", action="store_true")
    sub.add_argument("--full-path", action="store_true")
    sub.add_argument("-s", "--size", action="store_true", help="print the size of each file")
    sub.add_argument("-D", "--modtime", action="store_true", help="print the date of last modification")
    sub.add_argument("--noreport", action="store_true", help="no file/directory count at the end")
    sub.add_argument("--level", type=int, help="descend only LEVEL directories deep")


def _rmdirs_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("--leave-root", action="store_true", help="do not remove the root directory if empty")


def _delete_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("--rmdirs", action="store_true", help="remove empty directories but leave the root")


def _cat_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("--offset", type=int, default=0, help="start at this byte (negative: from the end)")
    sub.add_argument("--count", type=int, default=-1, help="only print N bytes (-1: all)")
    sub.add_argument("--head", type=int, default=0, help="only print the first N bytes")
    sub.add_argument("--tail", type=int, default=0, help="only print the last N bytes")
    sub.add_argument("--discard", action="store_true", help="read but do not print")


def _one_file_args(sub: argparse.ArgumentParser) -> None:
    """Source, destination and rclone's comparison flags (copyto, moveto, and the tree commands)."""
    sub.add_argument("source")
    sub.add_argument("dest")
    compare = sub.add_argument_group("comparison")
    compare.add_argument("--size-only", action="store_true", help="skip files whose size matches")
    compare.add_argument("-c", "--checksum", action="store_true", help="compare hashes, not times")
    compare.add_argument("-u", "--update", action="store_true", help="skip files newer on the destination")
    compare.add_argument(
        "--ignore-existing", action="store_true", help="skip files that exist on the destination"
    )
    compare.add_argument(
        "-I", "--ignore-times", action="store_true", help="transfer every file unconditionally"
    )
    compare.add_argument("--ignore-size", action="store_true", help="do not compare sizes")
    compare.add_argument(
        "--modify-window", type=_duration, metavar="DURATION", help="max time difference to be the same"
    )


def _transfer_args(sub: argparse.ArgumentParser) -> None:
    """copy, sync and move: rclone's comparison, deletion and retry flags."""
    _one_file_args(sub)
    deleting = sub.add_argument_group("deleting (sync)")
    timing = deleting.add_mutually_exclusive_group()
    for when in ("before", "during", "after"):
        timing.add_argument(f"--delete-{when}", dest="delete_timing", action="store_const", const=when)
    deleting.add_argument(
        "--max-delete", type=int, metavar="N", help="abort, changing nothing, above N deletes"
    )
    deleting.add_argument("--backup-dir", metavar="DIR", help="move deleted and replaced files into DIR")
    deleting.add_argument(
        "--suffix", default="", help="suffix for files moved aside (--backup-dir, or in place)"
    )
    deleting.add_argument(
        "--hard-delete", action="store_true", help="delete for real instead of to the debris"
    )
    deleting.add_argument(
        "--debris-keep", type=_duration, metavar="AGE", help="after a sync, prune debris older than AGE (30d)"
    )
    dirs = sub.add_argument_group("directories")
    dirs.add_argument("--create-empty-src-dirs", action="store_true", help="make empty source dirs too")
    dirs.add_argument("--delete-empty-src-dirs", action="store_true", help="move: remove emptied source dirs")
    shown = sub.add_argument_group("progress")
    shown.add_argument(
        "-P", "--progress", action="store_true", help="show progress (plain lines without a tty)"
    )
    shown.add_argument("--stats", type=_duration, metavar="INTERVAL", help="log stats every INTERVAL (1m)")
    shown.add_argument("--stats-one-line", action="store_true", help="one line of stats per report")
    shown.add_argument(
        "--bwlimit", type=_rate, metavar="RATE", help="total bandwidth limit, e.g. 10M (MiB/s)"
    )
    retries = sub.add_argument_group("retries and result")
    retries.add_argument("--retries", type=int, default=3, metavar="N", help="retry the whole run (3)")
    retries.add_argument("--low-level-retries", type=int, default=10, metavar="N", help="per operation (10)")
    retries.add_argument("--retries-sleep", type=_duration, metavar="DURATION", help="wait between retries")
    retries.add_argument(
        "--error-on-no-transfer", action="store_true", help="exit 9 when nothing was transferred"
    )


def _bisync_args(sub: argparse.ArgumentParser) -> None:
    """bisync: rclone bisync's flags where they fit."""
    sub.add_argument("path1")
    sub.add_argument("path2")
    sub.add_argument(
        "--resync", action="store_true", help="first run or recovery: the union of both sides, newer wins"
    )
    sub.add_argument(
        "--max-delete",
        type=int,
        default=50,
        metavar="PERCENT",
        help="abort, changing nothing, if either side would lose more than PERCENT%% of its files (50)",
    )
    sub.add_argument("--force", action="store_true", help="go ahead despite the safety checks")
    sub.add_argument(
        "--check-access",
        action="store_true",
        help="abort unless the --check-filename files match on both sides",
    )
    sub.add_argument(
        "--check-filename", default="RCLONE_TEST", metavar="NAME", help="the marker file of --check-access"
    )
    sub.add_argument(
        "--conflict-resolve",
        choices=["none", "newer", "older", "larger", "smaller", "path1", "path2"],
        default="none",
        help="which version of a conflict wins (none: keep both)",
    )
    sub.add_argument(
        "--conflict-loser",
        choices=["num", "pathname", "delete"],
        default="num",
        help="what happens to a conflict's loser (num: renamed NAME.conflictN)",
    )
    sub.add_argument(
        "--conflict-suffix", default="conflict", metavar="SUFFIX[,SUFFIX2]", help="for renamed conflicts"
    )
    sub.add_argument(
        "--compare", default="size,modtime", metavar="LIST", help="what makes a file changed (size,modtime)"
    )
    sub.add_argument("--size-only", action="store_true", help="same as --compare size")
    sub.add_argument("--checksum", action="store_true", help="same as --compare size,checksum")
    sub.add_argument(
        "--modify-window",
        type=_duration,
        metavar="DURATION",
        help="times this close are the same (max precision)",
    )
    sub.add_argument(
        "-P", "--progress", action="store_true", help="show progress (plain lines without a tty)"
    )
    sub.add_argument("--bwlimit", type=_rate, metavar="RATE", help="total bandwidth limit, e.g. 10M (MiB/s)")
    sub.add_argument("--low-level-retries", type=int, default=10, metavar="N", help="per operation (10)")
    sub.add_argument(
        "--watch", action="store_true", help="keep running: bisync again after each settled burst of changes"
    )


def _backup_args(sub: argparse.ArgumentParser) -> None:
    """backup SRC DST --keep N (sync's flags apply to the copy into the snapshot); backup list DST."""
    _transfer_args(sub)
    sub.add_argument("--keep", type=int, metavar="N", help="how many complete snapshots to keep")
    sub.add_argument("--name", default="", help="the snapshots' name (default: SRC's folder name)")


def _check_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("source")
    sub.add_argument("dest")
    sub.add_argument(
        "--one-way", action="store_true", help="only check that source files match the destination"
    )
    sub.add_argument("--size-only", action="store_true", help="only compare sizes, not hashes")
    sub.add_argument("--download", action="store_true", help="compare the bytes of both sides")
    reports = sub.add_argument_group("report files ('-' for stdout)")
    reports.add_argument("--combined", metavar="FILE", help="every path with = - + * ! before it")
    reports.add_argument("--differ", metavar="FILE", help="paths that differ")
    reports.add_argument("--missing-on-src", metavar="FILE", help="paths only on the destination")
    reports.add_argument("--missing-on-dst", metavar="FILE", help="paths only on the source")
    reports.add_argument("--match", metavar="FILE", help="paths that match")
    reports.add_argument("--error", metavar="FILE", help="paths that could not be checked")


def _cleanup_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument(
        "--older-than", type=_duration, metavar="AGE", help="only debris older than AGE (e.g. 30d)"
    )


def _size_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("--json", action="store_true", help="format output as JSON")


def _about_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("--json", action="store_true")
    sub.add_argument("--full", action="store_true", help="full numbers instead of human-readable")


_DEDUPE_MODES = ("interactive", "skip", "first", "newest", "oldest", "largest", "smallest", "rename", "list")


def _dedupe_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("words", nargs="+", metavar="[MODE] REMOTE:PATH", help="MODE as for --dedupe-mode")
    sub.add_argument(
        "--dedupe-mode",
        choices=_DEDUPE_MODES,
        help="interactive (default), skip, first, newest, oldest, largest, smallest, rename or list",
    )


def _link_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("path")
    sub.add_argument("--unlink", action="store_true", help="remove the public link instead")


def _mega_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("action", choices=["logout"], help="logout: end and forget the cached MEGA session")
    sub.add_argument("path", help="the MEGA remote, e.g. mega:")


def _no_args(sub: argparse.ArgumentParser) -> None:
    del sub


def _config_args(sub: argparse.ArgumentParser) -> None:
    actions = sub.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser, required=True)
    shown = actions.add_parser("show", help="print the config with secrets redacted")
    shown.add_argument("remote", nargs="?", help="only this remote")
    checked = actions.add_parser("check", help="validate the config file")
    located = actions.add_parser("path", help="print the config file's path")
    for action in (shown, checked, located):
        _add_global_flags(action, suppress=True)


def _jobs_args(sub: argparse.ArgumentParser) -> None:
    actions = sub.add_subparsers(dest="jobs_command", metavar="ACTION", parser_class=_Parser, required=True)
    listed = actions.add_parser("list", help="list the config's jobs")
    ran = actions.add_parser("run", help="run jobs one after another (all of them by default)")
    ran.add_argument("names", nargs="*", metavar="NAME", help="only these jobs, in this order")
    ran.add_argument("--report", metavar="FILE", help="write a JSON report of every job ('-': stdout)")
    ran.add_argument("--junit", metavar="FILE", help="write a JUnit XML report of every job")
    ran.add_argument(
        "--schedule",
        action="store_true",
        help="stay running: each job when its 'schedule:' says (Ctrl-C stops)",
    )
    for action in (listed, ran):
        _add_global_flags(action, suppress=True)


def _emulator_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="see 'syncer mega-emulator --help'")


#: name -> (help, what adds its arguments); in the order ``--help`` lists them.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "ls": ("List the objects in the path with size and path.", _path_only),
    "lsl": ("List the objects in path with modification time, size and path.", _path_only),
    "lsd": ("List all directories/containers/buckets in the path.", _lsd_args),
    "lsf": ("List directories and objects in remote:path formatted for parsing.", _lsf_args),
    "lsjson": ("List directories and objects in the path in JSON format.", _lsjson_args),
    "tree": ("List the contents of the remote in a tree like fashion.", _tree_args),
    "mkdir": ("Make the path if it doesn't already exist.", _path_only),
    "rmdir": ("Remove the empty directory at path.", _path_only),
    "rmdirs": ("Remove empty directories under the path.", _rmdirs_args),
    "delete": ("Remove the files in path.", _delete_args),
    "purge": ("Remove the path and all of its contents.", _path_only),
    "cat": ("Concatenate any files and send them to stdout.", _cat_args),
    "copy": ("Copy files from source to dest, skipping identical files.", _transfer_args),
    "sync": ("Make source and dest identical, modifying destination only.", _transfer_args),
    "move": ("Move files from source to dest.", _transfer_args),
    "bisync": ("Bidirectional sync between two paths, keeping what changed on either side.", _bisync_args),
    "backup": (
        "Dated snapshots of SRC in DST, the newest --keep N kept; 'backup list DST' shows them.",
        _backup_args,
    ),
    "check": ("Checks the files in the source and destination match.", _check_args),
    "copyto": ("Copy one file from source to dest, skipping identical files.", _one_file_args),
    "moveto": ("Move one file from source to dest.", _one_file_args),
    "size": ("Prints the total size and number of objects in remote:path.", _size_args),
    "about": ("Get quota information from the remote.", _about_args),
    "cleanup": ("Empty the debris folder (and the trash, where the backend has one).", _cleanup_args),
    "dedupe": ("Merge duplicate directories, then settle files that share a name (MEGA).", _dedupe_args),
    "version": ("Show the version number.", _no_args),
    "config": ("Show, check or locate the configuration.", _config_args),
    "jobs": ("List or run the jobs of the config file (for CI and cron).", _jobs_args),
    "link": ("Print a public link to the file or directory (--unlink removes it).", _link_args),
    "mega": ("MEGA account commands: 'mega logout REMOTE:' ends the cached session.", _mega_args),
    "mega-emulator": ("Run a local MEGA-compatible server (for tests and demos).", _emulator_args),
}

#: Commands with a parser of their own: everything after the name is handed to them.
_OWN_PARSER = frozenset({"mega-emulator"})

#: Commands served by list_commands (the rest by file_commands or the engine).
_LISTING_COMMANDS = frozenset({"ls", "lsl", "lsd", "lsf", "lsjson", "tree", "size"})

#: Commands that never walk a tree, so never need a filter.
_UNFILTERED = frozenset(
    {"mkdir", "rmdir", "purge", "copyto", "moveto", "about", "cleanup", "mega", "dedupe", "link"}
)

#: Global flags that take a value, so the command name is not mistaken for one.
_VALUE_FLAGS = frozenset(
    {"--config", "--log-file", "--log-level", "--checkers", "--transfers", "--max-depth"}
)


def command_name(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (None if there is none, or help is asked before it)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-h", "--help"):
            return None
        elif token in _VALUE_FLAGS:
            skip = True
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def build_parser(only: str | None = None, backend_help: Any = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's (building all of them costs more than a
    small listing takes). With ``backend_help`` (a Registry) the help also lists every backend's flags
    (``backend_flags`` parses those; building their list imports every backend)."""
    parser = _Parser(prog="syncer", description="rclone-style sync for local folders and MEGA")
    _add_global_flags(parser, suppress=False)
    _add_filter_flags(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, add_arguments) in COMMANDS.items():
        if only is not None and name != only:
            continue
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _add_global_flags(sub, suppress=True)
        _add_filter_flags(sub, suppress=True)
        add_arguments(sub)
        if backend_help is not None and only is not None:
            from .backend_flags import add_help

            add_help(sub, backend_help)
    if backend_help is not None and only is None:
        from .backend_flags import add_help

        add_help(parser, backend_help)
    return parser


def _log_level(args: argparse.Namespace) -> str | None:
    """The level the command line asks for, or None to take the config's (default NOTICE)."""
    if args.log_level:
        return str(args.log_level)
    if args.verbose >= 2:
        return "DEBUG"
    if args.verbose == 1:
        return "INFO"
    if args.quiet:
        return "ERROR"
    return None


def _run_config_command(args: argparse.Namespace, path: Any, config: Any, setting: Setting) -> None:
    out = setting.out
    if args.config_command == "path":
        out.write(f"{path}\n")
        return
    if args.config_command == "check":
        from .config_loader import Validator
        from .job_runner import _validator
        from .jobs import jobs_of

        jobs = jobs_of(
            config, _validator(), Validator(config.path, setting.env, setting.registry).interpolate
        )
        count = len(config.remotes)
        counted = f"{count} remote{'s' if count != 1 else ''}"
        if jobs:
            counted += f", {len(jobs)} job{'s' if len(jobs) != 1 else ''}"
        out.write(f"{path}: OK ({counted})\n")
        return
    import yaml

    shown = config.redacted()
    if args.remote:
        remotes = shown.get("remotes", {})
        if args.remote not in remotes:
            raise UsageError(f"didn't find remote {args.remote!r} in the config file")
        shown = {"remotes": {args.remote: remotes[args.remote]}}
    out.write(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True) if shown else "# empty config\n")


def _config_debris_keep(rt: Any) -> float | None:
    """``defaults.debris_keep`` (validated with the config) in seconds."""
    if rt.debris_keep is None:
        return None
    from filters import parse_duration

    return parse_duration(rt.debris_keep)


def _compare_options(args: argparse.Namespace) -> Any:
    from .compare import CompareOptions

    return CompareOptions(
        size_only=args.size_only,
        checksum=args.checksum,
        update=args.update,
        ignore_existing=args.ignore_existing,
        ignore_times=args.ignore_times,
        ignore_size=args.ignore_size,
        modify_window_ns=None if args.modify_window is None else int(args.modify_window * 1e9),
    )


def _sync_options(args: argparse.Namespace, rt: Any) -> Any:
    from .options import DeleteTiming, SyncOptions

    return SyncOptions(
        compare=_compare_options(args),
        dry_run=rt.dry_run,
        transfers=rt.transfers,
        checkers=rt.checkers,
        delete_timing=DeleteTiming(args.delete_timing or "after"),
        max_delete=args.max_delete,
        backup_dir=args.backup_dir,
        suffix=args.suffix,
        hard_delete=args.hard_delete,
        create_empty_src_dirs=args.create_empty_src_dirs,
        delete_empty_src_dirs=args.delete_empty_src_dirs,
        retries=args.retries,
        low_level_retries=args.low_level_retries,
        error_on_no_transfer=args.error_on_no_transfer,
        progress=args.progress,
        stats_interval_s=args.stats,
        stats_one_line=args.stats_one_line,
        retries_sleep_s=args.retries_sleep or 0.0,
        debris_keep_s=args.debris_keep if args.debris_keep is not None else _config_debris_keep(rt),
        bwlimit=args.bwlimit,
    )


def _run_backup(args: argparse.Namespace, rt: Any) -> int:
    from .backup import BackupOptions, list_snapshots, run_backup
    from .humanize import size_suffix

    if args.source == "list":
        for snapshot, files, size in list_snapshots(rt, args.dest, args.name):
            status = "complete" if snapshot.complete else "incomplete"
            rt.out.write(f"{snapshot.path}\t{status}\t{files} files\t{size_suffix(size)}\n")
        return 0
    if args.keep is None:
        raise UsageError("backup needs --keep N (how many snapshots to keep)")
    return run_backup(
        rt, args.source, args.dest, BackupOptions(args.keep, args.name, _sync_options(args, rt))
    )


def _run_bisync(args: argparse.Namespace, rt: Any) -> int:
    from .bisync import BisyncOptions, run_bisync
    from .bisync.deltas import CompareSpec
    from .bisync.reconcile import ConflictLoser, ConflictOptions, ConflictResolve
    from .config import state_dir

    compare_text = "size" if args.size_only else "size,checksum" if args.checksum else args.compare
    try:
        compare = CompareSpec.parse(compare_text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 <= args.max_delete <= 100:
        raise UsageError(f"--max-delete is a percentage (0-100), got {args.max_delete}")
    suffixes = [s.strip() for s in args.conflict_suffix.split(",")]
    if len(suffixes) not in (1, 2) or not all(suffixes):
        raise UsageError(f"--conflict-suffix takes one or two suffixes, not {args.conflict_suffix!r}")
    options = BisyncOptions(
        state_dir=state_dir(os.environ),
        resync=args.resync,
        dry_run=rt.dry_run,
        force=args.force,
        max_delete_percent=args.max_delete,
        check_access=args.check_access,
        check_filename=args.check_filename,
        conflicts=ConflictOptions(
            ConflictResolve(args.conflict_resolve),
            ConflictLoser(args.conflict_loser),
            (suffixes[0], suffixes[-1]),
        ),
        compare=compare,
        modify_window_ns=None if args.modify_window is None else int(args.modify_window * 1e9),
        transfers=rt.transfers,
        checkers=rt.checkers,
        low_level_retries=args.low_level_retries,
        bwlimit=args.bwlimit,
        progress=args.progress,
        watch=args.watch,
    )
    return run_bisync(rt, args.path1, args.path2, options)


def _run_dedupe(args: argparse.Namespace, rt: Any) -> None:
    from .dedupe import DedupeMode, DedupeOptions, run_dedupe

    words = list(args.words)
    if len(words) > 2:
        raise UsageError("dedupe takes [MODE] REMOTE:PATH")
    mode = args.dedupe_mode or "interactive"
    if len(words) == 2:
        if words[0] not in _DEDUPE_MODES:
            raise UsageError(f"unknown dedupe mode {words[0]!r} (one of {', '.join(_DEDUPE_MODES)})")
        mode = words[0]
    prompt = None
    if mode == "interactive":
        from .prompts import interactive

        if not interactive(os.environ):  # unattended: never wait for an answer nobody will type
            raise UsageError("interactive mode needs a terminal; choose a mode (skip, newest, ...)")

        def prompt(question: str) -> str:
            sys.stderr.write(question)
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line

    run_dedupe(rt, words[-1], DedupeOptions(mode=DedupeMode(mode)), prompt)


def _dispatch(args: argparse.Namespace, rt: Any) -> int | None:
    """Run the command; an exit code when the command decides its own (else the run's errors decide).

    Imports only the module the command needs: start-up is part of every small command's time.
    """
    name = args.command
    depth = args.max_depth
    if name in _LISTING_COMMANDS:
        from . import list_commands as lc
        from .listing import LsfFormat, TreeStyle
    else:
        from . import file_commands as fc
    if name in ("copy", "sync", "move"):
        from .plan import Mode
        from .sync_commands import run_transfer

        return run_transfer(rt, args.source, args.dest, Mode(name), _sync_options(args, rt))
    if name == "bisync":
        return _run_bisync(args, rt)
    if name == "backup":
        return _run_backup(args, rt)
    if name == "cleanup":
        fc.cmd_cleanup(rt, args.path, older_than_s=args.older_than)
        return None
    if name == "dedupe":
        _run_dedupe(args, rt)
        return None
    if name == "check":
        from .check import CheckOptions, run_check

        check_options = CheckOptions(
            one_way=args.one_way,
            size_only=args.size_only,
            download=args.download,
            checkers=rt.checkers,
            combined=args.combined,
            differ=args.differ,
            missing_on_src=args.missing_on_src,
            missing_on_dst=args.missing_on_dst,
            match=args.match,
            error=args.error,
        )
        return run_check(rt, args.source, args.dest, check_options)
    handlers: dict[str, Callable[[], None]] = {
        "ls": lambda: lc.cmd_ls(rt, args.path, depth),
        "lsl": lambda: lc.cmd_lsl(rt, args.path, depth),
        "mkdir": lambda: fc.cmd_mkdir(rt, args.path),
        "rmdir": lambda: fc.cmd_rmdir(rt, args.path),
        "purge": lambda: fc.cmd_purge(rt, args.path),
        "copyto": lambda: fc.cmd_copyto(rt, args.source, args.dest, _compare_options(args)),
        "moveto": lambda: fc.cmd_moveto(rt, args.source, args.dest, _compare_options(args)),
        "link": lambda: fc.cmd_link(rt, args.path, unlink=args.unlink),
    }
    if name in handlers:
        handlers[name]()
    elif name == "lsd":
        lc.cmd_lsd(rt, args.path, depth if depth is not None else (None if args.recursive else 1))
    elif name == "lsf":
        scope = lc.ListScope(
            max_depth=depth if depth is not None else (None if args.recursive else 1),
            files_only=args.files_only,
            dirs_only=args.dirs_only,
        )
        style = LsfFormat(
            format=args.format,
            separator=args.separator,
            dir_slash=args.dir_slash,
            absolute=args.absolute,
            csv=args.csv,
            hash_type=args.hash,
        )
        lc.cmd_lsf(rt, args.path, scope, style)
    elif name == "lsjson":
        scope = lc.ListScope(
            max_depth=depth if depth is not None else (None if args.recursive else 1),
            files_only=args.files_only,
            dirs_only=args.dirs_only,
        )
        hashes = None
        if args.hash or args.hash_type:
            hashes = list(args.hash_type) if args.hash_type else list(HashType)
        lc.cmd_lsjson(
            rt,
            args.path,
            scope,
            hashes=hashes,
            modtime=not args.no_modtime,
            mimetype=not args.no_mimetype,
            stat=args.stat,
        )
    elif name == "tree":
        tree_style = TreeStyle(
            dirs_only=args.dirs_only,
            full_path=args.full_path,
            size=args.size,
            modtime=args.modtime,
            all_files=args.all,
            noreport=args.noreport,
        )
        lc.cmd_tree(rt, args.path, args.level if args.level is not None else depth, tree_style)
    elif name == "size":
        lc.cmd_size(rt, args.path, depth, args.json)
    elif name == "rmdirs":
        fc.cmd_rmdirs(rt, args.path, leave_root=args.leave_root)
    elif name == "delete":
        fc.cmd_delete(rt, args.path, rmdirs=args.rmdirs)
    elif name == "cat":
        offset, count = args.offset, args.count
        if args.head:
            offset, count = 0, args.head
        elif args.tail:
            offset, count = -args.tail, -1
        fc.cmd_cat(rt, args.path, fc.CatRange(offset=offset, count=count, discard=args.discard))
    elif name == "about":
        fc.cmd_about(rt, args.path, as_json=args.json, full=args.full)
    elif name == "mega":
        fc.cmd_logout(rt, args.path)
    else:  # pragma: no cover - argparse only lets known commands through
        raise UsageError(f"unknown command {name!r}")
    return None


def _version_text() -> str:
    import platform

    return (
        f"syncer v{__version__}\n"
        f"- os/version: {platform.platform(terse=True)}\n"
        f"- os/kernel: {platform.release()} ({platform.machine()})\n"
        f"- python: {platform.python_version()}\n"
    )


@dataclass(frozen=True)
class Setting:
    """What every command of one invocation shares: the loaded config, the environment, the backend
    registry and flags, and where output goes (``jobs run`` builds each job's Runtime from it)."""

    config: Any
    env: Mapping[str, str]
    registry: Any
    backend_flags: Mapping[str, Any]
    out: Any


def runtime_for(args: argparse.Namespace, setting: Setting, options: Any) -> Any:
    """The Runtime of one command (or one job) from its parsed arguments and the loaded config."""
    from . import backend_flags as bf
    from .config import state_dir

    config, env, registry, out = setting.config, setting.env, setting.registry, setting.out
    from .runtime import Runtime

    rules = None
    if args.command not in _UNFILTERED:
        from filters import Filter

        rules = Filter(_filter_options(args))
        if args.dump == "filters":
            dump = rules.dump()
            out.write(dump if dump.endswith("\n") else dump + "\n")
    return Runtime(
        rules=rules,
        remotes=config.remotes,
        registry=registry,
        out=out,
        out_bytes=sys.stdout.buffer,
        dry_run=args.dry_run,
        checkers=options.checkers,
        transfers=options.transfers,
        workers_given=options.workers_given,
        debris_keep=options.debris_keep,
        overrides={
            "copy_links": True if options.copy_links else None,
            "state_dir": state_dir(env),
            "prompt": terminal_prompt(env),
        },
        type_overrides=bf.Layered(env, registry, setting.backend_flags),
    )


def _run(args: argparse.Namespace, registry: Any, backend_flags: Mapping[str, Any]) -> int:
    from .config import Config, config_path, load_config
    from .options import resolve_global_options

    env = os.environ
    level = _log_level(args)
    setup_logging(LEVELS[level or "NOTICE"], log_file=args.log_file, json_log=args.use_json_log)
    path = config_path(args.config, env)
    config: Config = load_config(path, env, registry)
    flags = {
        "log_level": level,
        "copy_links": args.copy_links,
        "checkers": args.checkers,
        "transfers": args.transfers,
    }
    options = resolve_global_options(config.defaults, env, flags)
    set_level(LEVELS[options.log_level])
    out = sys.stdout
    if args.command == "config":
        _run_config_command(args, path, config, Setting(config, env, registry, backend_flags, out))
        return 0
    if args.command == "version":
        out.write(_version_text())
        return 0
    setting = Setting(config, env, registry, backend_flags, out)
    if args.command == "jobs":
        from .job_runner import run_jobs_command

        return run_jobs_command(args, setting)
    rt = runtime_for(args, setting, options)
    try:
        code = _dispatch(args, rt)
    finally:
        rt.close()
        out.flush()
    if rt.stats.errors:
        log.error(
            "Failed to %s with %d error%s: last error was: %s",
            args.command,
            rt.stats.errors,
            "s" if rt.stats.errors != 1 else "",
            rt.stats.last_error,
        )
    return rt.stats.exit_code() if code is None else code


def _fail(args: argparse.Namespace | None, exc: BaseException) -> int:
    """Report an error that ended the command as one line (through the log, so ``--log-file`` and
    ``--use-json-log`` get it too); the traceback only with -vv."""
    command = getattr(args, "command", None) or "run"
    from filters.errors import FilterError

    if isinstance(exc, FilterError):
        exc = UsageError(str(exc))  # a malformed rule or ignore file: the user's input, exit 2
    message = str(exc) if isinstance(exc, BackendError) else f"internal error: {type(exc).__name__}: {exc}"
    traceback_wanted = args is not None and getattr(args, "verbose", 0) >= 2
    if is_set_up():
        log.error("Failed to %s: %s", command, message, exc_info=exc if traceback_wanted else None)
    else:
        sys.stderr.write(f"ERROR : Failed to {command}: {message}\n")
        if traceback_wanted:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        sys.stderr.flush()
    return exit_code_for(exc)


def _run_own_parser(name: str, arguments: list[str]) -> int:
    """A command that parses its own arguments (the emulator: a server, not a sync command)."""
    from backends.mega.emulator.cli import main as emulator_main

    return emulator_main(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``syncer`` console script; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            # Names that are not valid UTF-8 go out as the bytes they are (stdout) or escaped (stderr).
            stream.reconfigure(errors="surrogateescape" if stream is sys.stdout else "backslashreplace")
    args: argparse.Namespace | None = None
    # What start-up created lives as long as the process: keep it out of every garbage collection.
    gc.freeze()
    try:
        arguments = sys.argv[1:] if argv is None else list(argv)
        name = command_name(arguments)
        if name in _OWN_PARSER:
            return _run_own_parser(name, arguments[arguments.index(name) + 1 :])
        from backends import default_registry

        from .backend_flags import take_flags

        registry = default_registry()
        arguments, backend_flags = take_flags(arguments, registry)
        name = command_name(arguments)
        helping = registry if "-h" in arguments or "--help" in arguments else None
        args = build_parser(name, helping).parse_args(arguments)
        if not args.command:
            build_parser(backend_help=registry).print_help()
            return int(ExitCode.USAGE)
        return _run(args, registry, backend_flags)
    except BrokenPipeError:
        # The reader went away (``syncer ls | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("ERROR : interrupted\n")
        return int(ExitCode.ERROR)
    except Exception as exc:
        return _fail(args, exc)


def entry() -> NoReturn:
    """The console script: ``main``, then a fast exit.

    Everything is written and closed when ``main`` returns, so the interpreter's own teardown (freeing every
    object of a large listing one by one) only makes the user wait: about 10 ms per 10,000 files.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can reach it
            stream.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
