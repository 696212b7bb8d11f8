"""ls, lsl, lsd, lsf, lsjson, tree, size, about and version, compared with rclone's exact output."""

from __future__ import annotations

import json
import os
import re
from importlib.metadata import version
from pathlib import Path

from .helpers import (
    Tree,
    build_tree,
    digest,
    ls_line,
    lsd_line,
    lsl_line,
    rfc3339,
    utc_seconds,
)


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


# -- ls, lsl, lsd -------------------------------------------------------------------------------------------


def test_ls_lists_every_file_recursively_in_rclone_order(run, tree: Tree) -> None:
    out = _ok(run("ls", tree.root))
    assert out == "".join(ls_line(i) for i in tree.ordered(dirs=False))
    # shallower levels first, and "sub/..." before "sub.old/..." (by directory, not by full path)
    assert [line.split()[-1] for line in out.splitlines()] == [
        "a.txt",
        "b.bin",
        "sub/c.md",
        "sub.old/z.json",
        "sub/deep/d.txt",
    ]


def test_ls_max_depth_one(run, tree: Tree) -> None:
    out = _ok(run("ls", "--max-depth", "1", tree.root))
    assert out == ls_line(tree["a.txt"]) + ls_line(tree["b.bin"])


def test_ls_of_a_file_lists_that_file(run, tree: Tree) -> None:
    assert _ok(run("ls", tree.root / "sub" / "c.md")) == f"{1:9d} c.md\n"


def test_lsl_shows_nanosecond_mtimes(run, tree: Tree) -> None:
    out = _ok(run("lsl", tree.root))
    assert out == "".join(lsl_line(i) for i in tree.ordered(dirs=False))
    assert out.splitlines()[0] == "        6 2020-09-13 12:26:40.123456789 a.txt"


def test_lsd_lists_the_top_directories(run, tree: Tree) -> None:
    out = _ok(run("lsd", tree.root))
    assert out == "".join(lsd_line(tree[p]) for p in ("empty", "sub", "sub.old"))


def test_lsd_recursive(run, tree: Tree) -> None:
    out = _ok(run("lsd", "-R", tree.root))
    assert out == "".join(lsd_line(tree[p]) for p in ("empty", "sub", "sub.old", "sub/deep"))


# -- lsf ----------------------------------------------------------------------------------------------------


def _lsf_path(item, *, absolute: bool = False) -> str:
    return ("/" if absolute else "") + item.path + ("/" if item.is_dir else "")


def test_lsf_default_lists_one_level_with_dir_slashes(run, tree: Tree) -> None:
    assert _ok(run("lsf", tree.root)) == "a.txt\nb.bin\nempty/\nsub/\nsub.old/\n"


def test_lsf_recursive_format_psthi(run, tree: Tree) -> None:
    out = _ok(run("lsf", "-R", "--format", "psthi", tree.root))
    expected = [
        ";".join(
            [
                _lsf_path(item),
                str(item.size),
                utc_seconds(item.mtime_ns),
                "" if item.is_dir else digest("md5", item.data),
                "",  # the local backend has no IDs
            ]
        )
        for item in tree.ordered()
    ]
    assert out.splitlines() == expected


def test_lsf_separator(run, tree: Tree) -> None:
    out = _ok(run("lsf", "--separator", " | ", "--format", "sp", "--files-only", tree.root))
    assert out == "6 | a.txt\n10 | b.bin\n"


def test_lsf_dirs_only_recursive(run, tree: Tree) -> None:
    out = _ok(run("lsf", "-R", "--dirs-only", tree.root))
    assert out == "empty/\nsub/\nsub.old/\nsub/deep/\n"


def test_lsf_files_only_recursive(run, tree: Tree) -> None:
    out = _ok(run("lsf", "-R", "--files-only", tree.root))
    assert out == "a.txt\nb.bin\nsub/c.md\nsub.old/z.json\nsub/deep/d.txt\n"


def test_lsf_absolute(run, tree: Tree) -> None:
    out = _ok(run("lsf", "-R", "--absolute", tree.root))
    assert out.splitlines() == [_lsf_path(i, absolute=True) for i in tree.ordered()]


def test_lsf_hash_sha1(run, tree: Tree) -> None:
    out = _ok(run("lsf", "-R", "--format", "hp", "--hash", "sha1", tree.root))
    expected = [("" if i.is_dir else digest("sha1", i.data)) + ";" + _lsf_path(i) for i in tree.ordered()]
    assert out.splitlines() == expected


def test_lsf_csv_quotes_fields(run, tmp_path: Path) -> None:
    made = build_tree(tmp_path / "c", {'we,ird "name".txt': b"abc", "plain": b"", "d/e": b"12"})
    out = _ok(run("lsf", "-R", "--csv", "--format", "ps", made.root))
    assert out == 'd/,-1\nplain,0\n"we,ird ""name"".txt",3\nd/e,2\n'


def test_lsf_mime_types(run, tmp_path: Path) -> None:
    made = build_tree(tmp_path / "m", {"x.json": b"{}", "y.png": b"\x89PNG", "z.unknownext": b"?"}, ["dir"])
    out = _ok(run("lsf", "--format", "pm", made.root))
    assert out == (
        "dir/;inode/directory\n"
        "x.json;application/json\n"
        "y.png;image/png\n"
        "z.unknownext;application/octet-stream\n"
    )


def test_text_mime_types_carry_charset_like_rclone(run, tree: Tree) -> None:
    """rclone (Go's mime package) reports text types as "text/plain; charset=utf-8" in lsf and lsjson."""
    out = _ok(run("lsf", "--format", "m", "--files-only", tree.root / "a.txt"))
    assert out == "text/plain; charset=utf-8\n"


# -- lsjson -------------------------------------------------------------------------------------------------


def _lsjson_expected(item, *, hashes=None, modtime=True, mimetype=True, mime=None) -> dict:
    expected: dict = {"Path": item.path, "Name": item.name, "Size": item.size}
    if mimetype:
        expected["MimeType"] = mime
    if modtime:
        expected["ModTime"] = rfc3339(item.mtime_ns)
    expected["IsDir"] = item.is_dir
    if hashes is not None:
        expected["Hashes"] = hashes
    return expected


def _base_mime(objects: list[dict]) -> list[dict]:
    """The objects with MimeType cut to its type (the charset parameter is a separate test)."""
    for obj in objects:
        if "MimeType" in obj:
            obj["MimeType"] = obj["MimeType"].split(";")[0]
    return objects


MIMES = {
    "a.txt": "text/plain",
    "b.bin": "application/octet-stream",
    "sub/c.md": "text/markdown",
    "sub/deep/d.txt": "text/plain",
    "sub.old/z.json": "application/json",
}


def _mime(item) -> str:
    return "inode/directory" if item.is_dir else MIMES[item.path]


def test_lsjson_one_level(run, tree: Tree) -> None:
    out = _ok(run("lsjson", tree.root))
    lines = out.splitlines()
    # rclone streams the array: "[", one object per line, "]"
    assert lines[0] == "[" and lines[-1] == "]"
    assert all(line.startswith("{") for line in lines[1:-1])
    objects = json.loads(out)
    top = tree.ordered(max_depth=1)
    assert [list(o) for o in objects] == [["Path", "Name", "Size", "MimeType", "ModTime", "IsDir"]] * len(top)
    assert _base_mime(objects) == [_lsjson_expected(i, mime=_mime(i)) for i in top]


def test_lsjson_recursive_with_all_hashes(run, tree: Tree) -> None:
    objects = _base_mime(json.loads(_ok(run("lsjson", "-R", "--hash", tree.root))))
    expected = [
        _lsjson_expected(
            i,
            mime=_mime(i),
            hashes=None if i.is_dir else {k: digest(k, i.data) for k in ("md5", "sha1", "sha256")},
        )
        for i in tree.ordered()
    ]
    assert objects == expected


def test_lsjson_hash_type_files_only(run, tree: Tree) -> None:
    out = _ok(run("lsjson", "-R", "--files-only", "--hash-type", "sha1", tree.root))
    objects = _base_mime(json.loads(out))
    expected = [
        _lsjson_expected(i, mime=_mime(i), hashes={"sha1": digest("sha1", i.data)})
        for i in tree.ordered(dirs=False)
    ]
    assert objects == expected


def test_lsjson_dirs_only_without_modtime_and_mimetype(run, tree: Tree) -> None:
    out = _ok(run("lsjson", "-R", "--dirs-only", "--no-modtime", "--no-mimetype", tree.root))
    assert json.loads(out) == [
        {"Path": p, "Name": p.rsplit("/", 1)[-1], "Size": -1, "IsDir": True}
        for p in ("empty", "sub", "sub.old", "sub/deep")
    ]


def test_lsjson_stat_of_a_file_and_of_a_directory(run, tree: Tree) -> None:
    item = tree["sub.old/z.json"]
    one = json.loads(_ok(run("lsjson", "--stat", "--hash-type", "md5", tree.root / item.path)))
    assert one == _lsjson_expected(
        item, mime="application/json", hashes={"md5": digest("md5", item.data)}
    ) | {"Path": "z.json"}
    folder = tree["sub"]
    stat = json.loads(_ok(run("lsjson", "--stat", tree.root / "sub")))
    assert stat["IsDir"] is True
    assert stat["Size"] == -1
    assert stat["ModTime"] == rfc3339(folder.mtime_ns)
    assert stat["MimeType"] == "inode/directory"


# -- tree ---------------------------------------------------------------------------------------------------


def test_tree(run, tree: Tree) -> None:
    assert _ok(run("tree", tree.root)) == (
        "/\n"
        "├── a.txt\n"
        "├── b.bin\n"
        "├── empty\n"
        "├── sub\n"
        "│   ├── c.md\n"
        "│   └── deep\n"
        "│       └── d.txt\n"
        "└── sub.old\n"
        "    └── z.json\n"
        "\n"
        "4 directories, 5 files\n"
    )


def test_tree_dirs_only(run, tree: Tree) -> None:
    assert _ok(run("tree", "-d", tree.root)) == (
        "/\n├── empty\n├── sub\n│   └── deep\n└── sub.old\n\n4 directories\n"
    )


def test_tree_level_one(run, tree: Tree) -> None:
    assert _ok(run("tree", "--level", "1", tree.root)) == (
        "/\n├── a.txt\n├── b.bin\n├── empty\n├── sub\n└── sub.old\n\n3 directories, 2 files\n"
    )


def test_tree_sizes_noreport(run, tree: Tree) -> None:
    """rclone tree -s shows a directory's total size (its files, recursively), the root's too."""
    assert _ok(run("tree", "-s", "--noreport", tree.root)) == (
        "[         30]  /\n"
        "├── [          6]  a.txt\n"
        "├── [         10]  b.bin\n"
        "├── [          0]  empty\n"
        "├── [          5]  sub\n"
        "│   ├── [          1]  c.md\n"
        "│   └── [          4]  deep\n"
        "│       └── [          4]  d.txt\n"
        "└── [          9]  sub.old\n"
        "    └── [          9]  z.json\n"
    )


# -- size, about, version -----------------------------------------------------------------------------------


def test_size(run, tree: Tree) -> None:
    assert _ok(run("size", tree.root)) == "Total objects: 5\nTotal size: 30 B (30 Byte)\n"


def test_size_in_kib(run, tmp_path: Path) -> None:
    made = build_tree(tmp_path / "s", {"big": b"\0" * 3000, "sub/one": b"\n"})
    assert _ok(run("size", made.root)) == "Total objects: 2\nTotal size: 2.931 KiB (3001 Byte)\n"


def test_size_json(run, tree: Tree) -> None:
    out = _ok(run("size", "--json", tree.root))
    assert json.loads(out) == {"count": 5, "bytes": 30, "sizeless": 0}
    # rclone prints it compactly, on one line
    assert out == '{"count":5,"bytes":30,"sizeless":0}\n'


def test_about(run, tree: Tree) -> None:
    vfs = os.statvfs(tree.root)
    total = vfs.f_blocks * vfs.f_frsize
    human = _ok(run("about", tree.root))
    assert re.fullmatch(r"Total:   \S+ \S*B\nUsed:    \S+ \S*B\nFree:    \S+ \S*B\n", human), human
    full = _ok(run("about", "--full", tree.root))
    numbers = dict(line.split(":") for line in full.splitlines())
    assert list(numbers) == ["Total", "Used", "Free"]
    assert int(numbers["Total"]) == total
    assert 0 <= int(numbers["Free"]) <= total and 0 <= int(numbers["Used"]) <= total
    figures = json.loads(_ok(run("about", "--json", tree.root)))
    assert figures["total"] == total
    assert set(figures) == {"total", "used", "free"}
    assert all(isinstance(v, int) for v in figures.values())


def test_version(run) -> None:
    out = _ok(run("version"))
    lines = out.splitlines()
    assert lines[0] == f"syncer v{version('syncer')}"
    assert [line.split(":")[0] for line in lines[1:]] == ["- os/version", "- os/kernel", "- python"]
