"""dedupe on the in-memory backend (which, like MEGA, allows duplicate names): every mode, merging duplicate
directories, identical files removed without asking, --dry-run, and the interactive answers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from backends import default_registry
from backends.memory import MemoryBackend
from syncer.dedupe import DedupeMode, DedupeOptions, dedupe
from syncer.runtime import Runtime

T = 1_700_000_000 * 10**9
SECOND = 10**9


def runtime(*, dry_run: bool = False) -> Runtime:
    return Runtime(
        remotes={}, registry=default_registry(), out=io.StringIO(), out_bytes=io.BytesIO(), dry_run=dry_run
    )


def contents(backend: MemoryBackend, directory: str = "") -> dict[str, list[bytes]]:
    """path -> the contents of every file at that path (several for duplicates), sorted."""
    found: dict[str, list[bytes]] = {}
    for entry in backend.walk(directory):
        if not entry.is_dir:
            with backend.open_read(entry) as stream:
                found.setdefault(entry.path, []).append(stream.read())
    return {path: sorted(datas) for path, datas in found.items()}


@pytest.fixture
def backend() -> MemoryBackend:
    """``a.txt`` three times: "older" (5 bytes, T), "the newest" (10 bytes, T+20 s), "mid" (3 bytes, T+10 s);
    plus a unique ``b.txt``."""
    backend = MemoryBackend("mem", "")
    backend.add_duplicate("a.txt", b"older", T)
    backend.add_duplicate("a.txt", b"the newest", T + 20 * SECOND)
    backend.add_duplicate("a.txt", b"mid", T + 10 * SECOND)
    backend.add_duplicate("b.txt", b"unique", T)
    return backend


@pytest.mark.parametrize(
    ("mode", "kept"),
    [
        (DedupeMode.FIRST, b"older"),
        (DedupeMode.NEWEST, b"the newest"),
        (DedupeMode.OLDEST, b"older"),
        (DedupeMode.LARGEST, b"the newest"),
        (DedupeMode.SMALLEST, b"mid"),
    ],
)
def test_keep_one_modes(backend: MemoryBackend, mode: DedupeMode, kept: bytes) -> None:
    rt = runtime()
    dedupe(rt, backend, DedupeOptions(mode=mode))
    assert contents(backend) == {"a.txt": [kept], "b.txt": [b"unique"]}
    assert rt.stats.deletes == 2
    assert rt.stats.errors == 0


def test_identical_duplicates_go_without_asking(backend: MemoryBackend) -> None:
    backend.add_duplicate("a.txt", b"older", T + 99 * SECOND)  # same bytes as the first, another mtime
    backend.add_duplicate("a.txt", b"mid", T)
    rt = runtime()
    dedupe(rt, backend, DedupeOptions(mode=DedupeMode.SKIP))
    # skip leaves the three different versions, but the two identical copies are gone
    assert contents(backend) == {"a.txt": [b"mid", b"older", b"the newest"], "b.txt": [b"unique"]}
    assert rt.stats.deletes == 2


def test_all_identical_leaves_one(backend: MemoryBackend) -> None:
    for _ in range(3):
        backend.add_duplicate("c.txt", b"same bytes", T)
    dedupe(runtime(), backend, DedupeOptions(mode=DedupeMode.SKIP))
    assert contents(backend)["c.txt"] == [b"same bytes"]


def test_rename_makes_every_name_distinct_and_skips_names_in_use(backend: MemoryBackend) -> None:
    backend.add_duplicate("a-1.txt", b"already here", T)
    rt = runtime()
    dedupe(rt, backend, DedupeOptions(mode=DedupeMode.RENAME))
    assert contents(backend) == {
        "a-1.txt": [b"already here"],
        "a-2.txt": [b"older"],
        "a-3.txt": [b"the newest"],
        "a-4.txt": [b"mid"],
        "b.txt": [b"unique"],
    }
    assert rt.stats.renames == 3 and rt.stats.deletes == 0


def test_list_changes_nothing_and_shows_files_and_dirs(backend: MemoryBackend) -> None:
    backend.mkdir("d1")
    backend.mkdir("d2")
    backend.add_duplicate_dir("d2", "d1")
    before = contents(backend)
    out = io.StringIO()
    dedupe(runtime(), backend, DedupeOptions(mode=DedupeMode.LIST, out=out))
    assert contents(backend) == before
    assert len([e for e in backend.list("") if e.name == "d1"]) == 2
    text = out.getvalue()
    assert "a.txt: 3 files with this name" in text
    assert "d1: 2 directories with this name" in text
    assert "          10 bytes" in text  # the newest, right-aligned like lsl


def test_duplicate_dirs_are_merged_first_then_their_files_settled() -> None:
    backend = MemoryBackend("mem", "")
    backend.add_duplicate("top/d/x.txt", b"x old", T)
    backend.add_duplicate("top/d/sub/deep.txt", b"deep one", T)
    backend.add_duplicate("top/e/x.txt", b"x newer", T + SECOND)
    backend.add_duplicate("top/e/y.txt", b"y", T)
    backend.add_duplicate("top/e/sub/deep.txt", b"deep two", T + SECOND)
    backend.add_duplicate("top/e/sub/same.txt", b"s", T)
    backend.add_duplicate("top/d/sub/same.txt", b"s", T)
    backend.add_duplicate_dir("top/e", "top/d")
    rt = runtime()
    dedupe(rt, backend, DedupeOptions(mode=DedupeMode.NEWEST))
    assert [e.name for e in backend.list("top")] == ["d"]
    assert [e.name for e in backend.list("top/d") if e.is_dir] == ["sub"]  # the nested pair merged too
    assert contents(backend) == {
        "top/d/x.txt": [b"x newer"],
        "top/d/y.txt": [b"y"],
        "top/d/sub/deep.txt": [b"deep two"],
        "top/d/sub/same.txt": [b"s"],
    }
    assert rt.stats.errors == 0


def test_dry_run_changes_nothing(backend: MemoryBackend) -> None:
    backend.mkdir("d1")
    backend.mkdir("d2")
    backend.add_duplicate_dir("d2", "d1")
    backend.add_duplicate("a.txt", b"older", T)  # identical to the first: would go without asking
    before = contents(backend)
    for mode in (DedupeMode.FIRST, DedupeMode.RENAME, DedupeMode.SKIP):
        rt = runtime(dry_run=True)
        dedupe(rt, backend, DedupeOptions(mode=mode))
        assert rt.stats.deletes == rt.stats.renames == 0
    assert contents(backend) == before
    assert len([e for e in backend.list("") if e.name == "d1"]) == 2


def test_a_path_below_the_root_only_touches_that_subtree() -> None:
    store_view = MemoryBackend("mem", "")
    store_view.add_duplicate("inside/f.txt", b"1", T)
    store_view.add_duplicate("inside/f.txt", b"22", T)
    store_view.add_duplicate("outside/f.txt", b"1", T)
    store_view.add_duplicate("outside/f.txt", b"22", T)
    dedupe(runtime(), store_view.with_root("inside"), DedupeOptions(mode=DedupeMode.LARGEST))
    assert contents(store_view) == {"inside/f.txt": [b"22"], "outside/f.txt": [b"1", b"22"]}


def scripted(*answers: str) -> tuple[list[str], object]:
    """A prompt that gives ``answers`` in turn (EOFError after the last), and the questions it was asked."""
    asked: list[str] = []
    remaining: Iterator[str] = iter(answers)

    def prompt(question: str) -> str:
        asked.append(question)
        try:
            return next(remaining) + "\n"
        except StopIteration:
            raise EOFError from None

    return asked, prompt


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (("k", "2"), {"a.txt": [b"the newest"]}),
        (("x", "k", "9", "0", "3"), {"a.txt": [b"mid"]}),  # nonsense is asked again
        (("s",), {"a.txt": [b"mid", b"older", b"the newest"]}),
        (("r",), {"a-1.txt": [b"older"], "a-2.txt": [b"the newest"], "a-3.txt": [b"mid"]}),
    ],
)
def test_interactive_answers(
    backend: MemoryBackend, answers: tuple[str, ...], expected: dict[str, list[bytes]]
) -> None:
    asked, prompt = scripted(*answers)
    out = io.StringIO()
    dedupe(runtime(), backend, DedupeOptions(mode=DedupeMode.INTERACTIVE, out=out), prompt)  # type: ignore[arg-type]
    assert contents(backend) == {**expected, "b.txt": [b"unique"]}
    assert "a.txt: 3 files with this name" in out.getvalue()
    assert asked and "s/k/r/q" in asked[0]


def test_interactive_quit_and_end_of_input_leave_the_rest(backend: MemoryBackend) -> None:
    backend.add_duplicate("z.txt", b"1", T)
    backend.add_duplicate("z.txt", b"22", T)
    for answers in (("q",), ()):
        _, prompt = scripted(*answers)
        dedupe(runtime(), backend, DedupeOptions(mode=DedupeMode.INTERACTIVE), prompt)  # type: ignore[arg-type]
        assert len(contents(backend)["a.txt"]) == 3
        assert len(contents(backend)["z.txt"]) == 2  # never reached


def test_a_read_only_backend_is_refused_before_anything_but_list(backend: MemoryBackend) -> None:
    from dataclasses import replace

    from backends.errors import ReadOnly

    backend.features = replace(backend.features, read_only=True)  # as a public link's backend says
    with pytest.raises(ReadOnly):
        dedupe(runtime(), backend, DedupeOptions(mode=DedupeMode.FIRST))
    out = io.StringIO()
    dedupe(runtime(), backend, DedupeOptions(mode=DedupeMode.LIST, out=out))
    assert "a.txt: 3 files with this name" in out.getvalue()
    assert len(contents(backend)["a.txt"]) == 3
