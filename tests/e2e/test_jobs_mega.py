"""``syncer jobs run`` against the emulator, through the real CLI: a local->MEGA sync, a MEGA->local copy, a
check, a backup keeping 3 snapshots and a job pointed at a missing folder, in one jobs file. The reports
(JSON and JUnit) list every job with the right counts, the failing job does not stop the others, the exit
code is the worst job's, and the account's password appears in no report and no log.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from .helpers import build_tree
from .mega_support import Mega, lsjson

FILES = {"a.txt": b"alpha", "docs/b.txt": b"bravo", "docs/c.txt": b"charlie", "skip.tmp": b"not this"}


def _jobs_file(mega: Mega, tmp_path: Path, source: Path) -> Path:
    config = tmp_path / "jobs.yaml"
    config.write_text(
        mega.run.default_config.read_text()
        + f"""
jobs:
  - name: up
    mode: sync
    source: {source}
    dest: emu:mirror
    filters: ["- *.tmp"]
    options:
      max_delete: 10
  - name: down
    mode: copy
    source: emu:mirror
    dest: {tmp_path / "restored"}
  - name: verify
    mode: check
    source: {source}
    dest: emu:mirror
    filters: ["- *.tmp"]
  - name: snapshots
    mode: backup
    source: {source}
    dest: emu:backups
    keep: 3
  - name: broken
    mode: copy
    source: {tmp_path / "no-such-folder"}
    dest: emu:elsewhere
"""
    )
    return config


def test_jobs_run_against_mega_with_reports(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", FILES).root
    config = _jobs_file(mega, tmp_path, source)
    log_file = tmp_path / "jobs.log"

    listed = mega.run("--config", config, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [
        "up",
        "down",
        "verify",
        "snapshots",
        "broken",
    ]

    done = mega.run(
        "--config", config, "--log-file", log_file, "-v",
        "jobs", "run", "--report", tmp_path / "report.json", "--junit", tmp_path / "junit.xml",
        env={"CI": "true"},
    )  # fmt: skip
    assert done.returncode == 3, done.stderr  # the missing folder: directory not found, the worst code
    report = json.loads((tmp_path / "report.json").read_text())
    jobs = {job["name"]: job for job in report["jobs"]}
    assert list(jobs) == ["up", "down", "verify", "snapshots", "broken"]
    assert report["exit_code"] == 3
    assert {name: job["status"] for name, job in jobs.items()} == {
        "up": "ok",
        "down": "ok",
        "verify": "ok",
        "snapshots": "ok",
        "broken": "failed",
    }
    assert jobs["up"]["transfers"] == 3 and jobs["up"]["bytes"] == len(b"alpha" + b"bravo" + b"charlie")
    assert jobs["down"]["transfers"] == 3
    assert jobs["verify"]["checks"] == 3 and jobs["verify"]["transfers"] == 0
    assert jobs["snapshots"]["transfers"] == 4  # a first snapshot: everything, the .tmp file too
    assert jobs["broken"]["exit_code"] == 3 and "directory not found" in jobs["broken"]["errors"][-1]
    assert {p for p, i in lsjson(mega.run, "emu:mirror").items() if not i["IsDir"]} == {
        "a.txt",
        "docs/b.txt",
        "docs/c.txt",
    }
    assert (tmp_path / "restored" / "docs" / "c.txt").read_bytes() == b"charlie"

    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == "5" and suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["up", "down", "verify", "snapshots", "broken"]
    assert [name for name, case in cases.items() if case.find("failure") is not None] == ["broken"]
    assert "3 transferred" in (cases["up"].findtext("system-out") or "")

    # no secret anywhere: reports, the log file, the console
    for text in (
        (tmp_path / "report.json").read_text(),
        (tmp_path / "junit.xml").read_text(),
        log_file.read_text(),
        done.stdout,
        done.stderr,
    ):
        assert mega.password not in text


def test_a_backup_job_run_five_times_keeps_three_complete_snapshots(mega: Mega, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"version 0", "same.txt": b"never changes"}).root
    config = _jobs_file(mega, tmp_path, source)
    for round_number in range(1, 6):
        (source / "a.txt").write_bytes(f"version {round_number}".encode())
        stamp = 1_700_000_000 * 10**9 + round_number * 10 * 10**9  # MEGA keeps whole seconds
        os.utime(source / "a.txt", ns=(stamp, stamp))
        done = mega.run("--config", config, "jobs", "run", "snapshots", "-v")
        assert done.returncode == 0, done.stderr
        if round_number > 1:  # the unchanged file is copied on MEGA from the last snapshot, not uploaded
            assert "1 unchanged files copied" in done.stderr, done.stderr
    listed = mega.run("backup", "list", "emu:backups")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert len(rows) == 3 and all(row[1] == "complete" for row in rows), listed.stdout
    newest = rows[-1][0]
    assert mega.run("cat", f"emu:backups/{newest}/a.txt").stdout == "version 5"
    assert mega.run("cat", f"emu:backups/{rows[0][0]}/a.txt").stdout == "version 3"
