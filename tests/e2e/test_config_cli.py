"""The config file from the command line: where it is found, `config show|check|path`, and remotes that
address a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .helpers import Tree, assert_one_error_line, lsl_line, utc_nanos


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _work_remote(root: Path | str, extra: str = "") -> str:
    return f"remotes:\n  work:\n    type: local\n    root: {root}\n{extra}"


# -- where the file is --------------------------------------------------------------------------------------


def test_config_path_default_is_under_xdg_config_home(run) -> None:
    proc = run("config", "path")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"{run.default_config}\n", "")


def test_config_path_without_xdg_is_under_home(run) -> None:
    proc = run("config", "path", unset=("XDG_CONFIG_HOME",))
    assert proc.stdout == f"{run.home / '.config' / 'syncer' / 'config.yaml'}\n", proc.stderr


def test_config_path_from_env_then_flag(run, tmp_path: Path) -> None:
    from_env = _write(tmp_path / "env.yaml", "")
    from_flag = _write(tmp_path / "flag.yaml", "")
    env = {"SYNCER_CONFIG": str(from_env)}
    assert run("config", "path", env=env).stdout == f"{from_env}\n"
    assert run("--config", from_flag, "config", "path", env=env).stdout == f"{from_flag}\n"


# -- config check / show ------------------------------------------------------------------------------------


def test_config_check(run, tmp_path: Path) -> None:
    path = _write(run.default_config, _work_remote(tmp_path))
    proc = run("config", "check")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"{path}: OK (1 remote)\n", "")


def test_config_check_reports_a_broken_file(run) -> None:
    path = _write(run.default_config, "remotes:\n  work:\n    typo: local\n")
    assert_one_error_line(run("config", "check"), 2, f"{path}:2", "type")


def test_config_show_hides_nothing_that_is_not_secret(run, tmp_path: Path) -> None:
    _write(run.default_config, _work_remote(tmp_path / "data", "    copy_links: true\n"))
    proc = run("config", "show")
    assert proc.returncode == 0, proc.stderr
    assert "***" not in proc.stdout
    shown = yaml.safe_load(proc.stdout)
    assert shown["remotes"] == {"work": {"type": "local", "root": str(tmp_path / "data"), "copy_links": True}}
    one = run("config", "show", "work")
    assert yaml.safe_load(one.stdout) == {"remotes": shown["remotes"]}


def test_config_show_unknown_remote(run, tmp_path: Path) -> None:
    _write(run.default_config, _work_remote(tmp_path))
    assert_one_error_line(run("config", "show", "nope"), 2, "nope")


# -- remotes ------------------------------------------------------------------------------------------------


def test_remote_root_and_sub_path(run, tree: Tree) -> None:
    _write(run.default_config, _work_remote(tree.root))
    whole = run("lsl", "work:")
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout == "".join(lsl_line(i) for i in tree.ordered(dirs=False))
    sub = run("lsl", "work:sub")
    assert sub.returncode == 0, sub.stderr
    assert sub.stdout == (
        f"        1 {utc_nanos(tree['sub/c.md'].mtime_ns)} c.md\n"
        f"        4 {utc_nanos(tree['sub/deep/d.txt'].mtime_ns)} deep/d.txt\n"
    )


def test_remote_path_with_leading_slash_stays_inside_the_root(run, tree: Tree) -> None:
    """As with rclone's alias remotes, "work:/sub" is "sub" below the remote's root, not the disk's /sub."""
    _write(run.default_config, _work_remote(tree.root))
    proc = run("lsf", "work:/sub")
    assert (proc.returncode, proc.stdout) == (0, "c.md\ndeep/\n"), proc.stderr


def test_remote_root_from_environment(run, tree: Tree) -> None:
    _write(run.default_config, _work_remote("${WORK_BASE}/t"))
    proc = run("lsf", "work:sub", env={"WORK_BASE": str(tree.root.parent)})
    assert (proc.returncode, proc.stdout) == (0, "c.md\ndeep/\n"), proc.stderr
    shown = run("config", "show", env={"WORK_BASE": str(tree.root.parent)})
    assert yaml.safe_load(shown.stdout)["remotes"]["work"]["root"] == str(tree.root)


def test_remote_root_from_unset_environment_variable(run) -> None:
    path = _write(run.default_config, _work_remote("${WORK_BASE}/t"))
    assert_one_error_line(run("lsf", "work:"), 2, f"{path}:4", "WORK_BASE")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_config_named_by_flag_or_env(run, tree: Tree, tmp_path: Path, how: str) -> None:
    path = _write(tmp_path / "elsewhere.yaml", _work_remote(tree.root))
    if how == "flag":
        proc = run("--config", path, "lsf", "work:")
    else:
        proc = run("lsf", "work:", env={"SYNCER_CONFIG": str(path)})
    assert (proc.returncode, proc.stdout) == (0, "a.txt\nb.bin\nempty/\nsub/\nsub.old/\n"), proc.stderr


def test_copyto_and_moveto_within_a_remote(run, tree: Tree) -> None:
    _write(run.default_config, _work_remote(tree.root))
    copied = run("copyto", "work:a.txt", "work:new/dir/copy.txt")
    assert copied.returncode == 0, copied.stderr
    assert (tree.root / "new" / "dir" / "copy.txt").read_bytes() == b"hello\n"
    moved = run("moveto", "work:new/dir/copy.txt", "work:moved.txt")
    assert moved.returncode == 0, moved.stderr
    assert not (tree.root / "new" / "dir" / "copy.txt").exists()
    assert (tree.root / "moved.txt").stat().st_mtime_ns == tree["a.txt"].mtime_ns
    cat = run("cat", "work:moved.txt")
    assert cat.stdout == "hello\n"


def test_the_example_config_is_valid(run, tmp_path: Path) -> None:
    """config.example.yaml documents every option: it must stay a config syncer accepts."""
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    proc = run("config", "check", "--config", example, env={"ARCHIVE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{example}: OK (4 remotes, 2 jobs)\n"
    missing = run("config", "check", "--config", example)
    assert missing.returncode == 2
    assert "ARCHIVE_DIR" in missing.stderr
