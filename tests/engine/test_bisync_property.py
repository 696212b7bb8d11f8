"""bisync as a property: random creates, edits, deletes and renames on both sides between runs, over several
runs. After every run both sides hold the same files with the same contents, and every version that was on
either side before the run is still somewhere afterwards: on a side, as a conflict copy, or in a debris
folder. Real local folders, the real engine, every conflict option.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends import default_registry
from syncer.bisync import BisyncOptions, run_bisync
from syncer.bisync.reconcile import ConflictLoser, ConflictOptions, ConflictResolve
from syncer.debris import DEBRIS_DIR
from syncer.runtime import Runtime

#: file names the operations pick from; "d" and "g" are only ever folders
POOL = ["a", "b", "c.txt", "d/e", "d/f", "g/h/i"]
BASE_S = 1_600_000_000

op = st.tuples(
    st.sampled_from(["write", "write", "delete", "rename"]),
    st.integers(0, 99),  # which existing file (modulo), for delete / rename / write
    st.sampled_from(POOL),  # a pool name, for write / rename targets
)
side_ops = st.lists(op, max_size=4)
rounds = st.lists(st.tuples(side_ops, side_ops), min_size=1, max_size=4)
initial = st.dictionaries(st.sampled_from(POOL), st.booleans(), max_size=4)  # name -> on side 1 (else 2)


class World:
    """Two folders and a counter that makes every written version unique (in content and time)."""

    def __init__(self, root: Path) -> None:
        self.sides = {1: root / "one", 2: root / "two"}
        for path in self.sides.values():
            path.mkdir()
        self.state = root / "state"
        self.counter = 0

    def files(self, side: int, *, debris: bool = False) -> dict[str, bytes]:
        top = self.sides[side]
        found = {}
        for path in top.rglob("*"):
            relative = path.relative_to(top).as_posix()
            if path.is_file() and (relative.startswith(f"{DEBRIS_DIR}/") == debris):
                found[relative] = path.read_bytes()
        return found

    def write(self, side: int, name: str) -> None:
        target = self.sides[side] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self.counter += 1
        target.write_bytes(f"version {self.counter} of {name}".encode())
        stamp = (BASE_S + 10 * self.counter) * 10**9
        os.utime(target, ns=(stamp, stamp))

    def apply(self, side: int, ops: list[tuple[str, int, str]]) -> None:
        for kind, pick, name in ops:
            existing = sorted(self.files(side))
            if kind == "write" or not existing:
                target = existing[pick % len(existing)] if existing and pick % 2 else name
                self.write(side, target)
            elif kind == "delete":
                (self.sides[side] / existing[pick % len(existing)]).unlink()
            elif name not in existing:
                source = self.sides[side] / existing[pick % len(existing)]
                target = self.sides[side] / name
                target.parent.mkdir(parents=True, exist_ok=True)
                source.rename(target)

    def bisync(self, conflicts: ConflictOptions, *, resync: bool = False) -> int:
        rt = Runtime(remotes={}, registry=default_registry(), out=io.StringIO(), out_bytes=io.BytesIO())
        options = BisyncOptions(
            state_dir=str(self.state), resync=resync, force=True, conflicts=conflicts, transfers=2
        )
        try:
            return run_bisync(rt, str(self.sides[1]), str(self.sides[2]), options)
        finally:
            rt.close()


def _check(world: World, before: set[bytes], new: set[bytes], *, losers_to_debris: bool) -> set[bytes]:
    """Both sides equal; nothing of ``before`` lost; and every ``new`` version (written since the last run)
    still on the sides, not merely in a debris folder (a change is never undone by the other side's older
    state), unless conflict losers are asked to go to the debris. Returns what the sides hold now."""
    one, two = world.files(1), world.files(2)
    assert one == two, "the sides differ after a run"
    on_sides = set(one.values())
    everywhere = (
        on_sides | set(world.files(1, debris=True).values()) | set(world.files(2, debris=True).values())
    )
    lost = before - everywhere
    assert not lost, f"versions lost: {sorted(lost)}"
    if not losers_to_debris:
        undone = new - on_sides
        assert not undone, f"new versions only in the debris: {sorted(undone)}"
    return on_sides


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=initial,
    changes=rounds,
    resolve=st.sampled_from(list(ConflictResolve)),
    loser=st.sampled_from(list(ConflictLoser)),
    suffixes=st.sampled_from([("conflict", "conflict"), ("left", "right")]),
)
def test_bisync_keeps_both_sides_equal_and_loses_no_version(
    start: dict[str, bool],
    changes: list[tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]],
    resolve: ConflictResolve,
    loser: ConflictLoser,
    suffixes: tuple[str, str],
) -> None:
    conflicts = ConflictOptions(resolve, loser, suffixes)
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp))
        for name, on_one in start.items():
            world.write(1 if on_one else 2, name)
        before = set(world.files(1).values()) | set(world.files(2).values())
        assert world.bisync(conflicts, resync=True) == 0
        agreed = _check(world, before, set(), losers_to_debris=True)
        for ops1, ops2 in changes:
            world.apply(1, ops1)
            world.apply(2, ops2)
            before = set(world.files(1).values()) | set(world.files(2).values())
            assert world.bisync(conflicts) == 0
            agreed = _check(world, before, before - agreed, losers_to_debris=loser is ConflictLoser.DELETE)
