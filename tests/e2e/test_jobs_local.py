"""``syncer jobs`` on local folders through the real CLI: a job error names the file, line and key and
nothing runs; ``jobs run NAME`` runs only that job; ``jobs run --schedule`` runs jobs on short intervals
until SIGINT stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

from .conftest import SYNCER, Runner
from .helpers import build_tree


def _config(tmp_path: Path, jobs: str) -> Path:
    path = tmp_path / "jobs.yaml"
    path.write_text("jobs:\n" + jobs)
    return path


def test_a_bad_job_is_reported_with_its_line_and_nothing_runs(run: Runner, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha"}).root
    config = _config(
        tmp_path,
        f"""  - name: good
    mode: copy
    source: {source}
    dest: {tmp_path / "out"}
  - name: typo
    mode: sync
    source: {source}
    dest: {tmp_path / "out2"}
    options:
      max_delet: 5
""",
    )
    done = run("--config", config, "jobs", "run")
    assert done.returncode == 2
    assert f"{config}:11: jobs[1].options.max_delet:" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # validated before any job ran


def test_jobs_run_names_only_those_jobs(run: Runner, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha"}).root
    config = _config(
        tmp_path,
        f"""  - {{name: one, mode: copy, source: {source}, dest: {tmp_path / "one"}}}
  - {{name: two, mode: copy, source: {source}, dest: {tmp_path / "two"}}}
""",
    )
    done = run("--config", config, "jobs", "run", "two")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "two" / "a.txt").exists() and not (tmp_path / "one").exists()
    unknown = run("--config", config, "jobs", "run", "three")
    assert unknown.returncode == 2 and "no job named 'three'" in unknown.stderr


def test_schedule_runs_jobs_when_due_until_interrupted(run: Runner, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha"}).root
    config = _config(
        tmp_path,
        f"""  - name: tick
    mode: copy
    source: {source}
    dest: {tmp_path / "ticked"}
    schedule: every 1s
  - name: manual
    mode: copy
    source: {source}
    dest: {tmp_path / "manual"}
""",
    )
    proc = subprocess.Popen(
        [SYNCER, "--config", str(config), "jobs", "run", "--schedule"],
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        lines.extend(proc.stderr)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while sum("Job tick: due" in line for line in lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum("Job tick: due" in line for line in lines) >= 3, "".join(lines)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    text = "".join(lines)
    assert "Job manual has no schedule" in text
    assert "Stopped the schedule" in text
    assert (tmp_path / "ticked" / "a.txt").read_bytes() == b"alpha"
    assert not (tmp_path / "manual").exists()
