"""``check``: do source and destination hold the same files? Sizes, then a shared hash, or the bytes
themselves with ``--download``. Changes nothing; reports as rclone does, to the log and to report files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TextIO

from backends import Backend, HashType
from backends.errors import BackendError

from .compare import common_hash
from .debris import DEBRIS_DIR
from .march import Match, march
from .operations import same_bytes
from .parallel import run_parallel
from .runtime import Runtime

__all__ = ["CheckOptions", "run_check"]

log = logging.getLogger("syncer")

#: Report markers of rclone's --combined file, per outcome.
MATCH, DIFFER, MISSING_ON_SRC, MISSING_ON_DST, ERROR = "=", "*", "-", "+", "!"


@dataclass(frozen=True)
class CheckOptions:
    one_way: bool = False
    size_only: bool = False
    download: bool = False
    checkers: int = 8
    combined: str | None = None
    differ: str | None = None
    missing_on_src: str | None = None
    missing_on_dst: str | None = None
    match: str | None = None
    error: str | None = None


def _compare(src: Backend, dst: Backend, match: Match, options: CheckOptions, kind: HashType | None) -> str:
    """The outcome marker and, for a difference, why (``"* sizes differ"``)."""
    a, b = match.src, match.dst
    assert a is not None and b is not None
    if a.size >= 0 and b.size >= 0 and a.size != b.size:
        return f"{DIFFER} sizes differ"
    if options.size_only:
        return MATCH
    if options.download:
        return MATCH if same_bytes(src, a, dst, b) else f"{DIFFER} contents differ"
    if kind is None:
        return MATCH
    if src.hash(a, kind) != dst.hash(b, kind):
        return f"{DIFFER} {kind} differ"
    return MATCH


def _pairs(src: Backend, dst: Backend, rt: Runtime) -> Iterator[Match]:
    for match in march(src, dst, stats=rt.stats, rules=rt.rules, skip_root_names=frozenset({DEBRIS_DIR})):
        if (match.src is None or not match.src.is_dir) and (match.dst is None or not match.dst.is_dir):
            yield match


def run_check(rt: Runtime, src_spec: str, dst_spec: str, options: CheckOptions) -> int:
    """The check command; returns its exit code (1 when anything differs or is missing)."""
    src, dst = rt.open(src_spec), rt.open(dst_spec)
    kind = None if options.size_only or options.download else common_hash(src.features, dst.features)
    if kind is None and not (options.size_only or options.download):
        log.warning("%s: no hash in common with %s: checking sizes only", dst.describe(), src.describe())
    with rt.located(src):
        pairs = list(_pairs(src, dst, rt))
    both = [m for m in pairs if m.src is not None and m.dst is not None]

    def outcome(match: Match) -> str:
        try:
            return _compare(src, dst, match, options, kind)
        except BackendError as exc:
            rt.stats.error(exc, f"{match.path}: failed to check")
            return ERROR

    results: dict[str, str] = {}

    def settle(match: Match) -> None:
        results[match.path] = outcome(match)

    run_parallel(both, settle, workers=rt.workers(options.checkers, src, dst))

    counts = {MATCH: 0, DIFFER: 0, MISSING_ON_SRC: 0, MISSING_ON_DST: 0, ERROR: 0}
    with ExitStack() as stack:
        reports: dict[str, list[TextIO]] = {marker: [] for marker in counts}
        for marker, path in (
            (MATCH, options.match),
            (DIFFER, options.differ),
            (MISSING_ON_SRC, options.missing_on_src),
            (MISSING_ON_DST, options.missing_on_dst),
            (ERROR, options.error),
        ):
            if path:
                reports[marker].append(_open_report(path, rt, stack))
        combined = _open_report(options.combined, rt, stack) if options.combined else None
        for match in pairs:
            if match.dst is None:
                marker, why = MISSING_ON_DST, f"file not in {dst.describe()}"
            elif match.src is None:
                if options.one_way:
                    continue
                marker, why = MISSING_ON_SRC, f"file not in {src.describe()}"
            else:
                result = results[match.path]
                marker, why = result[0], result[2:]
            counts[marker] += 1
            if marker in (DIFFER, MISSING_ON_SRC, MISSING_ON_DST):
                rt.stats.error(BackendError(why), match.path)
            for report in reports[marker]:
                report.write(match.path + "\n")
            if combined is not None:
                combined.write(f"{marker} {match.path}\n")
    rt.stats.count(checks=sum(counts.values()))  # every path looked at (a job's report counts them)
    if counts[MISSING_ON_DST]:
        log.warning("%s: %d files missing", dst.describe(), counts[MISSING_ON_DST])
    if counts[MISSING_ON_SRC]:
        log.warning("%s: %d files missing", src.describe(), counts[MISSING_ON_SRC])
    differences = counts[DIFFER] + counts[MISSING_ON_SRC] + counts[MISSING_ON_DST]
    if differences:
        log.warning("%s: %d differences found", dst.describe(), differences)
    log.warning("%s: %d matching files", dst.describe(), counts[MATCH])
    if differences:
        rt.stats.last_error = BackendError(f"{differences} differences found")
    return rt.stats.exit_code()


def _open_report(path: str, rt: Runtime, stack: ExitStack) -> TextIO:
    """A report file ("-" is stdout), created 0600 like everything syncer writes, closed with ``stack``."""
    if path == "-":
        return rt.out
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    return stack.enter_context(open(fd, "w", encoding="utf-8", errors="surrogateescape"))
