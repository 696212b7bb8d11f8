"""MEGA remote options through the real CLI against the emulator: ``--mega-*`` flags and ``SYNCER_MEGA_*``
variables (on configured and on-the-fly remotes, with their precedence), the two-factor code (flag, prompt,
and the one-line errors), ``use_https`` over TLS, and ``debug`` logging without secrets.

The emulator runs in this process on 127.0.0.1; ``syncer`` runs as a subprocess with stdin on /dev/null
unless a test gives it a terminal, so nothing here can wait for input.
"""

from __future__ import annotations

import json
import os
import pty
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backends.mega.emulator.tls import self_signed

from .conftest import SYNCER, Runner
from .helpers import assert_one_error_line, build_tree

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@dataclass
class Account:
    email: str
    password: str


def _new_account(emulator: Any, mfa_secret: str | None = None) -> Account:
    account = Account(f"opt-{secrets.token_hex(5)}@example.com", secrets.token_urlsafe(12))
    emulator.add_account(account.email, account.password, mfa_secret=mfa_secret)
    return account


def syncer(
    run: Runner, *args: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``syncer ARGS`` in the test's environment with stdin on /dev/null (no terminal: nobody to ask)."""
    done = subprocess.run(
        [SYNCER, *(os.fspath(a) for a in args)],
        env={**run.env, **(env or {})},
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )


# -- flags and environment ----------------------------------------------------------------------------------


def test_on_the_fly_remote_from_flags_with_the_password_in_the_environment(
    emulator: Any, run: Runner
) -> None:
    account = _new_account(emulator)
    flags = ("--mega-user", account.email, f"--mega-api-url={emulator.api_url}")
    env = {"SYNCER_MEGA_PASS": account.password}
    assert syncer(run, "mkdir", ":mega:made/here", *flags, env=env).returncode == 0
    listed = syncer(run, "lsf", "-R", ":mega:", *flags, env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["made/", "made/here/"]
    assert account.password not in listed.stderr


def test_everything_from_the_environment_with_a_pass_command(
    emulator: Any, run: Runner, tmp_path: Path
) -> None:
    account = _new_account(emulator)
    secret_file = tmp_path / "pw"
    secret_file.write_text(account.password + "\n")
    env = {
        "SYNCER_MEGA_USER": account.email,
        "SYNCER_MEGA_API_URL": emulator.api_url,
        "SYNCER_MEGA_PASS_COMMAND": f"cat {secret_file}",
    }
    assert syncer(run, "mkdir", ":mega:via-env", env=env).returncode == 0
    listed = syncer(run, "lsf", ":mega:", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "via-env/\n"


def test_flags_beat_the_environment_which_beats_the_config_file(emulator: Any, run: Runner) -> None:
    account = _new_account(emulator)
    other = _new_account(emulator)
    run.default_config.parent.mkdir(parents=True, exist_ok=True)
    run.default_config.write_text(
        "remotes:\n  emu:\n    type: mega\n    user: nobody@example.com\n    pass: ${MEGA_PASS}\n"
        f"    api_url: {emulator.api_url}\n"
    )
    env = {"MEGA_PASS": account.password}
    # the config's user does not exist
    refused = syncer(run, "lsf", "emu:", env=env)
    assert_one_error_line(refused, 7, "wrong e-mail or password")
    # the environment names the right one
    assert syncer(run, "mkdir", "emu:mine", env={**env, "SYNCER_MEGA_USER": account.email}).returncode == 0
    # a flag overrides the environment: another account (whose password is not the one given)
    overridden = syncer(
        run, "lsf", "emu:", "--mega-user", other.email, env={**env, "SYNCER_MEGA_USER": account.email}
    )
    assert_one_error_line(overridden, 7, "wrong e-mail or password")
    # and back: the environment's user, with the flag for a bool option
    listed = syncer(run, "lsf", "emu:", "--mega-hard-delete", env={**env, "SYNCER_MEGA_USER": account.email})
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "mine/\n"


def test_a_password_flag_is_refused_without_echoing_it(run: Runner) -> None:
    for attempt in (
        ("--mega-pass", "hunter2-xyz"),
        ("--mega-pass=hunter2-xyz",),
        ("--mega-pass-command", "x"),
    ):
        done = syncer(run, "lsf", ":mega:", *attempt)
        line = assert_one_error_line(done, 2, "SYNCER_MEGA_PASS", "pass_command", "${")
        assert "hunter2" not in done.stderr, line


@pytest.mark.parametrize(
    ("flag", "needles"),
    [
        ("--mega-use-https=perhaps", ("--mega-use-https", "expected true or false")),
        ("--mega-encoding=utf7", ("--mega-encoding", "expected one of lookalike, raw")),
        ("--mega-chunk-transfers=many", ("--mega-chunk-transfers", "expected an integer")),
        ("--mega-usr=x", ("unknown flag --mega-usr", "--mega-user")),
    ],
)
def test_bad_flags_are_one_line_usage_errors(run: Runner, flag: str, needles: tuple[str, ...]) -> None:
    assert_one_error_line(syncer(run, "lsf", ":mega:", flag), 2, *needles)


def test_bad_variables_are_one_line_config_errors(run: Runner) -> None:
    done = syncer(run, "lsf", ":mega:", env={"SYNCER_MEGA_HARD_DELETE": "sometimes"})
    assert_one_error_line(done, 2, "SYNCER_MEGA_HARD_DELETE", "expected true or false")
    done = syncer(run, "lsf", ":mega:", env={"SYNCER_MEGA_USR": "x"})
    assert_one_error_line(done, 2, "unknown variable SYNCER_MEGA_USR")


def test_a_bool_flag_does_not_swallow_the_next_word(run: Runner, tmp_path: Path) -> None:
    source = build_tree(tmp_path / "src", {"f.txt": b"data"})
    done = syncer(run, "copy", "--local-copy-links", source.root, tmp_path / "dst")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "dst" / "f.txt").read_bytes() == b"data"


def test_help_lists_the_backend_flags_but_no_password_flag(run: Runner) -> None:
    shown = syncer(run, "--help")
    assert shown.returncode == 0, shown.stderr
    for flag in ("--mega-user", "--mega-2fa", "--mega-api-url", "--mega-hard-delete", "--mega-use-https",
                 "--mega-encoding", "--mega-debug", "--local-copy-links"):  # fmt: skip
        assert flag in shown.stdout
    assert "--mega-pass" not in shown.stdout
    assert "SYNCER_MEGA_PASS" in shown.stdout


def test_backends_are_imported_only_when_their_flags_or_variables_appear(tmp_path: Path) -> None:
    """Start-up: a local listing does not pay for importing the MEGA stack to build its flags."""
    probe = (
        "import sys\nfrom syncer.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('backends.mega.backend' in sys.modules, code, file=sys.stderr)\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}

    def imported(*args: str, **extra: str) -> bool:
        done = subprocess.run(
            [sys.executable, "-c", probe, *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        verdict, code = done.stderr.strip().splitlines()[-1].split()
        assert code == "0", done.stderr
        return verdict == "True"

    assert not imported("lsf", str(tmp_path))
    assert not imported("lsf", str(tmp_path), "--local-copy-links")
    assert imported("lsf", str(tmp_path), "--mega-debug")  # the flag is checked at once
    # a variable is read when a remote of its type is opened: one in a shell profile costs others nothing
    assert not imported("lsf", str(tmp_path), SYNCER_MEGA_DEBUG="true", SYNCER_MEGA_USER="me@example.com")


# -- two-factor login ---------------------------------------------------------------------------------------


def _current_code() -> str:
    from backends.mega.emulator.totp import totp

    return totp(TOTP_SECRET)


def _wrong_code() -> str:
    """A code the server refuses now and for the next minute (it accepts one step either side)."""
    from backends.mega.emulator.totp import totp

    now = time.time()
    valid = {totp(TOTP_SECRET, now + step * 30) for step in range(-2, 4)}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in valid)


@pytest.fixture
def mfa_account(emulator: Any) -> Account:
    return _new_account(emulator, mfa_secret=TOTP_SECRET)


def _mfa_flags(emulator: Any, account: Account) -> tuple[str, ...]:
    return ("--mega-user", account.email, "--mega-api-url", emulator.api_url)


def test_2fa_code_from_the_flag_logs_in(emulator: Any, run: Runner, mfa_account: Account) -> None:
    env = {"SYNCER_MEGA_PASS": mfa_account.password}
    done = syncer(
        run, "mkdir", ":mega:in", *_mfa_flags(emulator, mfa_account), "--mega-2fa", _current_code(), env=env
    )
    assert done.returncode == 0, done.stderr
    # the session is cached: the next command needs no code
    listed = syncer(run, "lsf", ":mega:", *_mfa_flags(emulator, mfa_account), env=env)
    assert (listed.returncode, listed.stdout) == (0, "in/\n"), listed.stderr


def test_2fa_wrong_code_is_a_one_line_error(emulator: Any, run: Runner, mfa_account: Account) -> None:
    env = {"SYNCER_MEGA_PASS": mfa_account.password}
    done = syncer(
        run, "lsf", ":mega:", *_mfa_flags(emulator, mfa_account), f"--mega-2fa={_wrong_code()}", env=env
    )
    assert_one_error_line(done, 7, "refused the two-factor code", "--mega-2fa")


def test_2fa_missing_code_without_a_terminal_says_which_flag(
    emulator: Any, run: Runner, mfa_account: Account
) -> None:
    env = {"SYNCER_MEGA_PASS": mfa_account.password}
    done = syncer(run, "lsf", ":mega:", *_mfa_flags(emulator, mfa_account), env=env)
    assert_one_error_line(done, 7, "needs a two-factor code", "--mega-2fa")


def _read_until(fd: int, wanted: bytes, deadline: float) -> bytes:
    """What the terminal shows until ``wanted`` appears (or the child closes it, or time runs out)."""
    seen = b""
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child has closed its side
            break
        if not chunk:
            break
        seen += chunk
    return seen


def _on_a_terminal(
    run: Runner, args: list[str], env: Mapping[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """``syncer ARGS`` with a pseudo-terminal as stdin, stdout and stderr; returns it and the master side."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [SYNCER, *args],
        env={**run.env, **env},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    return process, master


def test_2fa_prompt_on_a_terminal_reads_the_code_without_echo(
    emulator: Any, run: Runner, mfa_account: Account
) -> None:
    env = {"SYNCER_MEGA_PASS": mfa_account.password}
    args = ["mkdir", ":mega:asked", *_mfa_flags(emulator, mfa_account)]
    process, master = _on_a_terminal(run, args, env)
    try:
        deadline = time.monotonic() + 30
        shown = _read_until(master, b"two-factor code", deadline)
        assert b"two-factor code" in shown, shown
        code = _current_code()
        os.write(master, code.encode() + b"\n")
        shown += _read_until(master, b"\x00never", deadline)  # everything until the child exits
        assert process.wait(timeout=max(1.0, deadline - time.monotonic())) == 0, shown
        assert code.encode() not in shown  # typed without echo
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    listed = syncer(run, "lsf", ":mega:", *_mfa_flags(emulator, mfa_account), env=env)
    assert listed.stdout == "asked/\n", listed.stderr


def test_2fa_no_prompt_in_ci_even_on_a_terminal(emulator: Any, run: Runner, mfa_account: Account) -> None:
    env = {"SYNCER_MEGA_PASS": mfa_account.password, "CI": "true"}
    process, master = _on_a_terminal(run, ["lsf", ":mega:", *_mfa_flags(emulator, mfa_account)], env)
    try:
        shown = _read_until(master, b"\x00never", time.monotonic() + 30)
        assert process.wait(timeout=30) == 7, shown
        assert b"needs a two-factor code" in shown
        assert b"MEGA two-factor code for" not in shown  # never asked
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


# -- debug ------------------------------------------------------------------------------------------------


def test_debug_logs_commands_and_answers_but_no_secret(emulator: Any, run: Runner, tmp_path: Path) -> None:
    account = _new_account(emulator)
    flags = ("--mega-user", account.email, "--mega-api-url", emulator.api_url, "--mega-debug", "-vv")
    env = {"SYNCER_MEGA_PASS": account.password}
    source = build_tree(tmp_path / "src", {"a.txt": b"alpha"})
    done = syncer(run, "copy", source.root, ":mega:dbg", *flags, env=env)
    assert done.returncode == 0, done.stderr
    log = done.stderr
    for command in ('"a":"us0"', '"a":"us"', '"a":"f"', '"a":"u"', '"a":"p"'):
        assert command in log, command
    assert "cs answer to us:" in log

    (session_file,) = (run.state_home / "syncer" / "mega" / "sessions").glob("*.json")
    session = json.loads(session_file.read_text())
    for secret in (account.password, session["sid"], session["master_key"], session["privk"]):
        assert secret and secret not in log
    assert account.email not in log  # not a secret, but nothing outside the allow-list is shown


# -- use_https ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """An emulator serving its API over TLS (transfers: https with ``ssl=2``, else a plain listener), and
    the certificate a client must trust."""
    from backends.mega.emulator import Emulator, EmulatorSettings

    directory = tmp_path_factory.mktemp("mega-tls")
    cert, key = self_signed(directory)
    started = Emulator(EmulatorSettings(data_dir=directory / "data", seed=12, tls_cert=cert, tls_key=key))
    started.start()
    yield started, cert
    started.stop()


def _tls_config(run: Runner, emulator: Any, account: Account, *, use_https: bool) -> None:
    run.default_config.parent.mkdir(parents=True, exist_ok=True)
    run.default_config.write_text(
        f"remotes:\n  emu:\n    type: mega\n    user: {account.email}\n    pass: ${{MEGA_PASS}}\n"
        f"    api_url: {emulator.api_url}\n    use_https: {'true' if use_https else 'false'}\n"
    )


def test_use_https_transfers_over_tls(tls_emulator: tuple[Any, Path], run: Runner, tmp_path: Path) -> None:
    emulator, cert = tls_emulator
    assert emulator.api_url.startswith("https://")
    account = _new_account(emulator)
    env = {"MEGA_PASS": account.password, "SSL_CERT_FILE": str(cert)}
    data = {"big.bin": os.urandom(3 * 1024 * 1024 + 17), "small.txt": b"tls\n", "d/empty.txt": b""}
    source = build_tree(tmp_path / "src", data)

    _tls_config(run, emulator, account, use_https=True)
    before = emulator.transfers_served()
    assert syncer(run, "copy", source.root, "emu:up", env=env).returncode == 0
    back = tmp_path / "back"
    done = syncer(run, "copy", "emu:up", back, env=env)
    assert done.returncode == 0, done.stderr
    for path, content in data.items():
        assert (back / path).read_bytes() == content
    served = emulator.transfers_served()
    assert served["https"] > before["https"]  # the transfer URLs MEGA handed out were https...
    assert served["http"] == before["http"]  # ...and nothing went over plain http

    # without the option the same emulator hands out its plain-http transfer URLs
    _tls_config(run, emulator, account, use_https=False)
    again = tmp_path / "again"
    assert syncer(run, "copy", "emu:up", again, env=env).returncode == 0
    assert (again / "small.txt").read_bytes() == b"tls\n"
    assert emulator.transfers_served()["http"] > served["http"]


def test_an_untrusted_certificate_is_refused_at_once(tls_emulator: tuple[Any, Path], run: Runner) -> None:
    emulator, _ = tls_emulator
    account = _new_account(emulator)
    _tls_config(run, emulator, account, use_https=True)
    started = time.monotonic()
    done = syncer(run, "lsf", "emu:", env={"MEGA_PASS": account.password})
    assert_one_error_line(done, 1, "certificate did not verify", "SSL_CERT_FILE")
    assert time.monotonic() - started < 20  # not retried with backoff: asking again cannot help
