"""Named jobs from the config's ``jobs:`` list, run one after another for CI pipelines and cron.

A job is a command line in YAML: ``mode`` is the command (copy, sync, bisync, check), ``source`` and
``dest`` its two locations, ``filters`` its filter rules (``--filter`` syntax: ``"- *.tmp"``), and
``options`` any of the command's flags by their long names (``max_delete: 100``, ``checksum: true``,
``exclude: ["*.bak"]``). Turning a job into the argument list of its command means every flag a user can
type works in a job, checked by the same parser, and a job does exactly what the same command line does.

Every job's problems are reported with the file, line and key (``jobs[2].options.max_delet``), when the
config is loaded, before any job runs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backends.errors import ConfigError
from backends.private_files import write_private

from .config import Config, config_error

__all__ = [
    "MODES",
    "Job",
    "JobResult",
    "jobs_of",
    "json_report",
    "junit_xml",
    "shown_location",
    "worst_exit_code",
]

log = logging.getLogger("syncer.jobs")

MODES = ("copy", "sync", "bisync", "check", "backup")
_KEYS = ("name", "mode", "source", "dest", "filters", "options", "keep", "schedule", "description")
_NAME = re.compile(r"[A-Za-z0-9][\w.-]*")
#: rclone's exit codes from the least to the most serious: the worst job's becomes the run's
_SEVERITY = (0, 9, 6, 5, 4, 3, 1, 2, 7)
#: flags that belong to the whole ``jobs run``, not to one job
_WHOLE_RUN = frozenset({"config", "log_file", "log_level", "use_json_log", "verbose", "quiet"})
#: job keys that are also flags: set once, as the job's key
_JOB_KEYS = frozenset({"keep", "filter"})
#: what XML 1.0 cannot hold (a JUnit report quotes error lines, which may quote odd file names)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Job:
    """One validated job; ``argv`` is its command line (without the program name)."""

    name: str
    mode: str
    source: str
    dest: str
    argv: tuple[str, ...]
    description: str = ""
    #: when ``jobs run --schedule`` runs it (see ``schedule``); "" for jobs run only on demand
    schedule: str = ""


@dataclass
class JobResult:
    """What one job did, for the summary and the reports. ``errors`` are the job's logged error lines."""

    name: str
    mode: str
    source: str
    dest: str
    status: str = "ok"  # ok | failed
    exit_code: int = 0
    transfers: int = 0
    bytes: int = 0
    checks: int = 0
    deletes: int = 0
    renames: int = 0
    error_count: int = 0
    duration_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def shown_location(spec: str) -> str:
    """``spec`` as reports show it: a public link's key (its URL fragment) is left out."""
    if "://" in spec and "#" in spec:
        return spec.split("#", 1)[0] + "#***"
    return spec


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _option_args(name: str, value: Any) -> list[str]:
    """The command-line arguments of one ``options:`` entry; ValueError for a value no flag takes."""
    flag = _flag(name)
    if value is True:
        return [flag]
    if value is False or value is None:
        return []
    if isinstance(value, list):
        args: list[str] = []
        for item in value:
            if isinstance(item, dict | list) or item is None:
                raise ValueError("a list of plain values")
            args.append(f"{flag}={item}")  # with '=': a value may start with '-'
        return args
    if isinstance(value, dict):
        raise ValueError("a plain value or a list")
    return [f"{flag}={value}"]


#: ``expand(text, node, keypath)``: ``${VAR}`` replaced from the environment (ConfigError when unset)
Expand = Callable[[str, Any, str], str]


def _verbatim(text: str, node: Any, keypath: str) -> str:
    return text


def jobs_of(
    config: Config, validate: Callable[[str, list[str]], None], expand: Expand = _verbatim
) -> list[Job]:
    """The config's jobs, checked. ``validate(mode, argv)`` raises ValueError (with the parser's message)
    for an argument list the command refuses; ``expand`` fills in ``${VAR}`` in the jobs' strings, as in
    the rest of the file. ConfigError names the file, line and key of any problem."""
    if config.jobs is None:
        return []
    sequence = config.nodes.get("jobs")
    items = getattr(sequence, "value", [])
    jobs: list[Job] = []
    names: dict[str, int] = {}
    for index, data in enumerate(config.jobs):
        reader = _JobReader(
            config.path, index, data, items[index] if index < len(items) else sequence, expand
        )
        job = reader.job(validate)
        if job.name in names:
            message = f"job {job.name!r} is already defined (jobs[{names[job.name]}])"
            raise reader.error("name", message, reader.at("name"))
        names[job.name] = index
        jobs.append(job)
    return jobs


class _JobReader:
    """One ``jobs:`` entry with its YAML node, for messages that name the line of the key at fault."""

    def __init__(self, path: str, index: int, data: Any, node: Any, expand: Expand) -> None:
        from yaml.nodes import MappingNode

        self.path, self.data, self.node, self.expand = path, data, node, expand
        self.where = f"jobs[{index}]"
        pairs = node.value if isinstance(node, MappingNode) else []
        self.keys = {str(k.value): (k, v) for k, v in pairs}

    def at(self, key: str) -> Any:
        """The node of ``key``'s value (its line is the one to name), or None."""
        return self.keys.get(key, (None, None))[1]

    def error(self, key: str, message: str, at: Any = None) -> ConfigError:
        keypath = f"{self.where}.{key}" if key else self.where
        return config_error(self.path, at if at is not None else self.node, keypath, message)

    def text(self, key: str, required: bool = True) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "missing", self.at(key))
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(key, "expected a string", self.at(key))
        return self.expand(str(value), self.at(key), f"{self.where}.{key}")

    def job(self, validate: Callable[[str, list[str]], None]) -> Job:
        if not isinstance(self.data, dict):
            raise self.error("", "expected a mapping with name, mode, source and dest")
        for key in self.data:
            if key not in _KEYS:
                raise self.error(
                    str(key), f"unknown key (known: {', '.join(_KEYS)})", self.keys.get(str(key), (None,))[0]
                )
        name = self.text("name")
        if not _NAME.fullmatch(name):
            raise self.error(
                "name", f"invalid job name {name!r}: letters, digits, '_', '.', '-'", self.at("name")
            )
        mode = self.text("mode")
        if mode not in MODES:
            raise self.error("mode", f"unknown mode {mode!r} (one of {', '.join(MODES)})", self.at("mode"))
        argv = [mode, self.text("source"), self.text("dest")]
        keep = self.data.get("keep")
        if mode == "backup":
            if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
                message = "a backup job needs keep: N (how many snapshots, at least 1)"
                raise self.error("keep", message, self.at("keep"))
            argv.append(f"--keep={keep}")
        elif keep is not None:
            raise self.error("keep", "only backup jobs keep snapshots", self.at("keep"))
        rules = self.data.get("filters", [])
        if rules is None:
            rules = []
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise self.error(
                "filters", "expected a list of filter rules ('- *.tmp', '+ **')", self.at("filters")
            )
        rules = [self.expand(rule, self.at("filters"), f"{self.where}.filters") for rule in rules]
        problem = _filter_problem(rules)
        if problem:
            raise self.error("filters", problem, self.at("filters"))
        argv += [f"--filter={rule}" for rule in rules]
        options = self.data.get("options", {})
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise self.error("options", "expected a mapping of flag names to values", self.at("options"))
        options_node = self.keys.get("options", (None, None))[1]
        option_keys = {str(k.value): k for k, _ in getattr(options_node, "value", None) or []}
        for key, value in options.items():
            at = option_keys.get(str(key))
            if str(key).replace("-", "_") in _WHOLE_RUN:
                raise self.error(f"options.{key}", "set for the whole run (jobs run --...), not per job", at)
            if str(key).replace("-", "_") in _JOB_KEYS:
                raise self.error(f"options.{key}", f"a key of the job itself ({key}: ...), not an option", at)
            if isinstance(value, str):
                value = self.expand(value, at, f"{self.where}.options.{key}")
            elif isinstance(value, list):
                value = [
                    self.expand(v, at, f"{self.where}.options.{key}") if isinstance(v, str) else v
                    for v in value
                ]
            try:
                extra = _option_args(str(key), value)
                validate(mode, [*argv, *extra])
            except ValueError as exc:
                raise self.error(f"options.{key}", str(exc), at) from None
            argv += extra
        try:
            validate(mode, argv)
        except ValueError as exc:
            raise self.error("", str(exc)) from None
        schedule = self.text("schedule", required=False)
        if schedule:
            from .schedule import parse_schedule

            try:
                parse_schedule(schedule)
            except ValueError as exc:
                raise self.error("schedule", str(exc), self.keys.get("schedule", (None, None))[1]) from None
        description = self.text("description", required=False)
        return Job(name, mode, argv[1], argv[2], tuple(argv), description, schedule)


def _filter_problem(rules: Sequence[str]) -> str:
    """Why the filter rules cannot be used ("" when they can): found when the config loads, not when
    the job runs."""
    from filters import Filter, FilterError, FilterOptions

    try:
        Filter(FilterOptions(filter_rules=tuple(rules)))
    except FilterError as exc:
        return str(exc)
    return ""


def worst_exit_code(codes: Sequence[int]) -> int:
    """The most serious of the jobs' exit codes (rclone's table: a fatal error outranks a usage error,
    which outranks any other failure; "nothing transferred" is the least). A code outside the table
    ranks as 1; among equals the larger code wins, so the order of the jobs does not matter."""
    rank = {code: i for i, code in enumerate(_SEVERITY)}
    return max(codes, key=lambda c: (rank.get(c, rank[1]), c), default=0)


def json_report(results: Sequence[JobResult], exit_code: int, started: float) -> str:
    return json.dumps(
        {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "exit_code": exit_code,
            "jobs": [
                asdict(r) | {"source": shown_location(r.source), "dest": shown_location(r.dest)}
                for r in results
            ],
        },
        indent=2,
    )


def junit_xml(results: Sequence[JobResult]) -> str:
    """A JUnit XML report: one test case per job, a failure element for a failed job (CI systems show it)."""
    failures = sum(1 for r in results if r.status != "ok")
    suite = ET.Element(
        "testsuite",
        name="syncer jobs",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.duration_s for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite, "testcase", classname=f"syncer.{r.mode}", name=r.name, time=f"{r.duration_s:.3f}"
        )
        summary = (
            f"{r.mode} {shown_location(r.source)} -> {shown_location(r.dest)}: {r.transfers} transferred, "
            f"{r.bytes} bytes, {r.checks} checked, {r.deletes} deleted, {r.error_count} errors"
        )
        ET.SubElement(case, "system-out").text = _xml_text(summary)
        if r.status != "ok":
            failure = ET.SubElement(
                case,
                "failure",
                message=_xml_text(r.errors[-1] if r.errors else f"exit code {r.exit_code}"),
                type=f"exit {r.exit_code}",
            )
            failure.text = _xml_text("\n".join(r.errors))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def write_report(path: str, text: str) -> None:
    """A report file, replaced atomically (0600: like every file syncer writes). A name that is not
    valid UTF-8 (quoted in an error line) is written with backslash escapes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_private(target, text.encode("utf-8", "backslashreplace"))


def by_name(jobs: Sequence[Job], names: Sequence[str]) -> list[Job]:
    """The jobs named, in the order asked (all of them when none is); ValueError names an unknown one."""
    if not names:
        return list(jobs)
    known = {job.name: job for job in jobs}
    for name in names:
        if name not in known:
            listed = ", ".join(known) or "none"
            raise ValueError(f"no job named {name!r} in the config (jobs: {listed})")
    return [known[name] for name in names]
