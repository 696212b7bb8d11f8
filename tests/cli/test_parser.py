"""The command line: finding the command before building its parser, and one-line usage errors."""

from __future__ import annotations

import pytest

from syncer.cli import COMMANDS, build_parser, command_name
from syncer.errors import UsageError


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lsl", "/x"], "lsl"),
        (["-v", "--config", "lsl", "ls", "/x"], "ls"),  # "lsl" is --config's value here
        (["--config=c.yaml", "size", "/x"], "size"),
        (["--log-level", "DEBUG", "--max-depth", "2", "tree", "."], "tree"),
        (["--help", "ls"], None),
        (["nope", "x"], None),
        ([], None),
    ],
)
def test_command_name(argv: list[str], expected: str | None) -> None:
    assert command_name(argv) == expected


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_parses_with_only_its_own_parser(name: str) -> None:
    two = ["a", "b"]
    argv = {
        "copyto": two,
        "moveto": two,
        "copy": two,
        "sync": two,
        "move": two,
        "bisync": two,
        "backup": two,
        "jobs": ["list"],
        "check": two,
        "version": [],
        "config": ["path"],
        "mega": ["logout", "remote:"],
    }.get(name, ["p"])
    full = build_parser().parse_args([name, *argv, "-v"])
    alone = build_parser(only=name).parse_args([name, *argv, "-v"])
    assert vars(full) == vars(alone)


def test_global_flags_before_and_after_the_command() -> None:
    args = build_parser("ls").parse_args(["--dry-run", "ls", "x", "--checkers", "3", "-vv"])
    assert (args.dry_run, args.checkers, args.verbose, args.path) == (True, 3, 2, "x")


def test_usage_errors_are_usage_error() -> None:
    with pytest.raises(UsageError, match="unrecognized arguments: --bogus"):
        build_parser("ls").parse_args(["ls", "x", "--bogus"])
    with pytest.raises(UsageError, match="the following arguments are required: path"):
        build_parser("ls").parse_args(["ls"])
