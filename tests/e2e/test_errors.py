"""Exit codes (rclone's table) and their messages: one line on stderr, no traceback, saying what went wrong
and where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .helpers import Tree, assert_one_error_line, build_tree

# -- not found ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ls", "lsl", "lsd", "lsf", "lsjson", "size", "tree", "cat"])
def test_missing_directory_is_exit_3(run, tree: Tree, command: str) -> None:
    missing = tree.root / "no-such-dir"
    proc = run(command, missing)
    assert_one_error_line(proc, 3, str(missing), "not found")
    assert proc.stdout == ""


@pytest.mark.parametrize("command", ["copyto", "moveto"])
def test_missing_source_file_is_exit_4(run, tree: Tree, tmp_path: Path, command: str) -> None:
    missing = tree.root / "sub" / "no-such-file.txt"
    dst = tmp_path / "out" / "x.txt"
    proc = run(command, missing, dst)
    assert_one_error_line(proc, 4, "not found")
    assert str(missing) in proc.stderr, f"the message should name the missing source: {proc.stderr}"
    assert not dst.exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (lambda t: ["rmdir", t / "sub"], 1),  # not empty
        (lambda t: ["rmdir", t / "gone"], 3),
        (lambda t: ["purge", t / "gone"], 3),
        (lambda t: ["mkdir", t / "a.txt" / "x"], None),  # a file is in the way: any error code
    ],
    ids=["rmdir-not-empty", "rmdir-missing", "purge-missing", "mkdir-under-a-file"],
)
def test_errors_on_the_named_directory_name_it(run, tree: Tree, args, code: int | None) -> None:
    argv = args(tree.root)
    proc = run(*argv)
    assert proc.returncode != 0
    line = assert_one_error_line(proc, proc.returncode if code is None else code)
    assert str(argv[-1]) in line, f"the message should say which directory: {line}"


# -- configuration and usage --------------------------------------------------------------------------------


def test_unknown_remote_is_exit_2(run) -> None:
    assert_one_error_line(run("ls", "nope:x"), 2, "nope")


def _config(run, text: str) -> Path:
    path = run.default_config
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _config_error(run, text: str, line: int, *needles: str) -> str:
    path = _config(run, text)
    proc = run("lsl", "work:")
    message = assert_one_error_line(proc, 2, str(path), *needles)
    assert re.search(rf"{re.escape(str(path))}:{line}\b|\bline {line}\b", message), (
        f"line {line} not in: {message}"
    )
    return message


def test_yaml_bad_indentation(run) -> None:
    _config_error(run, "remotes:\n  work:\n    type: local\n   root: /tmp\n", 4)


def test_yaml_unclosed_bracket_names_its_line(run) -> None:
    text = "remotes:\n  work:\n    type: local\n    root: [/tmp\ndefaults:\n  transfers: 4\n"
    _config_error(run, text, 4)


def test_yaml_unclosed_quote_names_its_line(run) -> None:
    text = 'remotes:\n  work:\n    type: local\n    root: "/tmp\ndefaults:\n  transfers: 4\n'
    _config_error(run, text, 4)


def test_unknown_option_in_a_remote(run, tmp_path: Path) -> None:
    text = f"remotes:\n  work:\n    type: local\n    root: {tmp_path}\n    colour: blue\n"
    _config_error(run, text, 5, "colour")


def test_unknown_remote_type(run, tmp_path: Path) -> None:
    text = f"remotes:\n  other:\n    type: local\n  work:\n    type: ftp\n    root: {tmp_path}\n"
    _config_error(run, text, 5, "ftp")


def test_missing_config_file_named_by_flag(run, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    assert_one_error_line(run("--config", missing, "ls", tmp_path), 2, str(missing))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ls", "--no-such-flag", "."], "--no-such-flag"),
        (["ls"], "path"),
        (["copyto", "a"], "dest"),
        (["frobnicate", "."], "frobnicate"),
        (["cat", "--count", "many", "."], "many"),
        (["lsf", "--format", "pq", "."], "q"),
        (["lsjson", "--hash-type", "crc99", "."], "crc99"),
        (["config"], "ACTION"),
    ],
    ids=["unknown-flag", "missing-path", "missing-dest", "unknown-command", "bad-int", "bad-format",
         "bad-hash", "config-without-action"],
)  # fmt: skip
def test_bad_usage_is_exit_2_in_one_line(run, tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run(*args, cwd=tmp_path)
    assert_one_error_line(proc, 2, needle)
    assert proc.stdout == ""


# -- permission denied: the run goes on over the other files ------------------------------------------------


@pytest.fixture
def locked(tmp_path: Path):
    made = build_tree(tmp_path / "p", {"1.txt": b"A", "2.txt": b"B", "3.txt": b"C", "ok/4.txt": b"D"})
    (made.root / "2.txt").chmod(0)
    yield made
    (made.root / "2.txt").chmod(0o644)


def test_cat_directory_with_an_unreadable_file(run, locked: Tree, unprivileged) -> None:
    proc = run("cat", locked.root, prefix=unprivileged)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout_bytes == b"ACD"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert all(line.startswith("ERROR : ") for line in lines), proc.stderr
    assert any("2.txt" in line and "permission denied" in line for line in lines), proc.stderr


def test_copyto_of_an_unreadable_file(run, locked: Tree, tmp_path: Path, unprivileged) -> None:
    dst = tmp_path / "out" / "2.txt"
    proc = run("copyto", locked.root / "2.txt", dst, prefix=unprivileged)
    assert_one_error_line(proc, 1, "2.txt", "permission denied")
    assert not dst.exists()


def test_ls_with_an_unlistable_directory(run, tmp_path: Path, unprivileged) -> None:
    made = build_tree(tmp_path / "q", {"1.txt": b"A", "bad/2.txt": b"BB", "ok/3.txt": b"CCC"})
    (made.root / "bad").chmod(0)
    try:
        proc = run("ls", made.root, prefix=unprivileged)
    finally:
        (made.root / "bad").chmod(0o755)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "        1 1.txt\n        3 ok/3.txt\n"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    listing = [line for line in lines if str(made.root / "bad") in line]
    assert len(listing) == 1, proc.stderr
    assert listing[0].startswith("ERROR : ") and "permission denied" in listing[0]
    # besides it, at most rclone's closing summary
    assert len(lines) <= 2 and all(line.startswith("ERROR : ") for line in lines), proc.stderr


def test_unreadable_directory_given_on_the_command_line_is_named(run, tmp_path: Path, unprivileged) -> None:
    root = tmp_path / "closed"
    (root / "inside").mkdir(parents=True)
    root.chmod(0)
    try:
        proc = run("ls", root, prefix=unprivileged)
    finally:
        root.chmod(0o755)
    line = assert_one_error_line(proc, 1, "permission denied")
    assert str(root) in line, f"the message should say which directory: {line}"
