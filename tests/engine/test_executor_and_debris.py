"""syncer.executor.execute, syncer.retry and syncer.debris on memory and local backends.

Faults are injected by small MemoryBackend subclasses that fail where a real backend could (a refused write, a
rate limit), never by patching the engine; the one patch swaps the retry sleep for a no-op to keep tests fast.
"""

from __future__ import annotations

import functools
import io
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from backends import Backend, Entry, Features, HashType
from backends.base import BinaryReader, Target
from backends.errors import BackendError, NotFound, PermissionDenied, RateLimited
from backends.local import LocalBackend
from backends.memory import MemoryBackend, MemoryStore
from syncer import executor, retry
from syncer.accounting import Stats
from syncer.compare import CompareOptions, common_hash, modify_window_ns
from syncer.debris import DEBRIS_DIR, Disposal, DisposalMode, cleanup_debris, dispose
from syncer.executor import ExecOptions, execute
from syncer.march import march
from syncer.options import DeleteTiming
from syncer.plan import Mode, Plan, Planner, PlanOptions, plan_all

OLD = 1_600_000_000_111_111_111
NEW = 1_700_000_000_222_222_222
DAY = "2024-03-05"
DEBRIS = Disposal(DisposalMode.DEBRIS, day=DAY)
HARD = Disposal(DisposalMode.HARD)


@pytest.fixture(autouse=True)
def _no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Low-level retries back off with real sleeps; the executor's are made instant (same count)."""
    monkeypatch.setattr(executor, "with_retries", functools.partial(retry.with_retries, sleep=lambda _: None))


# -- helpers -------------------------------------------------------------------------------------------------


def write(backend: Backend, path: str, data: bytes, mtime_ns: int = OLD) -> Entry:
    if isinstance(backend, MemoryBackend):
        return MemoryBackend.put(backend, path, io.BytesIO(data), size=len(data), mtime_ns=mtime_ns)
    return backend.put(path, io.BytesIO(data), size=len(data), mtime_ns=mtime_ns)


def read(backend: Backend, path: str) -> bytes:
    with backend.open_read(path) as stream:
        data: bytes = stream.read()
    return data


def files(backend: Backend) -> dict[str, bytes]:
    """path -> content of every file (the engine's debris folder included)."""
    try:
        return {e.path: read(backend, e.path) for e in backend.walk("") if not e.is_dir}
    except NotFound:
        return {}


def dirs(backend: Backend) -> set[str]:
    return {e.path for e in backend.walk("") if e.is_dir}


def make_plan(src: Backend, dst: Backend, mode: Mode, stats: Stats | None = None, **changes: Any) -> Plan:
    """What sync_commands.make_plan does, without a Runtime: march, plan, hashes for the pending pairs."""
    hash_kind = common_hash(src.features, dst.features)
    planner = Planner(
        PlanOptions(
            mode=mode,
            compare=changes.pop("compare", CompareOptions()),
            window_ns=modify_window_ns(src.features, dst.features),
            hash_kind=hash_kind,
            can_set_mtime=dst.features.can_set_mtime,
            **changes,
        )
    )
    matches = march(src, dst, stats=stats or Stats(), skip_root_names=frozenset({DEBRIS_DIR}))
    for waiting in plan_all(planner, matches):
        assert hash_kind is not None
        m = waiting.match
        planner.resolved(waiting, src.hash(m.src, hash_kind), dst.hash(m.dst, hash_kind))  # type: ignore[arg-type]
    return planner.finish()


def run(
    src: Backend, dst: Backend, mode: Mode, *, plan_changes: Mapping[str, Any] = {}, **options: Any
) -> Stats:
    stats = Stats()
    plan = make_plan(src, dst, mode, stats, **plan_changes)
    options.setdefault("keep_replaced", mode is Mode.SYNC)
    options.setdefault("disposal", DEBRIS if mode is Mode.SYNC else HARD)
    options.setdefault("transfers", 1)
    execute(plan, src, dst, ExecOptions(**options), stats)
    return stats


class Recording(MemoryBackend):
    """Notes every write, removal and rename, in order, in ``events`` (shared by the backends of one test)."""

    events: list[tuple[str, str]]

    def put(self, path: str, stream: BinaryReader, **kwargs: Any) -> Entry:
        entry = super().put(path, stream, **kwargs)
        self.events.append(("put", path))
        return entry

    def remove(self, target: Target) -> None:
        path = target.path if isinstance(target, Entry) else target
        super().remove(target)
        self.events.append(("remove", path))

    def move(self, target: Target, dst_path: str) -> Entry:
        path = target.path if isinstance(target, Entry) else target
        entry = super().move(target, dst_path)
        self.events.append(("move", path))
        return entry

    def rmdir(self, path: str) -> None:
        super().rmdir(path)
        self.events.append(("rmdir", path))


class RefusesOnePath(MemoryBackend):
    """A destination where writing one path is refused, as a read-only file or folder would be."""

    refused = "bad.txt"

    def put(self, path: str, stream: BinaryReader, **kwargs: Any) -> Entry:
        if path == self.refused:
            raise PermissionDenied(path=path)
        return super().put(path, stream, **kwargs)


class RateLimitedPuts(MemoryBackend):
    """A destination that answers "slow down" to the first ``failures`` writes; counts every write."""

    failures = 0
    error: type[BackendError] = RateLimited

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self._lock = threading.Lock()

    def put(self, path: str, stream: BinaryReader, **kwargs: Any) -> Entry:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            stream.read()  # a real upload would have consumed some of it
            raise self.error(path=path)
        return super().put(path, stream, **kwargs)


def _sync_scene(dst: MemoryBackend) -> MemoryBackend:
    """A source with one new and one changed file; ``dst`` gets the old version, a stale file and a stale
    folder."""
    src = MemoryBackend("src", "src")
    write(src, "changed.txt", b"new content", NEW)
    write(src, "new.txt", b"brand new", NEW)
    write(dst, "changed.txt", b"old", OLD)
    write(dst, "gone.txt", b"stale", OLD)
    write(dst, "gonedir/x.txt", b"stale too", OLD)
    return src


# -- delete timing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timing", "deletes_first"),
    [(DeleteTiming.BEFORE, True), (DeleteTiming.AFTER, False)],
    ids=["before", "after"],
)
def test_delete_before_and_after(timing: DeleteTiming, deletes_first: bool) -> None:
    dst = Recording("dst", "dst")
    dst.events = []
    src = _sync_scene(dst)
    stats = run(src, dst, Mode.SYNC, disposal=HARD, keep_replaced=False, delete_timing=timing)
    assert stats.errors == 0
    puts = [i for i, (op, _) in enumerate(dst.events) if op == "put"]
    removes = [i for i, (op, _) in enumerate(dst.events) if op == "remove"]
    assert sorted(p for op, p in dst.events if op == "remove") == ["gone.txt", "gonedir/x.txt"]
    assert len(puts) == 2
    if deletes_first:
        assert max(removes) < min(puts), dst.events
    else:
        assert max(puts) < min(removes), dst.events
    assert dst.events[-1] == ("rmdir", "gonedir"), "directories go last, once emptied"
    assert files(dst) == {"changed.txt": b"new content", "new.txt": b"brand new"}


class WaitsForADelete(MemoryBackend):
    """Holds each write until some file has been removed (or 10 s passed), and notes which happened."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.removed = threading.Event()
        self.waited: list[bool] = []

    def put(self, path: str, stream: BinaryReader, **kwargs: Any) -> Entry:
        self.waited.append(self.removed.wait(timeout=10))
        return super().put(path, stream, **kwargs)

    def remove(self, target: Target) -> None:
        super().remove(target)
        self.removed.set()


def test_delete_during_deletes_while_transfers_run() -> None:
    dst = WaitsForADelete("dst", "dst")
    src = MemoryBackend("src", "src")
    write(src, "new.txt", b"brand new", NEW)
    write(dst, "gone.txt", b"stale", OLD)
    stats = run(src, dst, Mode.SYNC, disposal=HARD, delete_timing=DeleteTiming.DURING, transfers=2)
    assert stats.errors == 0
    assert dst.waited == [True], "the delete should have happened while the transfer was under way"
    assert files(dst) == {"new.txt": b"brand new"}


@pytest.mark.parametrize(
    ("timing", "deleted"),
    [(DeleteTiming.AFTER, False), (DeleteTiming.DURING, True), (DeleteTiming.BEFORE, True)],
    ids=["after", "during", "before"],
)
def test_a_failed_transfer_stops_only_delete_after(timing: DeleteTiming, deleted: bool) -> None:
    dst = RefusesOnePath("dst", "dst")
    src = _sync_scene(dst)
    write(src, "bad.txt", b"cannot be written", NEW)
    stats = run(src, dst, Mode.SYNC, delete_timing=timing)
    after = files(dst)
    # the other transfers went ahead either way
    assert after["changed.txt"] == b"new content" and after["new.txt"] == b"brand new"
    assert "bad.txt" not in after
    stale = {"gone.txt", "gonedir/x.txt"}
    if deleted:
        assert stale.isdisjoint(after)
        assert after[f".debris/{DAY}/gone.txt"] == b"stale"
        assert "gonedir" not in dirs(dst)
        assert stats.errors == 1
    else:
        assert stale <= after.keys(), "--delete-after must not delete once a transfer failed"
        assert not any(p.startswith(f".debris/{DAY}/gone") for p in after)
        assert "gonedir" in dirs(dst)
        assert stats.errors == 2, "the failure, and 'not deleting files as there were IO errors'"
        assert "not deleting" in str(stats.last_error)
    assert stats.deletes == (2 if deleted else 0)


# -- low-level retries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "allowed", "calls", "ok"),
    [(0, 10, 1, True), (3, 10, 4, True), (9, 10, 10, True), (5, 3, 3, False), (1, 1, 1, False)],
    ids=["no-fault", "3-faults", "9-of-10", "exhausted", "no-retries"],
)
def test_low_level_retries_of_a_rate_limited_write(failures: int, allowed: int, calls: int, ok: bool) -> None:
    src, dst = MemoryBackend("src", "src"), RateLimitedPuts("dst", "dst")
    dst.failures = failures
    write(src, "f.txt", b"payload", NEW)
    stats = run(src, dst, Mode.COPY, low_level_retries=allowed)
    assert dst.calls == calls
    assert (stats.errors, stats.transfers) == ((0, 1) if ok else (1, 0))
    assert files(dst) == ({"f.txt": b"payload"} if ok else {})


def test_a_refusal_is_not_retried() -> None:
    src, dst = MemoryBackend("src", "src"), RateLimitedPuts("dst", "dst")
    dst.failures, dst.error = 5, PermissionDenied
    write(src, "f.txt", b"payload", NEW)
    stats = run(src, dst, Mode.COPY, low_level_retries=10)
    assert dst.calls == 1
    assert stats.errors == 1 and isinstance(stats.last_error, PermissionDenied)


def test_with_retries_backs_off_exponentially_with_jitter() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= 4:
            raise RateLimited("slow down")
        return "done"

    assert retry.with_retries(operation, attempts=10, what="x", base_delay=0.1, sleep=slept.append) == "done"
    assert len(calls) == 5 and len(slept) == 4
    for attempt, delay in enumerate(slept):
        nominal = 0.1 * 2**attempt
        assert 0.5 * nominal <= delay <= 1.5 * nominal, (attempt, delay)


def test_with_retries_gives_up_with_the_last_error() -> None:
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise RateLimited(f"try {len(calls)}")

    with pytest.raises(RateLimited, match="try 3"):
        retry.with_retries(operation, attempts=3, what="x", sleep=lambda _: None)
    assert len(calls) == 3


def test_with_retries_raises_other_errors_at_once() -> None:
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise PermissionDenied("no")

    with pytest.raises(PermissionDenied):
        retry.with_retries(operation, attempts=5, what="x", sleep=lambda _: None)
    assert len(calls) == 1


@pytest.mark.parametrize("failures", [1, 3])
def test_a_retried_replace_keeps_the_old_version_under_its_own_name_in_the_debris(failures: int) -> None:
    """The old file goes to the debris before the new one is written; when the write is retried the old file
    must not be moved again (on backends that address objects by id it is still found, in the debris)."""
    src, dst = MemoryBackend("src", "src"), RateLimitedPuts("dst", "dst")
    dst.failures = failures
    write(src, "f.txt", b"new version", NEW)
    write(dst, "f.txt", b"old", OLD)
    stats = run(src, dst, Mode.SYNC)
    assert stats.errors == 0
    assert files(dst) == {"f.txt": b"new version", f".debris/{DAY}/f.txt": b"old"}


# -- what execute does with each kind of action --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_sync_end_to_end_with_debris(kind: str, tmp_path: Path) -> None:
    if kind == "memory":
        src: Backend = MemoryBackend("src", "src")
        dst: Backend = MemoryBackend("dst", "dst")
    else:
        src, dst = LocalBackend("", str(tmp_path / "src")), LocalBackend("", str(tmp_path / "dst"))
    write(src, "same.txt", b"same", OLD)
    write(src, "sub/changed.txt", b"new content", NEW)
    write(src, "new.txt", b"brand new", NEW)
    write(dst, "same.txt", b"same", OLD)
    write(dst, "sub/changed.txt", b"old", OLD)
    write(dst, "sub/gone.txt", b"stale", OLD)
    write(dst, "gonedir/deeper/x.txt", b"stale too", OLD)
    stats = run(src, dst, Mode.SYNC)
    assert stats.errors == 0
    assert (stats.transfers, stats.deletes, stats.checks) == (2, 2, 2)
    assert files(dst) == {
        "same.txt": b"same",
        "new.txt": b"brand new",
        "sub/changed.txt": b"new content",
        f".debris/{DAY}/sub/changed.txt": b"old",
        f".debris/{DAY}/sub/gone.txt": b"stale",
        f".debris/{DAY}/gonedir/deeper/x.txt": b"stale too",
    }
    assert not {"gonedir", "gonedir/deeper"} & dirs(dst)
    assert dst.stat("sub/changed.txt").mtime_ns == NEW
    assert dst.stat(f".debris/{DAY}/sub/changed.txt").mtime_ns == OLD, "debris keeps the file as it was"
    # a second run finds nothing to do and leaves the debris alone
    again = run(src, dst, Mode.SYNC)
    assert (again.transfers, again.deletes, again.errors) == (0, 0, 0)
    assert f".debris/{DAY}/sub/gone.txt" in files(dst)


def test_copy_overwrites_and_never_deletes() -> None:
    src, dst = MemoryBackend("src", "src"), MemoryBackend("dst", "dst")
    write(src, "f.txt", b"new", NEW)
    write(dst, "f.txt", b"old!", OLD)
    write(dst, "extra.txt", b"mine", OLD)
    stats = run(src, dst, Mode.COPY)
    assert stats.errors == 0
    assert files(dst) == {"f.txt": b"new", "extra.txt": b"mine"}


def test_same_content_other_time_only_sets_the_mtime() -> None:
    dst = Recording("dst", "dst")
    dst.events = []
    src = MemoryBackend("src", "src")
    write(src, "f.txt", b"content", NEW)
    write(dst, "f.txt", b"content", OLD)
    stats = run(src, dst, Mode.SYNC)
    assert stats.errors == 0 and stats.transfers == 0
    assert dst.events == [], "no write, no debris"
    assert dst.stat("f.txt").mtime_ns == NEW


def test_create_empty_src_dirs_makes_them() -> None:
    src, dst = MemoryBackend("src", "src"), MemoryBackend("dst", "dst")
    src.mkdir("empty/inner")
    write(src, "f.txt", b"x", NEW)
    run(src, dst, Mode.COPY, plan_changes={"create_empty_src_dirs": True})
    assert {"empty", "empty/inner"} <= dirs(dst)


@pytest.mark.parametrize("delete_empty_src_dirs", [False, True], ids=["keep-dirs", "delete-empty-src-dirs"])
def test_move_across_stores(delete_empty_src_dirs: bool) -> None:
    src, dst = MemoryBackend("src", "src"), MemoryBackend("dst", "dst")
    write(src, "a/b/deep.txt", b"deep", NEW)
    write(src, "same.txt", b"same", OLD)
    write(src, "top.txt", b"top", NEW)
    src.mkdir("empty")
    write(dst, "same.txt", b"same", OLD)
    stats = run(src, dst, Mode.MOVE, plan_changes={"delete_empty_src_dirs": delete_empty_src_dirs})
    assert stats.errors == 0
    assert files(dst) == {"a/b/deep.txt": b"deep", "same.txt": b"same", "top.txt": b"top"}
    assert files(src) == {}, "moved files and identical ones leave the source"
    assert dst.stat("a/b/deep.txt").mtime_ns == NEW
    assert dirs(src) == (set() if delete_empty_src_dirs else {"a", "a/b", "empty"})
    assert src.exists(""), "the source root itself stays"


def test_move_within_one_store_is_a_rename() -> None:
    store = MemoryStore()
    src, dst = MemoryBackend("m", "src", store=store), MemoryBackend("m", "dst", store=store)
    before = write(src, "f.txt", b"data", NEW)
    run(src, dst, Mode.MOVE)
    assert dst.stat("f.txt").id == before.id
    assert not src.exists("f.txt")


def test_a_sync_never_deletes_a_destination_file_whose_source_name_is_duplicated() -> None:
    """Duplicates are reported and skipped: the destination's file of that name must survive the sync."""
    src, dst = MemoryBackend("src", "src"), MemoryBackend("dst", "dst")
    src.add_duplicate("twice.txt", b"one", NEW)
    src.add_duplicate("twice.txt", b"two", NEW)
    write(dst, "twice.txt", b"the destination's own", OLD)
    stats = Stats()
    plan = make_plan(src, dst, Mode.SYNC, stats)
    execute(plan, src, dst, ExecOptions(disposal=DEBRIS, keep_replaced=True), stats)
    assert stats.errors >= 1
    assert files(dst).get("twice.txt") == b"the destination's own"


# -- disposal ------------------------------------------------------------------------------------------------


def test_debris_path_is_dated_and_keeps_the_path() -> None:
    dst = MemoryBackend("dst", "dst")
    entry = write(dst, "sub/f.txt", b"old", OLD)
    where = dispose(dst, entry, DEBRIS)
    assert files(dst) == {f".debris/{DAY}/sub/f.txt": b"old"}
    assert dst.stat(f".debris/{DAY}/sub/f.txt").mtime_ns == OLD
    assert f".debris/{DAY}/sub/f.txt" in where


def test_debris_day_defaults_to_today() -> None:
    dst = MemoryBackend("dst", "dst")
    entry = write(dst, "f.txt", b"old")
    before = time.strftime("%Y-%m-%d")
    dispose(dst, entry, Disposal(DisposalMode.DEBRIS))
    after = time.strftime("%Y-%m-%d")
    assert set(files(dst)) & {f".debris/{before}/f.txt", f".debris/{after}/f.txt"}


def test_debris_never_overwrites_debris() -> None:
    dst = MemoryBackend("dst", "dst")
    for version in (b"v1", b"v2", b"v3"):
        dispose(dst, write(dst, "f.txt", version), DEBRIS)
    assert files(dst) == {
        f".debris/{DAY}/f.txt": b"v1",
        f".debris/{DAY}/f.txt.1": b"v2",
        f".debris/{DAY}/f.txt.2": b"v3",
    }


def test_debris_on_a_local_disk(tmp_path: Path) -> None:
    dst = LocalBackend("", str(tmp_path / "dst"))
    entry = write(dst, "sub/f.txt", b"old", OLD)
    dispose(dst, entry, DEBRIS)
    moved = tmp_path / "dst" / ".debris" / DAY / "sub" / "f.txt"
    assert moved.read_bytes() == b"old"
    assert os.stat(moved).st_mtime_ns == OLD
    assert not (tmp_path / "dst" / "sub" / "f.txt").exists()


@pytest.mark.parametrize("suffix", ["", ".bak"], ids=["plain", "suffix"])
def test_backup_dir_on_the_same_store(suffix: str) -> None:
    store = MemoryStore()
    dst, backup = MemoryBackend("m", "dst", store=store), MemoryBackend("m", "backup", store=store)
    entry = write(dst, "sub/f.txt", b"old")
    where = dispose(dst, entry, Disposal(DisposalMode.BACKUP, backup=backup, suffix=suffix, day=DAY))
    assert files(dst) == {}
    assert files(backup) == {f"sub/f.txt{suffix}": b"old"}
    assert backup.stat(f"sub/f.txt{suffix}").id == entry.id, "a rename on one store, not a copy"
    assert f"sub/f.txt{suffix}" in where


def test_suffix_alone_renames_in_place() -> None:
    dst = MemoryBackend("dst", "dst")
    entry = write(dst, "sub/f.txt", b"old")
    dispose(dst, entry, Disposal(DisposalMode.BACKUP, suffix=".old", day=DAY))
    assert files(dst) == {"sub/f.txt.old": b"old"}


def test_hard_delete_leaves_nothing() -> None:
    dst = MemoryBackend("dst", "dst")
    entry = write(dst, "sub/f.txt", b"old")
    assert dispose(dst, entry, HARD) == "deleted"
    assert files(dst) == {}
    assert not dst.exists(DEBRIS_DIR)


class WithTrash(MemoryBackend):
    features = Features(
        **{**{f: getattr(MemoryBackend.features, f) for f in MemoryBackend.features.__slots__}, "trash": True}
    )

    def trash(self, target: Target) -> None:
        self.trashed = target.path if isinstance(target, Entry) else target
        self.remove(target)


def test_a_backend_with_a_trash_gets_the_file_there() -> None:
    dst = WithTrash("dst", "dst")
    entry = write(dst, "f.txt", b"old")
    assert dispose(dst, entry, DEBRIS) == "moved to the trash"
    assert dst.trashed == "f.txt"
    assert not dst.exists(DEBRIS_DIR)


def test_sync_with_backup_dir_keeps_replaced_and_deleted_files() -> None:
    store = MemoryStore()
    dst, backup = MemoryBackend("m", "dst", store=store), MemoryBackend("m", "backup", store=store)
    src = _sync_scene(dst)
    stats = run(
        src, dst, Mode.SYNC, disposal=Disposal(DisposalMode.BACKUP, backup=backup, suffix="~", day=DAY)
    )
    assert stats.errors == 0
    assert files(backup) == {"changed.txt~": b"old", "gone.txt~": b"stale", "gonedir/x.txt~": b"stale too"}
    assert files(dst) == {"changed.txt": b"new content", "new.txt": b"brand new"}


# -- cleaning the debris up ----------------------------------------------------------------------------------


def _stamp(day: str, hour: int = 0) -> float:
    return time.mktime(time.strptime(f"{day} {hour:02d}", "%Y-%m-%d %H"))


def _debris(dst: Backend, names: Iterable[str]) -> None:
    for name in names:
        write(dst, f"{DEBRIS_DIR}/{name}/a.txt", b"a")
        write(dst, f"{DEBRIS_DIR}/{name}/sub/b.txt", b"b")


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_cleanup_removes_only_old_day_folders(kind: str, tmp_path: Path) -> None:
    dst: Backend = (
        MemoryBackend("dst", "dst") if kind == "memory" else LocalBackend("", str(tmp_path / "dst"))
    )
    _debris(dst, ["2024-01-01", "2024-01-02", "2024-01-07", "2024-01-10", "notes", "2024-13-45"])
    write(dst, f"{DEBRIS_DIR}/README", b"keep me")
    write(dst, "live.txt", b"not debris")
    now = _stamp("2024-01-10", 12)
    removed = cleanup_debris(dst, older_than_s=7 * 86400, now=now)
    # 2024-01-01 ended 8.5 days before `now`, 2024-01-02 ended 7.5 days before: both older than 7 days
    assert removed == (4, 2)
    left = {e.name for e in dst.list(DEBRIS_DIR)}
    assert left == {"2024-01-07", "2024-01-10", "notes", "2024-13-45", "README"}
    assert files(dst)["live.txt"] == b"not debris"
    assert files(dst)[f"{DEBRIS_DIR}/notes/sub/b.txt"] == b"b"


def test_cleanup_keeps_a_day_until_its_last_second_is_old_enough() -> None:
    dst = MemoryBackend("dst", "dst")
    _debris(dst, ["2024-01-01"])
    one_day = 86400
    # 2024-01-01 ends at 2024-01-02 00:00; one day later it is exactly one day old
    assert cleanup_debris(dst, older_than_s=one_day, now=_stamp("2024-01-02", 12)) == (0, 0)
    assert cleanup_debris(dst, older_than_s=one_day, now=_stamp("2024-01-03", 1)) == (2, 1)


def test_cleanup_without_an_age_removes_every_day_and_the_empty_debris_folder() -> None:
    dst = MemoryBackend("dst", "dst")
    _debris(dst, ["2024-01-01", "2099-12-31"])
    assert cleanup_debris(dst, older_than_s=None, now=_stamp("2024-01-01")) == (4, 2)
    assert not dst.exists(DEBRIS_DIR)


def test_cleanup_without_debris_does_nothing() -> None:
    dst = MemoryBackend("dst", "dst")
    write(dst, "f.txt", b"x")
    assert cleanup_debris(dst, older_than_s=0, now=_stamp("2024-01-01")) == (0, 0)
    assert files(dst) == {"f.txt": b"x"}


def test_hash_helper_sanity() -> None:
    """The memory backend's hashes are what make_plan compares; keep them honest."""
    dst = MemoryBackend("dst", "dst")
    entry = write(dst, "f.txt", b"abc")
    assert dst.hash(entry, HashType.MD5) == "900150983cd24fb0d6963f7d28e17f72"
