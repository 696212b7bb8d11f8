"""Two-way sync with saved state: Unison's split of update detection (``deltas``), a pure reconciliation
(``reconcile``) and propagation (``propagate``), with the last agreed state in SQLite (``state``)."""

from .command import BisyncOptions, run_bisync

__all__ = ["BisyncOptions", "run_bisync"]
