"""copy, sync and move: march -> compare -> plan -> execute, retried as a whole when something failed."""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from backends import Backend, Entry, HashType
from backends.errors import BackendError

from .bwlimit import BandwidthLimit
from .compare import common_hash, effective_window
from .debris import DEBRIS_DIR, Disposal, DisposalMode, cleanup_debris
from .errors import ExitCode, SafetyAbort, UsageError
from .executor import ExecOptions, execute
from .march import Match, march
from .operations import overlaps
from .options import SyncOptions
from .plan import Copy, Mode, Plan, Planner, PlanOptions, plan_all
from .progress import Reporter
from .runtime import Runtime

__all__ = ["run_transfer", "transfer"]

log = logging.getLogger("syncer")


def _hash_or_empty(backend: Backend, entry: Entry | None, kind: HashType) -> str:
    if entry is None:
        return ""
    try:
        return backend.hash(entry, kind)
    except BackendError as exc:
        log.debug("%s: no %s hash: %s", backend.describe(), kind, exc)
        return ""


def make_plan(rt: Runtime, src: Backend, dst: Backend, mode: Mode, options: SyncOptions) -> Plan:
    """March both sides and decide every action; hashes, where a decision needs them, fetched in parallel."""
    compare = options.compare
    window = effective_window(compare, src.features, dst.features)
    hash_kind = common_hash(src.features, dst.features)
    if compare.checksum and hash_kind is None:
        # rclone's behaviour: a notice, then sizes only (MEGA offers no hash a local disk could match)
        log.warning(
            "--checksum is in use but %s and %s have no hashes in common; falling back to --size-only",
            src.describe(),
            dst.describe(),
        )
        compare = dataclasses.replace(compare, checksum=False, size_only=True)
    planner = Planner(
        PlanOptions(
            mode=mode,
            compare=compare,
            window_ns=window,
            hash_kind=hash_kind,
            can_set_mtime=dst.features.can_set_mtime,
            create_empty_src_dirs=options.create_empty_src_dirs,
            delete_empty_src_dirs=options.delete_empty_src_dirs,
        )
    )
    with rt.located(src):
        matches = march(
            src,
            dst,
            stats=rt.stats,
            rules=rt.rules,
            delete_excluded=mode is Mode.SYNC and rt.rules is not None and rt.rules.delete_excluded,
            skip_root_names=frozenset({DEBRIS_DIR}),
            on_hidden=planner.hold,
        )
        pending = plan_all(planner, matches)
    if pending and hash_kind is not None:
        kind = hash_kind

        def hashes(match: Match) -> tuple[str, str]:
            return _hash_or_empty(src, match.src, kind), _hash_or_empty(dst, match.dst, kind)

        with ThreadPoolExecutor(max_workers=max(1, rt.workers(options.checkers, src, dst))) as pool:
            for waiting, (src_hash, dst_hash) in zip(
                pending, pool.map(lambda p: hashes(p.match), pending), strict=True
            ):
                planner.resolved(waiting, src_hash, dst_hash)
    return planner.finish()


def _disposal(rt: Runtime, src: Backend, dst: Backend, mode: Mode, options: SyncOptions) -> Disposal:
    if options.backup_dir or options.suffix:
        backup = rt.open(options.backup_dir) if options.backup_dir else None
        if backup is not None and (overlaps(backup, dst) or overlaps(backup, src)):
            raise UsageError(f"--backup-dir {options.backup_dir} must not overlap the source or destination")
        return Disposal(DisposalMode.BACKUP, backup=backup, suffix=options.suffix, day=Disposal.today())
    if options.hard_delete or mode is not Mode.SYNC:
        return Disposal(DisposalMode.HARD)
    return Disposal(DisposalMode.DEBRIS, day=Disposal.today())


def _report_dry_run(plan: Plan, dst: Backend, src: Backend) -> None:
    for path, verb, detail in plan.describe():
        where = src if plan.mode is Mode.MOVE and "source" in verb else dst
        log.warning("%s: Skipped %s as --dry-run is set (%s)", where.describe(path), verb, detail)


def run_transfer(rt: Runtime, src_spec: str, dst_spec: str, mode: Mode, options: SyncOptions) -> int:
    """The copy/sync/move command; returns its exit code (errors were logged as they happened)."""
    src = rt.open(src_spec)
    dst = rt.writable(rt.open(dst_spec))
    if mode is Mode.MOVE:
        rt.writable(src)
    return transfer(rt, src, dst, mode, options)


def transfer(rt: Runtime, src: Backend, dst: Backend, mode: Mode, options: SyncOptions) -> int:
    """copy/sync/move between two opened backends (``backup`` syncs into its snapshots through this)."""
    disposal = _disposal(rt, src, dst, mode, options)
    exec_options = ExecOptions(
        limit=BandwidthLimit(options.bwlimit) if options.bwlimit else None,
        transfers=rt.workers(options.transfers, src, dst),
        delete_timing=options.delete_timing,
        disposal=disposal,
        keep_replaced=mode is Mode.SYNC or disposal.mode is DisposalMode.BACKUP,
        low_level_retries=options.low_level_retries,
    )
    reporter = Reporter(
        rt.stats,
        progress=options.progress,
        interval=options.stats_interval_s,
        one_line=options.stats_one_line,
    )
    with reporter:
        _attempts(rt, src, dst, mode, options, exec_options)
        if options.dry_run:
            return rt.stats.exit_code()
    if mode is Mode.SYNC and options.debris_keep_s is not None and not rt.stats.errors:
        cleanup_debris(dst, older_than_s=options.debris_keep_s)
    log.info("%s", rt.stats.summary())
    if rt.stats.errors:
        return rt.stats.exit_code()
    if options.error_on_no_transfer and rt.stats.transfers == 0:
        return int(ExitCode.NO_TRANSFER)
    return 0


def _attempts(
    rt: Runtime, src: Backend, dst: Backend, mode: Mode, options: SyncOptions, exec_options: ExecOptions
) -> None:
    """Plan and execute, again from the start (up to ``--retries`` times) while errors remain."""
    attempts = max(1, options.retries)
    for attempt in range(1, attempts + 1):
        plan = make_plan(rt, src, dst, mode, options)
        copies = [a for a in plan.actions if isinstance(a, Copy)]
        rt.stats.planned_transfers = rt.stats.transfers + len(copies)
        rt.stats.planned_bytes = rt.stats.bytes + sum(max(0, a.src.size) for a in copies)
        if options.max_delete is not None and plan.deletes > options.max_delete:
            raise SafetyAbort(
                f"--max-delete {options.max_delete}: this run would delete {plan.deletes} files; "
                "nothing was changed"
            )
        if options.dry_run:
            _report_dry_run(plan, dst, src)
            return
        execute(plan, src, dst, exec_options, rt.stats)
        if not rt.stats.errors or attempt == attempts:
            break
        log.error("Attempt %d/%d failed with %d errors and: %s", attempt, attempts, rt.stats.errors,
                  rt.stats.last_error)  # fmt: skip
        rt.stats.reset_errors()
        if options.retries_sleep_s:
            time.sleep(options.retries_sleep_s)
