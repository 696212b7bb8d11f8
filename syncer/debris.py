"""Where deleted and replaced destination files go, and the clean-up that keeps that place from growing.

By default a sync never destroys a file: it moves it to the destination's debris folder
(``.debris/YYYY-MM-DD/<path>`` at the destination's root, as MEGA's own sync does), or into the backend's
trash when it has one. ``--backup-dir`` and ``--suffix`` behave as in rclone; ``--hard-delete`` really
deletes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from enum import Enum

from backends import Backend, Entry
from backends import paths as rpaths
from backends.errors import DirectoryNotEmpty, NotFound

from .operations import move_file

__all__ = ["DEBRIS_DIR", "Disposal", "DisposalMode", "cleanup_debris", "dispose"]

log = logging.getLogger("syncer.debris")

#: The debris folder at the root of a sync's destination; the engine never syncs it.
DEBRIS_DIR = ".debris"


class DisposalMode(Enum):
    DEBRIS = "debris"
    HARD = "hard"
    BACKUP = "backup"  # --backup-dir and/or --suffix


@dataclass(frozen=True)
class Disposal:
    """How a run gets rid of destination files. ``day`` names today's debris folder."""

    mode: DisposalMode = DisposalMode.DEBRIS
    backup: Backend | None = None  # --backup-dir; None with a suffix: renamed in place
    suffix: str = ""
    day: str = ""

    @staticmethod
    def today() -> str:
        return time.strftime("%Y-%m-%d")


def _free_name(backend: Backend, path: str) -> str:
    """``path``, or ``path.1``, ``path.2``...: debris never overwrites debris."""
    candidate, number = path, 0
    while backend.exists(candidate):
        number += 1
        candidate = f"{path}.{number}"
    return candidate


def dispose(dst: Backend, entry: Entry, disposal: Disposal) -> str:
    """Remove ``entry`` from ``dst`` the way ``disposal`` says; returns where it went (for the log)."""
    if disposal.mode is DisposalMode.HARD:
        dst.remove(entry)
        return "deleted"
    if disposal.mode is DisposalMode.BACKUP:
        target_backend = disposal.backup if disposal.backup is not None else dst
        target = _free_name(target_backend, entry.path + disposal.suffix)
        move_file(dst, entry, target_backend, target)
        return f"moved to {target_backend.describe(target)}"
    if dst.features.trash:
        dst.trash(entry)
        return "moved to the trash"
    target = _free_name(dst, rpaths.join(f"{DEBRIS_DIR}/{disposal.day or Disposal.today()}", entry.path))
    dst.move(entry, target)
    return f"moved to {dst.describe(target)}"


def cleanup_debris(
    backend: Backend, *, older_than_s: float | None, now: float | None = None
) -> tuple[int, int]:
    """Delete debris day folders older than ``older_than_s`` seconds (all of them when None).

    Returns (files deleted, day folders removed). Day folders are named YYYY-MM-DD; anything else inside the
    debris folder is left alone.
    """
    now = time.time() if now is None else now
    try:
        days = [e for e in backend.list(DEBRIS_DIR) if e.is_dir]
    except NotFound:
        return 0, 0
    files = folders = 0
    for day in sorted(days, key=lambda e: e.name):
        try:
            stamp = time.mktime(time.strptime(day.name, "%Y-%m-%d"))
        except ValueError:
            continue
        if older_than_s is not None and older_than_s > 0 and now - (stamp + 86400) < older_than_s:
            continue  # judged by the day's last second: never removes debris younger than asked
        files += sum(1 for e in backend.walk(day.path) if not e.is_dir)
        backend.purge(day.path)
        folders += 1
        log.info("%s: Removed debris", backend.describe(day.path))
    with contextlib.suppress(DirectoryNotEmpty, NotFound):
        backend.rmdir(DEBRIS_DIR)
    return files, folders
