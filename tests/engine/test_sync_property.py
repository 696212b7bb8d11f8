"""Property: for random trees and random filters, sync makes the destination the filtered source, leaves
excluded files alone on both sides, keeps exactly what it deleted or replaced in the debris, and a second
run has nothing to do."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends import default_registry
from backends.local import LocalBackend
from filters import Filter, FilterOptions
from syncer.accounting import Stats
from syncer.debris import DEBRIS_DIR, Disposal
from syncer.options import SyncOptions
from syncer.plan import Mode
from syncer.runtime import Runtime
from syncer.sync_commands import make_plan, run_transfer
from syncer.walk import walk

#: No path is a directory of another, so the two trees never clash file-against-directory.
UNIVERSE = ["a/x.txt", "a/y.log", "a/b/z.tmp", "a/b/w.txt", "b/x.txt", "b/c/d.txt", "c.txt", "d.log", "e.tmp"]
PATTERNS = ["*.log", "*.tmp", "a/**", "/b/**", "x.txt", "/c.txt", "b/c/", "*.{txt,tmp}"]
T0 = 1_600_000_000_000_000_000

contents = st.sampled_from([b"", b"1", b"22", b"other", b"x" * 5000])
trees = st.dictionaries(
    st.sampled_from(UNIVERSE), st.tuples(contents, st.integers(0, 3)), max_size=len(UNIVERSE)
)
rule_sets = st.tuples(
    st.lists(st.sampled_from(PATTERNS), max_size=2, unique=True),
    st.lists(st.sampled_from(PATTERNS), max_size=2, unique=True),
)


def build(root: Path, tree: dict[str, tuple[bytes, int]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for rel, (data, age) in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(T0 + age * 10**9, T0 + age * 10**9))


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for path in root.rglob("*"):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def runtime(rules: Filter) -> Runtime:
    return Runtime(
        remotes={}, registry=default_registry(), out=io.StringIO(), out_bytes=io.BytesIO(), rules=rules
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src_tree=trees, dst_tree=trees, rules=rule_sets)
def test_sync_property(src_tree: dict, dst_tree: dict, rules: tuple[list[str], list[str]]) -> None:
    includes, excludes = rules
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "src", Path(tmp) / "dst"
        build(src, src_tree)
        build(dst, dst_tree)
        rule = Filter(FilterOptions(include=tuple(includes), exclude=tuple(excludes)))
        included = {
            e.path for e in walk(LocalBackend("", str(src)), stats=Stats(), rules=rule) if not e.is_dir
        } | {e.path for e in walk(LocalBackend("", str(dst)), stats=Stats(), rules=rule) if not e.is_dir}
        before_src, before_dst = files(src), files(dst)

        rt = runtime(rule)
        code = run_transfer(rt, str(src), str(dst), Mode.SYNC, SyncOptions(retries=1))
        assert code == 0 and rt.stats.errors == 0

        after_src, after_dst = files(src), files(dst)
        debris_prefix = f"{DEBRIS_DIR}/{Disposal.today()}/"
        debris = {p[len(debris_prefix) :]: v for p, v in after_dst.items() if p.startswith(debris_prefix)}
        synced = {p: v for p, v in after_dst.items() if not p.startswith(DEBRIS_DIR + "/")}

        assert after_src == before_src  # the source is never touched
        for path, value in before_src.items():
            if path in included:
                assert synced.get(path) == value, path  # same bytes, same mtime to the nanosecond
        for path, value in before_dst.items():
            if path not in included:
                assert synced.get(path) == value, path  # excluded: untouched
        expected_debris = {
            path: value
            for path, value in before_dst.items()
            if path in included and (path not in before_src or before_src[path] != value)
        }
        # replaced by equal content with another mtime: only the mtime is set, nothing goes to the debris
        expected_debris = {
            path: value
            for path, value in expected_debris.items()
            if path not in before_src or before_src[path][0] != value[0]
        }
        assert debris == expected_debris
        assert set(synced) == {p for p in before_src if p in included} | {
            p for p in before_dst if p not in included
        }

        again = runtime(rule)
        plan = make_plan(
            again, LocalBackend("", str(src)), LocalBackend("", str(dst)), Mode.SYNC, SyncOptions()
        )
        assert plan.actions == []
