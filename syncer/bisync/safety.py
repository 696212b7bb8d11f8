"""The checks that stop a bisync before it changes anything: pure, each returning why it objects or None.

rclone bisync's gates: too many deletes (``--max-delete``, a percentage), every file changed on a side
(a clock or timezone shift rewrote all times), a side that is empty though the state says it held files
(an unmounted disk, a wrong path), and a missing access marker (``--check-access``). ``--force`` lets the
first three through; the marker check is what the user asked for, so it always applies.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .deltas import Change, Delta
from .listing import SideListing
from .state import Agreed

__all__ = ["access_problem", "safety_problems"]


def _prior_files(agreed: Mapping[str, Agreed], listing: SideListing) -> int:
    return sum(1 for a in agreed.values() if not a.is_dir and not listing.unknown(a.path))


def safety_problems(
    agreed: Mapping[str, Agreed],
    sides: Mapping[int, tuple[SideListing, Mapping[str, Delta]]],
    *,
    max_delete_percent: int,
    renamed: Mapping[int, Collection[str]] | None = None,
) -> list[str]:
    """What ``--force`` would be needed for, one message per problem (empty: go ahead). ``renamed``: per
    side, the old paths of files found renamed (they were moved, not lost, so they count as no delete)."""
    problems: list[str] = []
    for side, (listing, deltas) in sides.items():
        prior = _prior_files(agreed, listing)
        if prior == 0:
            continue
        if listing.files() == 0:
            problems.append(
                f"path{side} has no files, but {prior} were there last time (an unmounted disk or a wrong "
                "path?)"
            )
            continue
        moved = renamed.get(side, ()) if renamed else ()
        deleted = sum(
            1
            for d in deltas.values()
            if d.change is Change.DELETED
            and d.prior is not None
            and not d.prior.is_dir
            and d.path not in moved
        )
        if deleted * 100 > max_delete_percent * prior:
            problems.append(
                f"{deleted} of {prior} files were deleted on path{side}, more than --max-delete "
                f"{max_delete_percent}%"
            )
        changed = [d for d in deltas.values() if d.change is Change.CHANGED and d.why in ("newer", "older")]
        present = prior - deleted
        if present >= 2 and len(changed) == present:
            problems.append(
                f"every file on path{side} ({present}) has a new modification time and nothing else "
                "changed (a clock or timezone shift?)"
            )
    return problems


def access_problem(listing1: SideListing, listing2: SideListing, marker: str) -> str | None:
    """``--check-access``: files named ``marker`` must exist on both sides, at the same paths."""

    def markers(listing: SideListing) -> set[str]:
        return {p for p, e in listing.entries.items() if not e.is_dir and p.rpartition("/")[2] == marker}

    one, two = markers(listing1), markers(listing2)
    if not one or not two:
        missing = " and ".join(f"path{s}" for s, found in ((1, one), (2, two)) if not found)
        return f"--check-access: no {marker} file on {missing}"
    if one != two:
        differ = sorted(one ^ two)
        return f"--check-access: the {marker} files differ between the sides ({', '.join(differ[:5])})"
    return None
