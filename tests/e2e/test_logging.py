"""Global logging flags: -v, -vv, -q, --log-level, --log-file, --use-json-log."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from .helpers import Tree


@pytest.fixture
def with_link(tree: Tree) -> Tree:
    """The standard tree plus a symlink, whose NOTICE shows the default level."""
    os.symlink("a.txt", tree.root / "link.txt")
    return tree


def test_default_level_is_notice(run, with_link: Tree, tmp_path: Path) -> None:
    listed = run("ls", with_link.root)
    assert listed.returncode == 0
    assert listed.stderr.splitlines() == ["NOTICE: link.txt: Can't follow symlink without -L/--copy-links"]
    copied = run("copyto", with_link.root / "a.txt", tmp_path / "out" / "a.txt")
    assert (copied.returncode, copied.stderr) == (0, "")  # INFO is not shown


def test_verbose_shows_info_and_flags_go_after_the_command_too(run, tree: Tree, tmp_path: Path) -> None:
    dst = tmp_path / "out" / "a.txt"
    proc = run("copyto", "-v", tree.root / "a.txt", dst)
    assert (proc.returncode, proc.stderr) == (0, f"INFO  : {dst}: Copied (new)\n")


def test_very_verbose_shows_debug(run, tree: Tree, tmp_path: Path) -> None:
    dst = tmp_path / "out" / "a.txt"
    assert run("copyto", tree.root / "a.txt", dst).returncode == 0
    proc = run("-vv", "copyto", tree.root / "a.txt", dst)
    assert proc.returncode == 0
    assert f"DEBUG : {dst}: Unchanged skipping" in proc.stderr.splitlines()


def test_quiet_hides_notices_but_not_errors(run, with_link: Tree) -> None:
    listed = run("-q", "ls", with_link.root)
    assert (listed.returncode, listed.stderr) == (0, "")
    failed = run("-q", "ls", with_link.root / "missing")
    assert failed.returncode == 3
    assert failed.stderr.startswith("ERROR : ")


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("ERROR", set()),
        ("NOTICE", {"NOTICE"}),
        ("INFO", {"NOTICE", "INFO"}),
        ("DEBUG", {"NOTICE", "INFO", "DEBUG"}),
    ],
)
def test_log_level(run, with_link: Tree, tmp_path: Path, level: str, shown: set[str]) -> None:
    src, dst = with_link.root / "a.txt", tmp_path / "out" / "a.txt"
    stderr = ""
    for args in (["copyto", src, dst], ["copyto", src, dst], ["lsf", with_link.root]):
        # a copy (INFO), an unchanged file (DEBUG), a symlink not followed (NOTICE)
        proc = run("--log-level", level, *args)
        assert proc.returncode == 0, proc.stderr
        stderr += proc.stderr
    assert {line.split(":")[0].strip() for line in stderr.splitlines()} == shown, stderr


def test_log_file_is_private_and_holds_the_log(run, with_link: Tree, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "syncer.log"
    log.parent.mkdir()
    dst = tmp_path / "out" / "a.txt"
    proc = run("-v", "--log-file", log, "copyto", with_link.root / "a.txt", dst)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    listed = run("--log-file", log, "ls", with_link.root)
    assert (listed.returncode, listed.stderr) == (0, "")
    lines = log.read_text().splitlines()
    stamp = r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} "
    assert len(lines) == 2, lines
    assert re.fullmatch(stamp + re.escape(f"INFO  : {dst}: Copied (new)"), lines[0]), lines
    assert re.fullmatch(
        stamp + re.escape("NOTICE: link.txt: Can't follow symlink without -L/--copy-links"), lines[1]
    ), lines


def test_log_file_gets_the_final_error_too(run, tmp_path: Path) -> None:
    log = tmp_path / "syncer.log"
    proc = run("--log-file", log, "ls", tmp_path / "missing")
    assert proc.returncode == 3
    assert log.exists(), "the log file is made before the command runs"
    assert "Failed to ls" in log.read_text(), f"log file: {log.read_text()!r}, stderr: {proc.stderr!r}"


def _json_lines(stderr: str) -> list[dict]:
    lines = stderr.splitlines()
    assert lines, "expected log lines"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line!r}")
    return parsed


def test_json_log_lines(run, with_link: Tree, tmp_path: Path) -> None:
    dst = tmp_path / "out" / "a.txt"
    copied = _json_lines(run("--use-json-log", "-v", "copyto", with_link.root / "a.txt", dst).stderr)
    listed = _json_lines(run("--use-json-log", "ls", with_link.root).stderr)
    for record in copied + listed:
        assert {"time", "level", "msg"} <= set(record), record
    assert [(r["level"], r["msg"]) for r in copied] == [("info", f"{dst}: Copied (new)")]
    assert [(r["level"], r["msg"]) for r in listed] == [
        ("notice", "link.txt: Can't follow symlink without -L/--copy-links")
    ]


def test_json_log_covers_the_final_error(run, tmp_path: Path) -> None:
    proc = run("--use-json-log", "ls", tmp_path / "missing")
    assert proc.returncode == 3
    records = _json_lines(proc.stderr)
    assert records[-1]["level"] == "error"
    assert str(tmp_path / "missing") in records[-1]["msg"]


def test_json_log_per_file_errors(run, tmp_path: Path, unprivileged) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "ok.txt").write_bytes(b"ok")
    (root / "locked.txt").write_bytes(b"no")
    (root / "locked.txt").chmod(0)
    try:
        proc = run("--use-json-log", "cat", root, prefix=unprivileged)
    finally:
        (root / "locked.txt").chmod(0o644)
    assert proc.returncode == 1
    assert proc.stdout == "ok"
    records = _json_lines(proc.stderr)
    assert all(r["level"] == "error" for r in records), records
    assert any("locked.txt" in r["msg"] for r in records), records


def test_log_file_that_cannot_be_created(run, tmp_path: Path) -> None:
    log = tmp_path / "no-such-dir" / "syncer.log"
    proc = run("--log-file", log, "ls", tmp_path)
    assert proc.returncode in (1, 2), proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(log) in lines[0]
    assert "internal error" not in lines[0], f"a missing log directory is the user's mistake: {lines[0]}"
