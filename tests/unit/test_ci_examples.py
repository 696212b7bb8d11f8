"""examples/ci: the CI workflows and their syncer config agree, and the config passes syncer's own checks.

Each workflow's ``syncer ... jobs run [NAME...]`` lines are found (GitHub steps' ``run``, GitLab jobs'
``before_script``/``script``/``after_script``), split with shlex and parsed by syncer's own argument parser:
they must pass ``examples/ci/syncer.yaml``, name only its jobs, and keep the MEGA password out of every
command line (it comes from the CI's secret store through the environment, as ``${MEGA_PASSWORD}``).
"""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends import default_registry
from backends.errors import ConfigError
from syncer.cli import build_parser
from syncer.config import load_config
from syncer.job_runner import _validator
from syncer.jobs import Job, jobs_of

ROOT = Path(__file__).resolve().parents[2]
CI_DIR = ROOT / "examples" / "ci"
CONFIG = CI_DIR / "syncer.yaml"
GITHUB = CI_DIR / "github-actions.yml"
GITLAB = CI_DIR / "gitlab-ci.yml"
WORKFLOWS = (GITHUB, GITLAB)

TEST_ENV = {"MEGA_USER": "ci-test@example.com", "MEGA_PASSWORD": "test-only-not-a-password"}
#: flags that would put a password on the command line (syncer refuses them; a workflow must not try)
PASSWORD_FLAGS = ("--mega-pass", "--mega-password", "--pass", "--password")
#: GitLab's global keywords: every other top-level key not starting with '.' is a job
GITLAB_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache"}
    | {"before_script", "after_script", "spec"}
)
SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;"})
SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN", re.IGNORECASE)
GITHUB_SECRET = re.compile(r"^\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$")
GITLAB_REFERENCE = re.compile(r"^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$")


@dataclass
class Site:
    """Where commands run: one GitHub step or one GitLab job, with the environment the file gives it."""

    file: Path
    where: str
    scripts: list[str]
    env: dict[str, Any]


@dataclass
class Invocation:
    site: Site
    line: str
    argv: list[str]


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def _script_items(value: Any) -> list[str]:
    """A ``run`` string or a GitLab script: a string or a (possibly nested) list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _script_items(item)]
    raise AssertionError(f"unexpected script value {value!r}")


def github_sites(doc: dict[str, Any]) -> list[Site]:
    sites = []
    for job_id, job in (doc.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            env = {**(doc.get("env") or {}), **(job.get("env") or {}), **(step.get("env") or {})}
            where = f"jobs.{job_id}.steps[{index}]"
            sites.append(Site(GITHUB, where, _script_items(step.get("run")), env))
    return sites


def gitlab_jobs(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in doc.items()
        if name not in GITLAB_KEYWORDS and not str(name).startswith(".") and isinstance(job, dict)
    }


def gitlab_sites(doc: dict[str, Any]) -> list[Site]:
    default = doc.get("default") or {}
    sites = []
    for name, job in gitlab_jobs(doc).items():
        scripts = []
        for key in ("before_script", "script", "after_script"):
            scripts += _script_items(job[key] if key in job else default.get(key) or doc.get(key))
        env = {**(doc.get("variables") or {}), **(job.get("variables") or {})}
        sites.append(Site(GITLAB, name, scripts, env))
    return sites


def sites_of(path: Path) -> list[Site]:
    doc = load_yaml(path)
    return github_sites(doc) if path == GITHUB else gitlab_sites(doc)


def command_lines(script: str) -> list[str]:
    """The logical lines of a shell script (backslash continuations joined)."""
    return [line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip()]


def simple_commands(line: str) -> list[list[str]]:
    """A shell line split with shlex into its simple commands (at ``&&``, ``||``, ``;``, ``|``)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in SHELL_OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def syncer_argv(command: list[str]) -> list[str] | None:
    """The arguments of a ``syncer ...`` (or ``python -m syncer ...``) command, else None."""
    words = list(command)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)  # VAR=value prefixes
    if words and Path(words[0]).name == "syncer":
        return words[1:]
    if len(words) >= 3 and Path(words[0]).name.startswith("python") and words[1:3] == ["-m", "syncer"]:
        return words[3:]
    return None


def invocations(path: Path) -> list[Invocation]:
    found = []
    for site in sites_of(path):
        for script in site.scripts:
            for line in command_lines(script):
                for command in simple_commands(line):
                    argv = syncer_argv(command)
                    if argv is not None:
                        found.append(Invocation(site, line, argv))
    return found


def jobs_runs(path: Path) -> list[tuple[Invocation, Any]]:
    """Every ``syncer ... jobs run`` of the workflow, with its arguments as syncer's parser reads them."""
    runs = []
    for call in invocations(path):
        args = build_parser().parse_args(call.argv)
        if args.command == "jobs" and args.jobs_command == "run":
            runs.append((call, args))
    return runs


def config_jobs(env: dict[str, str] | None = None) -> list[Job]:
    config = load_config(CONFIG, TEST_ENV if env is None else env, default_registry())
    return jobs_of(config, _validator())


def _github_doc() -> dict[str, Any]:
    return load_yaml(GITHUB)


def _gitlab_job() -> tuple[str, dict[str, Any]]:
    jobs = gitlab_jobs(load_yaml(GITLAB))
    running = [name for name in jobs if any(call.site.where == name for call, _ in jobs_runs(GITLAB))]
    assert len(running) == 1, f"{GITLAB.name}: expected one job running 'syncer jobs run', got {running}"
    return running[0], jobs[running[0]]


@pytest.mark.parametrize("path", [*WORKFLOWS, CONFIG], ids=lambda p: p.name)
def test_files_parse_as_yaml(path: Path) -> None:
    assert isinstance(load_yaml(path), dict)


def test_config_loads_and_its_jobs_validate() -> None:
    jobs = config_jobs()
    assert [job.mode for job in jobs] == ["sync", "check", "copy"]
    mirror, check, restore = jobs
    assert any(arg.startswith("--max-delete=") for arg in mirror.argv)
    assert mirror.dest.startswith("mega:") and not mirror.source.startswith("mega:")
    assert (check.source, check.dest) == (mirror.source, mirror.dest)
    # the check leaves out what the mirror leaves out, or it would report the excluded files missing
    rules = [arg for arg in mirror.argv if arg.startswith("--filter=")]
    assert rules and [arg for arg in check.argv if arg.startswith("--filter=")] == rules
    assert restore.source.startswith("mega:") and not restore.dest.startswith("mega:")
    assert all(job.description for job in jobs)


def _long_flags(mode: str) -> set[str]:
    """Every long flag of syncer's ``mode`` command, spelled out."""
    parser = build_parser(only=mode)
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {flag for flag in commands.choices[mode]._option_string_actions if flag.startswith("--")}


def test_config_options_are_whole_flag_names() -> None:
    """argparse takes a flag's prefix (``max_delet`` for ``--max-delete``, ``checks`` for ``--checksum``),
    so job validation alone would let a misspelt option through: the example spells each one out."""
    for index, job in enumerate(load_yaml(CONFIG)["jobs"]):
        flags = _long_flags(job["mode"])
        for key in job.get("options") or {}:
            flag = "--" + str(key).replace("_", "-")
            assert flag in flags, f"jobs[{index}].options.{key}: {flag} is not a flag of syncer {job['mode']}"


def test_config_takes_the_credentials_from_the_environment_only() -> None:
    mega = load_yaml(CONFIG)["remotes"]["mega"]
    assert mega["type"] == "mega"
    assert mega["user"] == "${MEGA_USER}"
    assert mega["pass"] == "${MEGA_PASSWORD}"
    with pytest.raises(ConfigError, match="MEGA_PASSWORD"):
        config_jobs({"MEGA_USER": TEST_ENV["MEGA_USER"]})


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_runs_only_jobs_of_its_config(path: Path) -> None:
    runs = jobs_runs(path)
    assert runs, f"{path.name}: no 'syncer ... jobs run' command found"
    defined = [job.name for job in config_jobs()]
    for call, args in runs:
        config = args.config or call.site.env.get("SYNCER_CONFIG")
        assert config, f"{path.name} {call.site.where}: {call.line!r} names no --config"
        assert (ROOT / config).resolve() == CONFIG.resolve(), f"{call.line!r}: --config {config}"
        unknown = [name for name in args.names if name not in defined]
        assert not unknown, f"{path.name}: {call.line!r} runs jobs {unknown} not in {CONFIG.name} ({defined})"
        if not args.names:
            assert defined, f"{call.line!r} runs every job, and {CONFIG.name} has none"
        assert args.report and args.junit, f"{call.line!r}: expected --report and --junit"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_password_on_any_command_line(path: Path) -> None:
    for site in sites_of(path):
        for script in site.scripts:
            for line in command_lines(script):
                for command in simple_commands(line):
                    for word in command:
                        flag = word.split("=", 1)[0]
                        assert flag not in PASSWORD_FLAGS, f"{path.name} {site.where}: {line!r} passes {flag}"
                        name, sep, value = word.partition("=")
                        if sep and SECRET_NAME.search(name) and not name.startswith("-"):
                            assert value.startswith("$"), f"{path.name}: {line!r} sets {name} in clear"
                assert TEST_ENV["MEGA_PASSWORD"] not in line


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_secret_set_in_clear_in_the_environment(path: Path) -> None:
    pattern = GITHUB_SECRET if path == GITHUB else GITLAB_REFERENCE
    for site in sites_of(path):
        for name, value in site.env.items():
            if SECRET_NAME.search(str(name)):
                value = value.get("value") if isinstance(value, dict) else value  # GitLab's long form
                assert pattern.match(str(value)), f"{path.name} {site.where}: {name}: {value!r} is no secret"


def test_github_takes_the_password_from_its_secrets() -> None:
    runs = jobs_runs(GITHUB)
    for call, _ in runs:
        assert GITHUB_SECRET.match(str(call.site.env.get("MEGA_PASSWORD", ""))), (
            f"{call.site.where}: MEGA_PASSWORD must be ${{{{ secrets.... }}}}, got {call.site.env}"
        )
        assert re.match(r"^\$\{\{\s*(secrets|vars)\.\w+\s*\}\}$", str(call.site.env.get("MEGA_USER", "")))


def test_github_workflow_shape() -> None:
    doc = _github_doc()
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"]
    assert "workflow_dispatch" in triggers
    (job,) = doc["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    steps = job["steps"]
    assert any(str(step.get("uses", "")).startswith("actions/checkout@") for step in steps)
    (python,) = [step for step in steps if str(step.get("uses", "")).startswith("actions/setup-python@")]
    assert str(python["with"]["python-version"]) == "3.11"
    installs = [step["run"] for step in steps if "pip install" in str(step.get("run", ""))]
    assert installs and shlex.split(installs[0])[-1] == ".", "syncer is installed from the checkout"
    ((_, args),) = jobs_runs(GITHUB)
    (upload,) = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()"
    assert {args.report, args.junit} <= set(upload["with"]["path"].split())


def test_gitlab_job_declares_its_junit_report_and_runs_on_schedules() -> None:
    name, job = _gitlab_job()
    ((_, args),) = jobs_runs(GITLAB)
    artifacts = job["artifacts"]
    assert artifacts["reports"]["junit"] == args.junit
    assert artifacts["when"] == "always"
    assert args.report in artifacts["paths"]
    assert any("schedule" in str(rule.get("if", "")) for rule in job["rules"]), f"{name}: no schedule rule"


def test_gitlab_takes_the_password_from_a_variable() -> None:
    name, job = _gitlab_job()
    doc = load_yaml(GITLAB)
    for variables in (doc.get("variables") or {}, job.get("variables") or {}):
        if "MEGA_PASSWORD" in variables:  # only as a reference to a CI/CD variable, never a value
            assert GITLAB_REFERENCE.match(str(variables["MEGA_PASSWORD"]))
    scripts = "\n".join(next(site for site in gitlab_sites(doc) if site.where == name).scripts)
    assert re.search(r"\$\{?MEGA_PASSWORD\b", scripts), f"{name}: MEGA_PASSWORD is never used"
