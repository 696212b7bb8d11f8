"""Secret: never shown, revealed on demand; command-backed secrets run lazily, once, and fail cleanly."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.errors import ConfigError
from backends.secret_values import REDACTED, Secret, run_secret_command

VALUE = "hunter2-very-secret"


def py(code: str) -> str:
    """A shell-free command line running ``code`` with this interpreter."""
    return shlex.join([sys.executable, "-c", code])


@dataclass(frozen=True)
class Holder:
    user: str
    password: Secret | None = None


def test_reveal_returns_the_value() -> None:
    assert Secret(VALUE).reveal() == VALUE
    assert Secret(VALUE).command is None


def test_repr_and_str_are_redacted() -> None:
    secret = Secret(VALUE)
    assert repr(secret) == REDACTED == "***"
    assert str(secret) == "***"
    assert f"{secret}" == "***"
    assert f"{secret!r}" == "***"
    assert "{} {!r}".format(secret, secret) == "*** ***"  # noqa: UP032


def test_frozen_dataclass_repr_does_not_leak() -> None:
    holder = Holder("me", Secret(VALUE))
    assert VALUE not in repr(holder)
    assert VALUE not in str(holder)
    assert "password=***" in repr(holder)
    assert VALUE not in repr(dataclasses.asdict(holder))


def test_equality_and_hash_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert hash(Secret("a")) == hash(Secret("a"))
    assert Secret("a") != "a"
    assert Holder("u", Secret("a")) == Holder("u", Secret("a"))
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2


def test_copies_are_the_same_object_and_pickling_is_refused() -> None:
    secret = Secret(VALUE)
    assert copy.copy(secret) is secret
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_only_strings() -> None:
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


def test_command_runs_lazily_and_once(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    code = f"open({str(counter)!r}, 'a').write('x'); print({VALUE!r})"
    secret = Secret.from_command(py(code))
    assert not counter.exists()  # nothing ran yet
    assert repr(secret) == "***"
    assert secret.command == py(code)
    assert secret.reveal() == VALUE
    assert secret.reveal() == VALUE
    assert counter.read_text() == "x"


def test_command_strips_exactly_one_trailing_newline() -> None:
    assert Secret.from_command(py("import sys; sys.stdout.write('a b \\n\\n')")).reveal() == "a b \n"
    assert Secret.from_command(py("import sys; sys.stdout.write('crlf\\r\\n')")).reveal() == "crlf"
    assert Secret.from_command(py("import sys; sys.stdout.write('none')")).reveal() == "none"


def test_command_stdin_is_closed() -> None:
    code = "import sys; data = sys.stdin.read(); print('empty' if data == '' else 'data')"
    assert Secret.from_command(py(code)).reveal() == "empty"


def test_command_failure_reports_status_and_first_stderr_line_only() -> None:
    code = f"import sys; print({VALUE!r}); sys.stderr.write('\\nfirst problem\\nsecond\\n'); sys.exit(3)"
    secret = Secret.from_command(py(code), source="cfg.yaml:4: remotes.x.password_command")
    with pytest.raises(ConfigError) as info:
        secret.reveal()
    message = str(info.value)
    assert message.startswith("cfg.yaml:4: remotes.x.password_command: command ")
    assert message.endswith("exited with status 3: first problem")
    assert VALUE not in message
    assert "second" not in message
    assert "\n" not in message
    assert info.value.exit_code == 2
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_command_killed_by_signal() -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    with pytest.raises(ConfigError, match="killed by signal 15"):
        Secret.from_command(py(code)).reveal()


def test_command_not_found() -> None:
    with pytest.raises(ConfigError, match="command not found: /no/such/program-xyz"):
        Secret.from_command("/no/such/program-xyz --flag").reveal()


def test_command_timeout_does_not_show_output() -> None:
    code = f"import time; print({VALUE!r}, flush=True); time.sleep(10)"
    secret = Secret.from_command(py(code), timeout=0.5)
    with pytest.raises(ConfigError, match=r"timed out after 0\.5s") as info:
        secret.reveal()
    assert VALUE not in str(info.value)


def test_command_printing_nothing_or_non_utf8_is_an_error() -> None:
    with pytest.raises(ConfigError, match="printed nothing"):
        Secret.from_command(py("print()")).reveal()
    with pytest.raises(ConfigError, match="not UTF-8"):
        Secret.from_command(py("import sys; sys.stdout.buffer.write(b'\\xff\\xfe')")).reveal()


def test_command_failure_is_not_cached() -> None:
    secret = Secret.from_command("/no/such/program-xyz")
    for _ in range(2):
        with pytest.raises(ConfigError):
            secret.reveal()


def test_unparseable_or_empty_command() -> None:
    with pytest.raises(ConfigError, match=r"^src: cannot parse command: No closing quotation$"):
        Secret.from_command("pass 'show", source="src")
    with pytest.raises(ConfigError, match="empty command"):
        Secret.from_command("   ")


def test_explicit_argv_is_used_as_is() -> None:
    secret = Secret.from_command("shown text", argv=[sys.executable, "-c", "print('from argv')"])
    assert secret.command == "shown text"
    assert secret.reveal() == "from argv"


def test_run_secret_command_directly() -> None:
    assert run_secret_command([sys.executable, "-c", "print('ok')"]) == "ok"
