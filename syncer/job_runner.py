"""``syncer jobs list`` and ``syncer jobs run``: each job parsed as its own command line and run in turn.

A failing job does not stop the others; the exit code is the worst job's. Each job gets a Runtime of its
own (its own counters, filter and backends), built exactly as for the same command typed by hand. In CI
(``CI=true``) or without a terminal nothing asks a question and nothing draws live progress: log lines only.
The reports carry counts, durations and the jobs' own error lines, which are written to be shown (no
secret reaches a log line); a public link's key is left out of the locations shown.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cli import Setting

from backends.errors import BackendError, ConfigError

from .errors import UsageError, exit_code_for
from .jobs import (
    Job,
    JobResult,
    by_name,
    jobs_of,
    json_report,
    junit_xml,
    shown_location,
    worst_exit_code,
    write_report,
)
from .prompts import interactive

__all__ = ["run_jobs_command"]

log = logging.getLogger("syncer.jobs")


class _ErrorLines(logging.Handler):
    """The error lines logged while one job runs (they go to the reports)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a record that cannot be formatted must not end the job
            self.handleError(record)


def _validator() -> Any:
    from .cli import build_parser

    parsers: dict[str, argparse.ArgumentParser] = {}  # one per command: jobs check every option with it

    def validate(mode: str, argv: list[str]) -> None:
        if mode not in parsers:
            parsers[mode] = build_parser(only=mode)
        try:
            parsers[mode].parse_args(argv)
        except UsageError as exc:
            raise ValueError(str(exc).split(" (see '")[0]) from None

    return validate


def run_jobs_command(args: argparse.Namespace, setting: Setting) -> int:
    from .config_loader import Validator

    config, out = setting.config, setting.out
    jobs = jobs_of(config, _validator(), Validator(config.path, setting.env, setting.registry).interpolate)
    if args.jobs_command == "list":
        for job in jobs:
            about = f"  # {job.description}" if job.description else ""
            out.write(
                f"{job.name}\t{job.mode}\t{shown_location(job.source)} -> {shown_location(job.dest)}{about}\n"
            )
        return 0
    if not jobs:
        raise UsageError(f"{config.path or 'the config'}: no jobs defined (add a 'jobs:' list)")
    try:
        selected = by_name(jobs, args.names)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    unattended = not interactive(setting.env)
    if args.schedule:
        return _run_scheduled(selected, args, setting, unattended)
    started = time.time()
    results = [_run_job(job, args, setting, unattended) for job in selected]
    code = worst_exit_code([r.exit_code for r in results])
    failed = [r.name for r in results if r.status != "ok"]
    if failed:
        log.error("%d of %d jobs failed: %s", len(failed), len(results), ", ".join(failed))
    else:
        log.warning("All %d jobs succeeded", len(results))
    if args.report:
        text = json_report(results, code, started)
        if args.report == "-":
            out.write(text + "\n")
        else:
            write_report(args.report, text + "\n")
    if args.junit:
        write_report(args.junit, junit_xml(results))
    return code


def _run_scheduled(jobs: list[Job], args: argparse.Namespace, setting: Setting, unattended: bool) -> int:
    """``jobs run --schedule``: the jobs that have a ``schedule:``, each when due, until Ctrl-C."""
    from .interrupts import interrupt_sets
    from .schedule import SystemClock, parse_schedule, run_on_schedule

    if args.report or args.junit:
        raise UsageError("--report and --junit are for one run of the jobs, not with --schedule")
    scheduled = [job for job in jobs if job.schedule]
    if not scheduled:
        raise UsageError("none of these jobs has a 'schedule:' (a cron expression or 'every 6h')")
    for job in jobs:
        if not job.schedule:
            log.warning("Job %s has no schedule: not run by --schedule", job.name)
    by_name = {job.name: job for job in scheduled}
    stop = threading.Event()
    restore = interrupt_sets(stop)
    log.warning("Running %d scheduled jobs (Ctrl-C to stop)", len(scheduled))
    try:
        codes = run_on_schedule(
            [(job.name, parse_schedule(job.schedule)) for job in scheduled],
            lambda name: _run_job(by_name[name], args, setting, unattended).exit_code,
            clock=SystemClock(),
            stop=stop,
        )
    finally:
        restore()
    log.warning("Stopped the schedule after %d runs", len(codes))
    return worst_exit_code(codes)


def _run_job(job: Job, run_args: argparse.Namespace, setting: Setting, unattended: bool) -> JobResult:
    from .cli import _dispatch, build_parser, runtime_for
    from .options import resolve_global_options

    result = JobResult(job.name, job.mode, job.source, job.dest)
    args = build_parser(only=job.mode).parse_args(list(job.argv))
    args.dry_run = args.dry_run or run_args.dry_run
    if unattended and getattr(args, "progress", False):
        args.progress = False  # no live display in CI: plain log lines
    log.warning(
        "Job %s: %s %s -> %s", job.name, job.mode, shown_location(job.source), shown_location(job.dest)
    )
    collector = _ErrorLines()
    loggers = [logging.getLogger("syncer"), logging.getLogger("backends")]
    for logger in loggers:
        logger.addHandler(collector)
    started = time.monotonic()
    rt = None
    code: int | None = None
    try:
        flags = {
            "log_level": None,
            "copy_links": args.copy_links or run_args.copy_links,
            "checkers": args.checkers or run_args.checkers,
            "transfers": args.transfers or run_args.transfers,
        }
        options = resolve_global_options(setting.config.defaults, setting.env, flags)
        rt = runtime_for(args, setting, options)
        code = _dispatch(args, rt)
    except (BackendError, ConfigError) as exc:
        log.error("Job %s: %s", job.name, exc)
        code = exit_code_for(exc)
    except Exception as exc:  # a bug in one job must not stop the others; it is reported like a failure
        log.error("Job %s: internal error: %s: %s", job.name, type(exc).__name__, exc)
        code = 1
    finally:
        if rt is not None:
            rt.close()
        for logger in loggers:
            logger.removeHandler(collector)
    result.duration_s = round(time.monotonic() - started, 3)
    if rt is not None:
        stats = rt.stats
        if code is None:
            code = stats.exit_code()
        result.transfers, result.bytes, result.checks = stats.transfers, stats.bytes, stats.checks
        result.deletes, result.renames = stats.deletes, stats.renames
        result.error_count = stats.errors
    result.exit_code = code or 0
    result.errors = collector.lines
    result.error_count = max(result.error_count, len(collector.lines) if result.exit_code else 0)
    if result.exit_code != 0:
        result.status = "failed"
        log.error("Job %s: failed (exit code %d)", job.name, result.exit_code)
    else:
        log.warning(
            "Job %s: ok, %d transferred, %d checked, %d deleted in %.1fs",
            job.name,
            result.transfers,
            result.checks,
            result.deletes,
            result.duration_s,
        )
    sys.stdout.flush()
    return result
