"""syncer.jobs: the ``jobs:`` list validated into command lines (with file:line:key errors), and the reports.

Configs are written as YAML text to tmp_path so the line of every error is known; jobs are checked with the
real validator (each command's own argparse parser, ``syncer.job_runner._validator``).
"""

from __future__ import annotations

import itertools
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backends import default_registry
from backends.errors import ConfigError
from syncer.cli import build_parser
from syncer.config import Config, load_config
from syncer.job_runner import _validator
from syncer.jobs import (
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

LINK = "https://mega.nz/folder/AbCdEfGh#SeCrEtKeY123"
LINK_KEY = "SeCrEtKeY123"


# -- helpers ------------------------------------------------------------------------------------------------


def yaml_text(text: str) -> str:
    """The YAML as written in a test, starting on line 1."""
    return textwrap.dedent(text).lstrip("\n")


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line of ``yaml_text(text)`` that contains ``fragment``."""
    found = [n for n, line in enumerate(yaml_text(text).splitlines(), 1) if fragment in line]
    assert len(found) >= occurrence, f"{fragment!r} not in the test's YAML"
    return found[occurrence - 1]


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text(text), encoding="utf-8")
    return load_config(path, {"HOME": str(tmp_path / "home")}, default_registry())


def load_jobs(tmp_path: Path, text: str) -> list[Job]:
    return jobs_of(load(tmp_path, text), _validator())


def job_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_jobs(tmp_path, text)
    return str(info.value)


def where(tmp_path: Path, line: int, key: str) -> str:
    """The start of a ConfigError message: ``PATH:LINE: KEY: ``."""
    return f"{tmp_path / 'config.yaml'}:{line}: {key}: "


# -- valid jobs ---------------------------------------------------------------------------------------------

VALID = """
    remotes:
      nas:
        type: local
        root: /srv
    jobs:
      - name: nightly
        description: Photos to the NAS, every night
        mode: sync
        source: /data/photos
        dest: nas:backup/photos
        filters:
          - "- *.tmp"
          - "+ **"
        options:
          checksum: true
          max_delete: 100
          exclude: ["*.bak", "*.swp"]
          create-empty-src-dirs: true
          low_level_retries: 5
          dry_run: false
          backup_dir: null
          bwlimit: 10M
      - name: verify.2
        mode: check
        source: /data/photos
        dest: nas:backup/photos
        options:
          one-way: true
      - name: two_way-sync
        mode: bisync
        source: /a
        dest: /b
        options: {resync: true, max_delete: 10}
      - name: "7"
        mode: copy
        source: /in
        dest: /out
"""


def test_valid_jobs_give_their_exact_command_lines(tmp_path: Path) -> None:
    jobs = load_jobs(tmp_path, VALID)

    assert [job.name for job in jobs] == ["nightly", "verify.2", "two_way-sync", "7"]
    nightly, verify, two_way, plain = jobs
    argv = (
        "sync", "/data/photos", "nas:backup/photos",
        "--filter=- *.tmp", "--filter=+ **",
        "--checksum",
        "--max-delete=100",
        "--exclude=*.bak", "--exclude=*.swp",
        "--create-empty-src-dirs",
        "--low-level-retries=5",
        "--bwlimit=10M",
    )  # fmt: skip
    assert nightly == Job(
        name="nightly",
        mode="sync",
        source="/data/photos",
        dest="nas:backup/photos",
        argv=argv,
        description="Photos to the NAS, every night",
    )
    assert verify.argv == ("check", "/data/photos", "nas:backup/photos", "--one-way")
    assert verify.description == ""
    assert two_way.argv == ("bisync", "/a", "/b", "--resync", "--max-delete=10")
    assert (two_way.source, two_way.dest) == ("/a", "/b")
    assert plain.argv == ("copy", "/in", "/out")


def test_a_jobs_argv_means_what_the_yaml_says_to_the_commands_parser(tmp_path: Path) -> None:
    nightly = load_jobs(tmp_path, VALID)[0]
    args = build_parser(only="sync").parse_args(list(nightly.argv))

    assert (args.command, args.source, args.dest) == ("sync", "/data/photos", "nas:backup/photos")
    assert args.filter == ["- *.tmp", "+ **"]
    assert args.exclude == ["*.bak", "*.swp"]
    assert args.checksum is True
    assert args.max_delete == 100
    assert args.create_empty_src_dirs is True
    assert args.low_level_retries == 5
    assert args.dry_run is False  # `dry_run: false` adds nothing
    assert args.backup_dir is None  # `backup_dir: null` adds nothing


def test_option_names_with_underscores_or_dashes_are_the_same_flag(tmp_path: Path) -> None:
    jobs = load_jobs(
        tmp_path,
        """
        jobs:
          - {name: a, mode: sync, source: /x, dest: /y, options: {max_delete: 3, hard_delete: true}}
          - {name: b, mode: sync, source: /x, dest: /y, options: {max-delete: 3, hard-delete: true}}
        """,
    )
    assert jobs[0].argv == jobs[1].argv == ("sync", "/x", "/y", "--max-delete=3", "--hard-delete")


def test_a_backup_job_keeps_its_snapshots_count(tmp_path: Path) -> None:
    text = """
        jobs:
          - name: snapshots
            mode: backup
            source: /data
            dest: /backups
            keep: 3
            filters: ["- *.tmp"]
            options: {checksum: true}
    """
    job = load_jobs(tmp_path, text)[0]
    assert job.argv == ("backup", "/data", "/backups", "--keep=3", "--filter=- *.tmp", "--checksum")
    assert build_parser(only="backup").parse_args(list(job.argv)).keep == 3


@pytest.mark.parametrize("keep", ["", "keep: 0", "keep: -1", "keep: true", "keep: '3'", "keep: 2.5"])
def test_a_backup_job_needs_a_positive_keep(tmp_path: Path, keep: str) -> None:
    # the bad keep first, so the job's line is also the key's (see the xfail on lines below)
    text = (
        "jobs:\n  - "
        + (keep + "\n    " if keep else "")
        + "name: a\n    mode: backup\n    source: /x\n    dest: /y\n"
    )
    error = job_error(tmp_path, text)
    assert (
        error
        == f"{where(tmp_path, 2, 'jobs[0].keep')}a backup job needs keep: N (how many snapshots, at least 1)"
    )


def test_only_a_backup_job_has_keep(tmp_path: Path) -> None:
    text = "jobs:\n  - keep: 2\n    name: a\n    mode: copy\n    source: /x\n    dest: /y\n"
    assert job_error(tmp_path, text) == f"{where(tmp_path, 2, 'jobs[0].keep')}only backup jobs keep snapshots"


@pytest.mark.parametrize(
    "text",
    [
        "remotes: {}\n",
        "defaults:\n  transfers: 4\n",
        "jobs:\n",
        "jobs: []\n",
        "",
    ],
    ids=["other-sections", "defaults-only", "null", "empty-list", "empty-file"],
)
def test_no_jobs_is_an_empty_list(tmp_path: Path, text: str) -> None:
    assert load_jobs(tmp_path, text) == []


# -- validation errors: file, line and key ------------------------------------------------------------------

NOT_A_MAPPING = """
    jobs:
      - name: a
        mode: copy
        source: /x
        dest: /y
      - ''
"""

UNKNOWN_KEY = """
    jobs:
      - name: a
        mode: copy
        source: /x
        dest: /y
        desc: nightly photos
"""

INVALID_NAME = """
    jobs:
      - name: "bad name"
        mode: copy
        source: /x
        dest: /y
"""

NAME_NOT_A_STRING = """
    jobs:
      - mode: copy
        source: /x
        name: [a, b]
        dest: /y
"""

DUPLICATE_NAME = """
    jobs:
      - name: same
        mode: copy
        source: /x
        dest: /y
      - name: other
        mode: copy
        source: /x
        dest: /y
      - name: same
        mode: sync
        source: /x
        dest: /z
"""

UNKNOWN_MODE = """
    jobs:
      - mode: move
        name: a
        source: /x
        dest: /y
"""

FILTERS_A_STRING = """
    jobs:
      - filters: "- *.tmp"
        name: a
        mode: copy
        source: /x
        dest: /y
"""

FILTERS_NOT_STRINGS = """
    jobs:
      - filters: ["- *.tmp", 3]
        name: a
        mode: copy
        source: /x
        dest: /y
"""

OPTIONS_A_LIST = """
    jobs:
      - options: [checksum]
        name: a
        mode: copy
        source: /x
        dest: /y
"""

UNKNOWN_OPTION = """
    jobs:
      - name: a
        mode: copy
        source: /x
        dest: /y
      - name: b
        mode: sync
        source: /x
        dest: /y
        options:
          checksum: true
          no_such_flag: 1
"""

OPTION_OF_ANOTHER_COMMAND = """
    jobs:
      - name: a
        mode: check
        source: /x
        dest: /y
        options:
          one_way: true
          max_delete: 5
"""

BAD_OPTION_VALUE = """
    jobs:
      - name: a
        mode: sync
        source: /x
        dest: /y
        options:
          checksum: true
          max_delete: lots
"""

BOOLEAN_WITH_A_VALUE = """
    jobs:
      - name: a
        mode: sync
        source: /x
        dest: /y
        options:
          checksum: "yes"
"""

CONFLICTING_OPTIONS = """
    jobs:
      - name: a
        mode: sync
        source: /x
        dest: /y
        options:
          delete_before: true
          delete_after: true
"""

OPTION_A_MAPPING = """
    jobs:
      - name: a
        mode: sync
        source: /x
        dest: /y
        options:
          checksum: true
          max_delete: {count: 5}
"""

OPTION_LIST_OF_MAPPINGS = """
    jobs:
      - name: a
        mode: sync
        source: /x
        dest: /y
        options:
          exclude: ["*.tmp", {pattern: "*.bak"}]
"""

WHOLE_COMMAND_LINE = """
    jobs:
      - name: a
        mode: copy
        source: "-n"
        dest: /y
"""


@pytest.mark.parametrize(
    ("text", "fragment", "key", "message"),
    [
        (NOT_A_MAPPING, "- ''", "jobs[1]", "expected a mapping with name, mode, source and dest"),
        (
            UNKNOWN_KEY,
            "desc: nightly photos",
            "jobs[0].desc",
            "unknown key (known: name, mode, source, dest, filters, options, ",
        ),
        (
            INVALID_NAME,
            "name: ",
            "jobs[0].name",
            "invalid job name 'bad name': letters, digits, '_', '.', '-'",
        ),
        (NAME_NOT_A_STRING, "name: [a, b]", "jobs[0].name", "expected a string"),
        (DUPLICATE_NAME, "name: same", "jobs[2].name", "job 'same' is already defined (jobs[0])"),
        (UNKNOWN_MODE, "mode: move", "jobs[0].mode", "unknown mode 'move' (one of copy, sync, bisync, check"),
        (FILTERS_A_STRING, "filters:", "jobs[0].filters", "expected a list of filter rules"),
        (FILTERS_NOT_STRINGS, "filters:", "jobs[0].filters", "expected a list of filter rules"),
        (OPTIONS_A_LIST, "options:", "jobs[0].options", "expected a mapping of flag names to values"),
        (
            UNKNOWN_OPTION,
            "no_such_flag:",
            "jobs[1].options.no_such_flag",
            "unrecognized arguments: --no-such-flag=1",
        ),
        (
            OPTION_OF_ANOTHER_COMMAND,
            "max_delete:",
            "jobs[0].options.max_delete",
            "unrecognized arguments: --max-delete=5",
        ),
        (
            BAD_OPTION_VALUE,
            "max_delete: lots",
            "jobs[0].options.max_delete",
            "argument --max-delete: invalid int value: 'lots'",
        ),
        (BOOLEAN_WITH_A_VALUE, "checksum:", "jobs[0].options.checksum", "ignored explicit argument 'yes'"),
        (
            CONFLICTING_OPTIONS,
            "delete_after:",
            "jobs[0].options.delete_after",
            "argument --delete-after: not allowed with argument --delete-before",
        ),
        (OPTION_A_MAPPING, "max_delete:", "jobs[0].options.max_delete", "a plain value or a list"),
        (OPTION_LIST_OF_MAPPINGS, "exclude:", "jobs[0].options.exclude", "a list of plain values"),
        (
            WHOLE_COMMAND_LINE,
            "- name: a",
            "jobs[0]",
            "the following arguments are required: dest",
        ),
    ],
    ids=[
        "not-a-mapping",
        "unknown-key",
        "invalid-name",
        "name-not-a-string",
        "duplicate-name",
        "unknown-mode",
        "filters-a-string",
        "filters-not-strings",
        "options-a-list",
        "unknown-option",
        "option-of-another-command",
        "bad-option-value",
        "boolean-with-a-value",
        "conflicting-options",
        "option-a-mapping",
        "option-list-of-mappings",
        "whole-command-line",
    ],
)
def test_errors_name_the_file_line_and_key(
    tmp_path: Path, text: str, fragment: str, key: str, message: str
) -> None:
    occurrence = 2 if text is DUPLICATE_NAME else 1
    error = job_error(tmp_path, text)
    assert error.startswith(where(tmp_path, line_of(text, fragment, occurrence), key)), error
    assert message in error
    assert "\n" not in error


@pytest.mark.parametrize("missing", ["name", "mode", "source", "dest"])
def test_a_missing_required_key_names_the_jobs_line(tmp_path: Path, missing: str) -> None:
    fields = {"name": "a", "mode": "copy", "source": "/x", "dest": "/y"}
    lines = [f"{key}: {value}" for key, value in fields.items() if key != missing]
    text = "jobs:\n  - name: ok\n    mode: copy\n    source: /x\n    dest: /y\n  - " + "\n    ".join(lines)
    text = text.replace("name: a", "name: second")
    assert job_error(tmp_path, text) == f"{where(tmp_path, 6, f'jobs[1].{missing}')}missing"


@pytest.mark.parametrize(
    "key", ["log_file", "log-file", "log_level", "use_json_log", "verbose", "quiet", "config"]
)
def test_an_option_for_the_whole_run_is_refused_per_job(tmp_path: Path, key: str) -> None:
    text = f"""
        jobs:
          - name: a
            mode: sync
            source: /x
            dest: /y
            options:
              checksum: true
              {key}: x
    """
    error = job_error(tmp_path, text)
    expected = f"{where(tmp_path, line_of(text, key + ':'), f'jobs[0].options.{key}')}set for the whole run"
    assert error.startswith(expected), error


def test_the_first_bad_job_stops_the_validation(tmp_path: Path) -> None:
    text = """
        jobs:
          - name: a
            mode: copy
            source: /x
            dest: /y
            options: {max_delete: lots}
          - name: b
            mode: bogus
            source: /x
            dest: /y
    """
    error = job_error(tmp_path, text)
    assert error.startswith(where(tmp_path, line_of(text, "options:"), "jobs[0].options.max_delete")), error
    assert "bogus" not in error


@pytest.mark.parametrize("key", ["max_delet", "max_del"])
def test_an_abbreviated_option_name_is_an_unknown_option(tmp_path: Path, key: str) -> None:
    text = (
        f"jobs:\n  - name: a\n    mode: sync\n    source: /x\n    dest: /y\n    options:\n      {key}: 100\n"
    )
    error = job_error(tmp_path, text)  # the module docstring's own example: a prefix is not the flag
    flag = "--" + key.replace("_", "-")
    assert error == f"{where(tmp_path, 7, f'jobs[0].options.{key}')}unrecognized arguments: {flag}=100"


# -- validation: found wrong once, each with the test that would have caught it ----------------------------


@pytest.mark.parametrize("item", ["just a string", "null", "5", "[a, b]"])
def test_a_job_that_is_not_a_mapping_is_a_config_error(tmp_path: Path, item: str) -> None:
    text = f"jobs:\n  - {{name: a, mode: copy, source: /x, dest: /y}}\n  - {item}\n"
    error = job_error(tmp_path, text)
    assert error == f"{where(tmp_path, 3, 'jobs[1]')}expected a mapping with name, mode, source and dest"


@pytest.mark.parametrize(
    ("text", "fragment", "key"),
    [
        (
            "jobs:\n  - mode: copy\n    name: 'bad name'\n    source: /x\n    dest: /y\n",
            "name:",
            "jobs[0].name",
        ),
        ("jobs:\n  - name: a\n    mode: move\n    source: /x\n    dest: /y\n", "mode:", "jobs[0].mode"),
        (
            "jobs:\n  - name: a\n    mode: copy\n    source: /x\n    dest: /y\n    filters: '- *.tmp'\n",
            "filters:",
            "jobs[0].filters",
        ),
        (
            "jobs:\n  - name: a\n    mode: copy\n    source: /x\n    dest: /y\n    options: [checksum]\n",
            "options:",
            "jobs[0].options",
        ),
        (
            "jobs:\n  - {name: a, mode: copy, source: /x, dest: /y}\n  - mode: copy\n    name: a\n"
            "    source: /x\n    dest: /y\n",
            "    name: a",
            "jobs[1].name",
        ),
        (
            "jobs:\n  - name: a\n    mode: backup\n    source: /x\n    dest: /y\n    keep: 0\n",
            "keep:",
            "jobs[0].keep",
        ),
    ],
    ids=[
        "invalid-name",
        "unknown-mode",
        "filters-a-string",
        "options-a-list",
        "duplicate-name",
        "backup-keep",
    ],
)
def test_errors_name_the_line_of_the_key_even_when_it_is_not_the_jobs_first(
    tmp_path: Path, text: str, fragment: str, key: str
) -> None:
    error = job_error(tmp_path, text)
    assert error.startswith(where(tmp_path, line_of(text, fragment), key)), error


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("filters: {}", "filters"),
        ("filters: ''", "filters"),
        ("options: []", "options"),
        ("options: ''", "options"),
    ],
)
def test_an_empty_value_of_the_wrong_type_is_refused(tmp_path: Path, entry: str, key: str) -> None:
    text = f"jobs:\n  - name: a\n    mode: copy\n    source: /x\n    dest: /y\n    {entry}\n"
    assert f"jobs[0].{key}: expected a" in job_error(tmp_path, text)


def test_an_option_value_starting_with_a_dash_is_accepted(tmp_path: Path) -> None:
    text = "jobs:\n  - name: a\n    mode: sync\n    source: /x\n    dest: /y\n    options: {suffix: '-bak'}\n"
    job = load_jobs(tmp_path, text)[0]
    assert build_parser(only="sync").parse_args(list(job.argv)).suffix == "-bak"


def test_a_malformed_filter_rule_is_reported_when_the_config_is_loaded(tmp_path: Path) -> None:
    text = "jobs:\n  - name: a\n    mode: copy\n    source: /x\n    dest: /y\n    filters: ['*.tmp']\n"
    assert "jobs[0].filters" in job_error(tmp_path, text)


# -- worst_exit_code ----------------------------------------------------------------------------------------

#: rclone's exit codes, the most serious first
SEVERITY = [7, 2, 1, 3, 4, 5, 6, 9, 0]


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([], 0),
        ([0], 0),
        ([0, 0, 0], 0),
        ([0, 9], 9),
        ([9, 6, 0], 6),
        ([6, 5, 9], 5),
        ([5, 4], 4),
        ([4, 3, 5], 3),
        ([3, 1, 9], 1),
        ([1, 2, 3], 2),
        ([2, 7, 1], 7),
        ([0, 0, 7, 0], 7),
        ([42], 42),
        ([0, 42], 42),
        ([3, 42], 42),  # an unknown code ranks like 1 (a failure)
        ([9, 42, 6], 42),
        ([42, 2], 2),
        ([7, 42], 7),
    ],
)
def test_worst_exit_code(codes: list[int], worst: int) -> None:
    assert worst_exit_code(codes) == worst


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(SEVERITY, 2)))
def test_worst_exit_code_ranks_every_pair_in_either_order(a: int, b: int) -> None:
    assert worst_exit_code([a, b]) == a
    assert worst_exit_code([b, a]) == a


# -- reports ------------------------------------------------------------------------------------------------


def results() -> list[JobResult]:
    return [
        JobResult(
            "nightly", "sync", "/data/photos", "nas:photos",
            transfers=3, bytes=4096, checks=10, deletes=1, renames=2, duration_s=1.25,
        ),
        JobResult(
            "from-link", "copy", LINK, "/data/link", status="failed", exit_code=3,
            transfers=1, bytes=10, error_count=2, duration_s=2.5,
            errors=["a.txt: failed to copy: denied", "b.txt: failed to copy: gone"],
        ),
        JobResult("to-link", "check", "/data", LINK, status="failed", exit_code=7),
    ]  # fmt: skip


def test_json_report_has_every_job_its_counts_and_the_exit_code() -> None:
    text = json_report(results(), 7, 1_700_000_000.0)
    report = json.loads(text)

    assert report["exit_code"] == 7
    assert report["started"] == "2023-11-14T22:13:20Z"
    assert [job["name"] for job in report["jobs"]] == ["nightly", "from-link", "to-link"]
    nightly, from_link, to_link = report["jobs"]
    assert nightly == {
        "name": "nightly",
        "mode": "sync",
        "source": "/data/photos",
        "dest": "nas:photos",
        "status": "ok",
        "exit_code": 0,
        "transfers": 3,
        "bytes": 4096,
        "checks": 10,
        "deletes": 1,
        "renames": 2,
        "error_count": 0,
        "duration_s": 1.25,
        "errors": [],
    }
    assert (from_link["status"], from_link["exit_code"], from_link["error_count"]) == ("failed", 3, 2)
    assert from_link["errors"] == ["a.txt: failed to copy: denied", "b.txt: failed to copy: gone"]
    assert from_link["source"] == "https://mega.nz/folder/AbCdEfGh#***"
    assert to_link["dest"] == "https://mega.nz/folder/AbCdEfGh#***"
    assert LINK_KEY not in text


def test_json_report_of_no_jobs() -> None:
    report = json.loads(json_report([], 0, 0.0))
    assert report == {"started": "1970-01-01T00:00:00Z", "exit_code": 0, "jobs": []}


def test_junit_xml_has_a_testcase_per_job_and_failures_for_failed_jobs() -> None:
    text = junit_xml(results())
    suite = ET.fromstring(text.encode("utf-8"))

    assert text.startswith("<?xml")
    assert suite.tag == "testsuite"
    assert suite.attrib == {
        "name": "syncer jobs",
        "tests": "3",
        "failures": "2",
        "errors": "0",
        "time": "3.750",
    }
    cases = suite.findall("testcase")
    assert [(c.get("name"), c.get("classname"), c.get("time")) for c in cases] == [
        ("nightly", "syncer.sync", "1.250"),
        ("from-link", "syncer.copy", "2.500"),
        ("to-link", "syncer.check", "0.000"),
    ]
    nightly, from_link, to_link = cases
    assert nightly.find("failure") is None
    assert nightly.findtext("system-out") == (
        "sync /data/photos -> nas:photos: 3 transferred, 4096 bytes, 10 checked, 1 deleted, 0 errors"
    )
    failure = from_link.find("failure")
    assert failure is not None
    assert failure.get("message") == "b.txt: failed to copy: gone"  # the last error line
    assert failure.get("type") == "exit 3"
    assert failure.text == "a.txt: failed to copy: denied\nb.txt: failed to copy: gone"
    no_lines = to_link.find("failure")
    assert no_lines is not None
    assert no_lines.get("message") == "exit code 7"  # no error line logged: the exit code
    assert "https://mega.nz/folder/AbCdEfGh#***" in (from_link.findtext("system-out") or "")
    assert LINK_KEY not in text


def test_junit_xml_of_only_passing_jobs_has_no_failure() -> None:
    suite = ET.fromstring(junit_xml(results()[:1]))
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    assert suite.findall(".//failure") == []


def test_junit_xml_stays_well_formed_with_control_characters_in_an_error_line() -> None:
    result = JobResult(
        "a", "check", "/x", "/y", status="failed", exit_code=1, errors=["odd\x01name\x1b[0m: failed to check"]
    )
    suite = ET.fromstring(junit_xml([result]).encode("utf-8"))
    assert suite.get("failures") == "1"


def test_a_junit_report_with_a_non_utf8_file_name_can_be_written(tmp_path: Path) -> None:
    result = JobResult(
        "a", "check", "/x", "/y", status="failed", exit_code=1, errors=["caf\udce9.txt: failed to check"]
    )
    target = tmp_path / "reports" / "junit.xml"
    write_report(str(target), junit_xml([result]))
    assert ET.parse(target).getroot().get("failures") == "1"


def test_write_report_creates_the_directory_and_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "deep" / "run.json"
    write_report(str(target), '{"exit_code": 0}\n')
    assert target.read_text(encoding="utf-8") == '{"exit_code": 0}\n'
    assert target.stat().st_mode & 0o777 == 0o600


# -- by_name ------------------------------------------------------------------------------------------------


def make_jobs(*names: str) -> list[Job]:
    return [Job(name, "copy", "/x", f"/{name}", ("copy", "/x", f"/{name}")) for name in names]


def test_by_name_without_names_is_every_job_in_order() -> None:
    jobs = make_jobs("a", "b", "c")
    assert by_name(jobs, []) == jobs
    assert by_name(jobs, []) is not jobs  # a new list


def test_by_name_keeps_the_order_asked() -> None:
    jobs = make_jobs("a", "b", "c")
    assert [job.name for job in by_name(jobs, ["c", "a"])] == ["c", "a"]
    assert by_name(jobs, ["b"]) == [jobs[1]]


def test_by_name_of_an_unknown_job_names_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        by_name(make_jobs("a", "b", "c"), ["b", "nope"])
    assert str(info.value) == "no job named 'nope' in the config (jobs: a, b, c)"


def test_by_name_with_no_jobs_says_none() -> None:
    with pytest.raises(ValueError, match=r"no job named 'x' in the config \(jobs: none\)"):
        by_name([], ["x"])


# -- shown_location -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ("/data/photos", "/data/photos"),
        ("relative/dir", "relative/dir"),
        ("/data/#hash#dir", "/data/#hash#dir"),  # a '#' in a path is not a link key
        ("nas:backup/photos", "nas:backup/photos"),
        ("nas:dir#1", "nas:dir#1"),
        (":local:/tmp/x", ":local:/tmp/x"),
        ("https://mega.nz/folder/AbCdEfGh", "https://mega.nz/folder/AbCdEfGh"),  # no key to hide
        (LINK, "https://mega.nz/folder/AbCdEfGh#***"),
        ("https://mega.nz/file/AbCdEfGh#FiLeKeY", "https://mega.nz/file/AbCdEfGh#***"),
        (
            "https://mega.nz/folder/AbCdEfGh#SeCrEtKeY123/folder/SubHndl",
            "https://mega.nz/folder/AbCdEfGh#***",
        ),
        ("https://mega.nz/#F!AbCdEfGh!SeCrEtKeY123", "https://mega.nz/#***"),
        ("https://mega.nz/#!AbCdEfGh!SeCrEtKeY123", "https://mega.nz/#***"),
        ("https://mega.co.nz/#F!AbCdEfGh!SeCrEtKeY123", "https://mega.co.nz/#***"),
    ],
)
def test_shown_location(spec: str, shown: str) -> None:
    assert shown_location(spec) == shown
    assert "SeCrEtKeY123" not in shown_location(spec)


def test_environment_variables_are_filled_in_as_everywhere_in_the_file(tmp_path: Path) -> None:
    from syncer.config_loader import Validator

    text = yaml_text(
        """
        jobs:
          - name: a
            mode: sync
            source: ${DATA}/photos
            dest: remote:${WHERE}
            filters: ["- ${SKIP}"]
            options:
              exclude: ["${SKIP}.bak"]
              suffix: $${literal}
        """
    )
    env = {"DATA": "/srv", "WHERE": "backup", "SKIP": "*.tmp"}
    config = load_config(_written(tmp_path, text), env, default_registry())
    (job,) = jobs_of(config, _validator(), Validator(config.path, env, default_registry()).interpolate)
    assert job.argv == (
        "sync", "/srv/photos", "remote:backup",
        "--filter=- *.tmp", "--exclude=*.tmp.bak", "--suffix=${literal}",
    )  # fmt: skip
    missing = {k: v for k, v in env.items() if k != "WHERE"}
    with pytest.raises(ConfigError) as info:
        jobs_of(config, _validator(), Validator(config.path, missing, default_registry()).interpolate)
    assert str(info.value).startswith(f"{config.path}:{line_of(text, 'dest:')}: jobs[0].dest: ")
    assert "'WHERE' is not set" in str(info.value)


def _written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path
