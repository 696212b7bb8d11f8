"""syncer.bisync.deltas: what changed on one side since the agreed state (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends import Entry
from syncer.bisync.deltas import Change, CompareSpec, Delta, renames, side_deltas
from syncer.bisync.listing import SideListing
from syncer.bisync.state import Agreed, Seen

SEC = 10**9
T0 = 1_700_000_000 * SEC
DEFAULT = CompareSpec()
ALL = CompareSpec(size=True, modtime=True, checksum=True)


# -- helpers -------------------------------------------------------------------------------------------------


def f(path: str, size: int = 10, mtime: int | None = T0) -> Entry:
    return Entry(path, False, size, mtime)


def d(path: str) -> Entry:
    return Entry(path, True)


def row(path: str, size: int = 10, mtime: int | None = T0, hash: str = "", two: Seen | None = None) -> Agreed:
    """An agreed file; side 2's record is the same as side 1's unless ``two`` is given."""
    one = Seen(size, mtime, hash)
    return Agreed(path, False, one, two if two is not None else one)


def drow(path: str) -> Agreed:
    return Agreed(path, True, Seen(), Seen())


def state(*rows: Agreed) -> dict[str, Agreed]:
    return {a.path: a for a in rows}


def side(
    *entries: Entry,
    hidden: Iterable[str] = (),
    unlisted: Iterable[str] = (),
    duplicates: Iterable[str] = (),
    hashes: dict[str, str] | None = None,
) -> SideListing:
    return SideListing(
        entries={e.path: e for e in entries},
        hidden=set(hidden),
        unlisted=set(unlisted),
        duplicates=set(duplicates),
        hashes=dict(hashes or {}),
    )


def changes(deltas: dict[str, Delta]) -> dict[str, tuple[Change, str]]:
    return {path: (delta.change, delta.why) for path, delta in deltas.items()}


# -- CompareSpec ---------------------------------------------------------------------------------------------


def test_default_compare_is_size_and_modtime() -> None:
    assert (DEFAULT.size, DEFAULT.modtime, DEFAULT.checksum) == (True, True, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("size", (True, False, False)),
        ("modtime", (False, True, False)),
        ("checksum", (False, False, True)),
        ("size,modtime", (True, True, False)),
        ("size,checksum", (True, False, True)),
        ("modtime,checksum", (False, True, True)),
        ("size,modtime,checksum", (True, True, True)),
        ("checksum,size", (True, False, True)),
        (" Size , CHECKSUM ", (True, False, True)),
        ("size,,modtime,", (True, True, False)),
    ],
)
def test_compare_spec_parse_accepts_subsets(text: str, expected: tuple[bool, bool, bool]) -> None:
    assert CompareSpec.parse(text) == CompareSpec(*expected)


@pytest.mark.parametrize("text", ["", " ", ",", " , ", "hash", "size,time", "sizes", "size;modtime", "md5"])
def test_compare_spec_parse_rejects_unknown_words_and_empty(text: str) -> None:
    with pytest.raises(ValueError, match="--compare"):
        CompareSpec.parse(text)


# -- CHANGED / unchanged -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "now", "now_hash", "spec", "why"),
    [
        # nothing differs
        (Seen(10, T0), f("a"), "", DEFAULT, None),
        (Seen(10, T0, "h"), f("a"), "h", ALL, None),
        # size
        (Seen(10, T0), f("a", size=11), "", DEFAULT, "size changed"),
        (Seen(10, T0), f("a", size=0), "", DEFAULT, "size changed"),
        (Seen(10, T0), f("a", size=11, mtime=T0 + SEC), "", DEFAULT, "size changed"),  # size is named first
        (Seen(-1, T0), f("a", size=11), "", DEFAULT, None),  # size unknown before
        (Seen(10, T0), f("a", size=-1), "", DEFAULT, None),  # size unknown now
        # modification time: exact on the same side, one nanosecond is enough
        (Seen(10, T0), f("a", mtime=T0 + 1), "", DEFAULT, "newer"),
        (Seen(10, T0), f("a", mtime=T0 + SEC), "", DEFAULT, "newer"),
        (Seen(10, T0), f("a", mtime=T0 - SEC), "", DEFAULT, "older"),
        (Seen(10, None), f("a", mtime=T0), "", DEFAULT, None),  # the side keeps no times
        (Seen(10, T0), f("a", mtime=None), "", DEFAULT, None),
        # hash: only with checksum, and only when both are known
        (Seen(10, T0, "h1"), f("a"), "h2", ALL, "hash changed"),
        (
            Seen(10, T0, "h1"),
            f("a"),
            "h2",
            CompareSpec(size=False, modtime=False, checksum=True),
            "hash changed",
        ),
        (Seen(10, T0, "h1"), f("a"), "", ALL, None),
        (Seen(10, T0, ""), f("a"), "h2", ALL, None),
        (Seen(10, T0, "h1"), f("a"), "h2", DEFAULT, None),
        (Seen(10, T0, "h1"), f("a", mtime=T0 + SEC), "h2", ALL, "newer"),  # time is named before hash
        # a difference in a property the comparison does not use is no change
        (Seen(10, T0), f("a", mtime=T0 + SEC), "", CompareSpec(size=True, modtime=False), None),
        (Seen(10, T0), f("a", mtime=T0 - SEC), "", CompareSpec(size=True, modtime=False), None),
        (Seen(10, T0), f("a", size=99), "", CompareSpec(size=False, modtime=True), None),
        (Seen(10, T0), f("a", size=99), "", CompareSpec(size=False, modtime=False, checksum=True), None),
        (Seen(10, T0, "h1"), f("a", size=99, mtime=T0 + 5), "h1", CompareSpec(False, False, True), None),
    ],
)
@pytest.mark.parametrize("number", [1, 2])
def test_changed_file(
    number: int, prior: Seen, now: Entry, now_hash: str, spec: CompareSpec, why: str | None
) -> None:
    other = Seen(777, T0 - 99 * SEC, "other side's hash")  # never looked at for this side
    agreed = {"a": Agreed("a", False, prior, other) if number == 1 else Agreed("a", False, other, prior)}
    hashes = {"a": now_hash} if now_hash else {}
    deltas = side_deltas(agreed, number, side(now, hashes=hashes), spec)
    if why is None:
        assert deltas == {}
    else:
        assert deltas == {"a": Delta("a", Change.CHANGED, now, agreed["a"], why)}


def test_each_side_is_compared_with_its_own_record() -> None:
    # side 2 keeps times 5 s off side 1's (another precision or clock): both records are right for their side
    agreed = state(row("a", 10, T0, two=Seen(10, T0 + 5 * SEC)))
    assert side_deltas(agreed, 1, side(f("a", 10, T0)), DEFAULT) == {}
    assert side_deltas(agreed, 2, side(f("a", 10, T0 + 5 * SEC)), DEFAULT) == {}
    assert changes(side_deltas(agreed, 1, side(f("a", 10, T0 + 5 * SEC)), DEFAULT)) == {
        "a": (Change.CHANGED, "newer")
    }
    assert changes(side_deltas(agreed, 2, side(f("a", 10, T0)), DEFAULT)) == {"a": (Change.CHANGED, "older")}


def test_directories_only_appear_or_disappear() -> None:
    agreed = state(drow("dir"))
    assert side_deltas(agreed, 1, side(Entry("dir", True, -1, T0 + 9 * SEC)), ALL) == {}


@pytest.mark.parametrize(
    ("record", "now", "why"),
    [
        (drow("x"), f("x"), "now a file"),
        (row("x"), d("x"), "now a directory"),
    ],
)
def test_file_and_directory_swapped(record: Agreed, now: Entry, why: str) -> None:
    deltas = side_deltas(state(record), 1, side(now), DEFAULT)
    assert deltas == {"x": Delta("x", Change.CHANGED, now, record, why)}


# -- NEW / DELETED -------------------------------------------------------------------------------------------


def test_new_file_and_directory() -> None:
    deltas = side_deltas({}, 1, side(f("a"), d("dir"), f("dir/b")), DEFAULT)
    assert deltas == {
        "a": Delta("a", Change.NEW, f("a"), None, "new"),
        "dir": Delta("dir", Change.NEW, d("dir"), None, "new"),
        "dir/b": Delta("dir/b", Change.NEW, f("dir/b"), None, "new"),
    }


def test_deleted_file_and_directory() -> None:
    agreed = state(row("a"), drow("dir"), row("dir/b"), row("kept"))
    deltas = side_deltas(agreed, 2, side(f("kept")), DEFAULT)
    assert deltas == {
        "a": Delta("a", Change.DELETED, None, agreed["a"], "deleted"),
        "dir": Delta("dir", Change.DELETED, None, agreed["dir"], "deleted"),
        "dir/b": Delta("dir/b", Change.DELETED, None, agreed["dir/b"], "deleted"),
    }


@pytest.mark.parametrize(
    ("path", "listing"),
    [
        ("a", side(hidden=["a"])),
        ("a", side(duplicates=["a"])),
        ("dir/a", side(d("dir"), hidden=["dir"])),
        ("dir/a", side(hidden=["dir"])),
        ("dir/a", side(d("dir"), unlisted=["dir"])),
        ("dir/a", side(d("dir"), duplicates=["dir"])),
        ("dir/sub/deep/a", side(d("dir"), hidden=["dir"])),
        ("dir/sub/deep/a", side(d("dir"), d("dir/sub"), unlisted=["dir/sub"])),
    ],
)
def test_paths_not_looked_at_are_never_deleted(path: str, listing: SideListing) -> None:
    agreed = state(drow("dir"), drow("dir/sub"), drow("dir/sub/deep"), row(path))
    deltas = side_deltas(agreed, 1, listing, DEFAULT)
    assert path not in deltas
    assert all(
        delta.change is not Change.DELETED or not delta.path.startswith(path) for delta in deltas.values()
    )


@pytest.mark.parametrize(
    "listing",
    [
        side(d("dir"), hidden=["di"]),  # a name prefix is not a parent
        side(d("dir"), hidden=["dir/a/x"]),  # a child is not a parent
        side(d("dir"), unlisted=["other"]),
        side(d("dir"), duplicates=["dir/b"]),
    ],
)
def test_unrelated_unknown_paths_do_not_hide_a_delete(listing: SideListing) -> None:
    agreed = state(drow("dir"), row("dir/a"))
    assert changes(side_deltas(agreed, 1, listing, DEFAULT)) == {"dir/a": (Change.DELETED, "deleted")}


# -- renames -------------------------------------------------------------------------------------------------


def detect(agreed: dict[str, Agreed], listing: SideListing, number: int = 1) -> dict[str, str]:
    return renames(side_deltas(agreed, number, listing, DEFAULT), number, listing)


@pytest.mark.parametrize(
    ("agreed", "listing", "expected"),
    [
        # a unique match
        (state(row("a")), side(f("b")), {"b": "a"}),
        (state(row("a"), row("keep", 5)), side(f("dir/b"), f("keep", 5), d("dir")), {"dir/b": "a"}),
        # two independent moves, each unique in its own key
        (state(row("a", 1), row("b", 2)), side(f("x", 1), f("y", 2)), {"x": "a", "y": "b"}),
        # the hash agrees, or one of them is unknown
        (state(row("a", hash="h")), side(f("b"), hashes={"b": "h"}), {"b": "a"}),
        (state(row("a", hash="")), side(f("b"), hashes={"b": "h"}), {"b": "a"}),
        (state(row("a", hash="h")), side(f("b")), {"b": "a"}),
        # not the same size or time
        (state(row("a")), side(f("b", size=11)), {}),
        (state(row("a")), side(f("b", mtime=T0 + 1)), {}),
        # ambiguous: two deleted or two new files with the same key
        (state(row("a"), row("a2")), side(f("b")), {}),
        (state(row("a")), side(f("b"), f("b2")), {}),
        (state(row("a"), row("a2")), side(f("b"), f("b2")), {}),
        # empty files all look alike; files without times cannot be matched
        (state(row("a", size=0)), side(f("b", size=0)), {}),
        (state(row("a", mtime=None)), side(f("b", mtime=None)), {}),
        (state(row("a", size=-1)), side(f("b", size=-1)), {}),
        # the hashes differ
        (state(row("a", hash="h1")), side(f("b"), hashes={"b": "h2"}), {}),
        # directories are not renamed
        (state(drow("a")), side(d("b")), {}),
        # a file that is only changed, not deleted, is no rename source
        (state(row("a")), side(f("a", size=11), f("b")), {}),
        # an unknown path is not deleted, so not a rename source
        (state(row("a")), side(f("b"), hidden=["a"]), {}),
    ],
)
def test_renames(agreed: dict[str, Agreed], listing: SideListing, expected: dict[str, str]) -> None:
    assert detect(agreed, listing) == expected


def test_renames_use_the_sides_own_record() -> None:
    agreed = state(row("a", 10, T0, two=Seen(10, T0 + 7 * SEC)))
    assert detect(agreed, side(f("b", 10, T0 + 7 * SEC)), number=2) == {"b": "a"}
    assert detect(agreed, side(f("b", 10, T0)), number=2) == {}
    assert detect(agreed, side(f("b", 10, T0)), number=1) == {"b": "a"}


def test_renames_look_at_the_listings_hash() -> None:
    # a hash mismatch blocks the pairing; without a hash in the listing, size and time are enough
    agreed = state(row("a", hash="h1"))
    listing = side(f("b"), hashes={"b": "h2"})
    deltas = side_deltas(agreed, 1, listing, ALL)
    assert renames(deltas, 1, listing) == {}
    listing.hashes.clear()
    assert renames(deltas, 1, listing) == {"b": "a"}


# -- property: NEW and DELETED exactly where they should be --------------------------------------------------

UNIVERSE = ["a", "b", "a/a", "a/b", "b/a", "a/a/a", "a/b/c", "c"]
paths = st.sampled_from(UNIVERSE)
path_sets = st.sets(paths, max_size=4)
times = st.one_of(st.none(), st.integers(T0, T0 + 3))
sizes = st.integers(-1, 3)


@st.composite
def agreed_states(draw: st.DrawFn) -> dict[str, Agreed]:
    result: dict[str, Agreed] = {}
    for path in draw(st.sets(paths)):
        is_dir = draw(st.booleans())
        if is_dir:
            result[path] = Agreed(path, True, Seen(), Seen())
        else:
            one = Seen(draw(sizes), draw(times), draw(st.sampled_from(["", "h1", "h2"])))
            two = Seen(draw(sizes), draw(times), draw(st.sampled_from(["", "h1", "h2"])))
            result[path] = Agreed(path, False, one, two)
    return result


@st.composite
def listings(draw: st.DrawFn) -> SideListing:
    entries = {}
    for path in draw(st.sets(paths)):
        is_dir = draw(st.booleans())
        entries[path] = Entry(path, True) if is_dir else Entry(path, False, draw(sizes), draw(times))
    hashes = {p: draw(st.sampled_from(["", "h1", "h2"])) for p, e in entries.items() if not e.is_dir}
    return SideListing(
        entries=entries,
        hidden=draw(path_sets),
        unlisted=draw(path_sets),
        duplicates=draw(path_sets),
        hashes={p: h for p, h in hashes.items() if h},
    )


def not_looked_at(listing: SideListing, path: str) -> bool:
    """A reference for SideListing.unknown, written from its docstring."""
    if path in listing.hidden or path in listing.duplicates:
        return True
    parts = path.split("/")
    parents = ["/".join(parts[:n]) for n in range(1, len(parts))]
    return any(p in listing.hidden | listing.unlisted | listing.duplicates for p in parents)


@given(
    agreed_states(),
    listings(),
    st.sampled_from([1, 2]),
    st.builds(CompareSpec, st.booleans(), st.booleans(), st.booleans()),
)
def test_new_and_deleted_exactly_where_expected(
    agreed: dict[str, Agreed], listing: SideListing, number: int, spec: CompareSpec
) -> None:
    deltas = side_deltas(agreed, number, listing, spec)
    for path in set(agreed) | set(listing.entries):
        delta = deltas.get(path)
        is_new = delta is not None and delta.change is Change.NEW
        is_deleted = delta is not None and delta.change is Change.DELETED
        assert is_new == (path not in agreed)
        assert is_deleted == (
            path in agreed and path not in listing.entries and not not_looked_at(listing, path)
        )
        if delta is not None:
            assert delta.path == path
            assert delta.entry is listing.entries.get(path)
            assert delta.prior is agreed.get(path)
            if delta.change is Change.CHANGED:
                assert path in agreed and path in listing.entries
    assert set(deltas) <= set(agreed) | set(listing.entries)
