"""Runs a Plan: directories first, transfers in parallel, deletions when rclone's rules allow them.

One failing action is counted and logged; the others go on. With the default ``--delete-after``, nothing is
deleted once any transfer has failed (a half-copied source must not cost the destination its files).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from backends import Backend
from backends.errors import BackendError, DirectoryNotEmpty, NotFound

from .accounting import Stats
from .bwlimit import BandwidthLimit
from .debris import Disposal, dispose
from .operations import copy_file, move_file
from .options import DeleteTiming
from .parallel import run_parallel
from .plan import Action, Copy, Delete, DeleteSource, Mkdir, Mode, Plan, Rmdir, RmdirSource, SetMtime
from .retry import with_retries

__all__ = ["ExecOptions", "execute"]

log = logging.getLogger("syncer.executor")


@dataclass(frozen=True)
class ExecOptions:
    transfers: int = 4
    delete_timing: DeleteTiming = DeleteTiming.AFTER
    disposal: Disposal = field(default_factory=Disposal)
    #: Replaced files (sync) go where deleted ones go; a plain copy overwrites unless --backup-dir is set.
    keep_replaced: bool = False
    low_level_retries: int = 10
    limit: BandwidthLimit | None = None


def _deepest_first(paths: Iterable[str]) -> list[str]:
    return sorted(paths, key=lambda p: (p.count("/"), p), reverse=True)


class _Runner:
    def __init__(self, plan: Plan, src: Backend, dst: Backend, options: ExecOptions, stats: Stats) -> None:
        self.plan, self.src, self.dst, self.options, self.stats = plan, src, dst, options, stats

    def attempt(self, action: Action, what: str, operation: Callable[[], object]) -> bool:
        try:
            with_retries(operation, attempts=self.options.low_level_retries, what=what)
        except BackendError as exc:
            self.stats.error(exc, f"{what}: {_verb(action)} failed")
            return False
        return True

    def transfer(self, action: Action) -> None:
        src, dst, options, stats = self.src, self.dst, self.options, self.stats
        if isinstance(action, Copy):
            target = dst.describe(action.path)

            def flowed(count: int) -> None:
                stats.flowed(action.path, count)

            replaced = action.replaces
            if replaced is not None and options.keep_replaced:
                # Once, before the copy and outside its retries: a retried copy must not move the old
                # version again (backends addressing objects by id would find it in the debris).
                where: list[str] = []
                if not self.attempt(
                    action, target, lambda: where.append(dispose(dst, replaced, options.disposal))
                ):
                    return
                log.info("%s: Replaced file %s", target, where[-1])

            def run() -> None:
                transfer = move_file if self.plan.mode is Mode.MOVE else copy_file
                stats.end(action.path, ok=False, size=0)  # a retry starts the count again
                stats.begin(action.path, action.src.size)
                transfer(src, action.src, dst, action.path, on_bytes=flowed, limit=options.limit)

            ok = self.attempt(action, target, run)
            stats.end(action.path, ok=ok, size=action.src.size)
            if ok:
                moved = "Moved" if self.plan.mode is Mode.MOVE else "Copied"
                log.info("%s: %s (%s)", target, moved, "replaced existing" if action.replaces else "new")
        elif isinstance(action, SetMtime):
            mtime = action.src.mtime_ns
            assert mtime is not None
            if self.attempt(action, dst.describe(action.path), lambda: dst.set_mtime(action.dst, mtime)):
                log.info("%s: Updated modification time in destination", dst.describe(action.path))
        elif isinstance(action, DeleteSource):
            if self.attempt(action, src.describe(action.path), lambda: src.remove(action.src)):
                stats.count(deletes=1)
                log.info("%s: Deleted (identical on the destination)", src.describe(action.path))
        elif isinstance(action, Delete):
            self.delete(action)

    def delete(self, action: Delete) -> None:
        target = self.dst.describe(action.path)
        where: list[str] = []
        if self.attempt(
            action, target, lambda: where.append(dispose(self.dst, action.dst, self.options.disposal))
        ):
            self.stats.count(deletes=1)
            log.info("%s: Deleted (%s)", target, where[-1] if where else "deleted")

    def rmdir(self, backend: Backend, path: str) -> None:
        try:
            with_retries(lambda: backend.rmdir(path), attempts=self.options.low_level_retries, what=path)
        except (DirectoryNotEmpty, NotFound):
            log.debug("%s: left in place (not empty)", backend.describe(path))
        except BackendError as exc:
            self.stats.error(exc, f"{backend.describe(path)}: failed to remove directory")
        else:
            self.stats.count(dirs_deleted=1)
            log.info("%s: Removed directory", backend.describe(path))


def _verb(action: Action) -> str:
    return {
        Copy: "copy",
        SetMtime: "set modification time",
        Delete: "delete",
        DeleteSource: "delete source",
        Mkdir: "make directory",
        Rmdir: "remove directory",
        RmdirSource: "remove source directory",
    }[type(action)]


def execute(plan: Plan, src: Backend, dst: Backend, options: ExecOptions, stats: Stats) -> None:
    """Carry out ``plan``; errors are counted in ``stats``, never raised."""
    runner = _Runner(plan, src, dst, options, stats)
    stats.count(checks=plan.checks)
    deletes = [a for a in plan.actions if isinstance(a, Delete)]
    work: list[Action] = [a for a in plan.actions if isinstance(a, Copy | SetMtime | DeleteSource)]
    if options.delete_timing is DeleteTiming.DURING:
        work += deletes
    for action in plan.actions:
        if isinstance(action, Mkdir):
            path = action.path
            runner.attempt(action, dst.describe(path), lambda: dst.mkdir(path))  # noqa: B023 - called at once
    errors_before = stats.errors
    if options.delete_timing is DeleteTiming.BEFORE:
        for delete in deletes:
            runner.delete(delete)
    run_parallel(work, runner.transfer, workers=options.transfers)
    if options.delete_timing is DeleteTiming.AFTER and deletes:
        if stats.errors > errors_before:
            stats.error(BackendError("not deleting files as there were IO errors"))
        else:
            for delete in deletes:
                runner.delete(delete)
    if stats.errors == errors_before or options.delete_timing is not DeleteTiming.AFTER:
        for path in _deepest_first(a.path for a in plan.actions if isinstance(a, Rmdir)):
            runner.rmdir(dst, path)
    for path in _deepest_first(a.path for a in plan.actions if isinstance(a, RmdirSource)):
        runner.rmdir(src, path)
