"""Secret option values: passwords and keys that must never show up in logs, reprs or tracebacks.

A ``Secret`` holds either a value (from the config file, usually through ``${ENV_VAR}`` interpolation) or a
command (``password_command: "pass show mega"``) that prints the value. A command runs lazily: the first time
``reveal()`` is called, which is when a backend that needs the value is opened, so commands that never need a
remote never prompt for its password. Its output is cached for the life of the process.

``repr()`` and ``str()`` of a Secret are ``'***'``, so a frozen Options dataclass holding one prints safely.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Sequence
from typing import Any

from .errors import ConfigError

__all__ = ["COMMAND_TIMEOUT", "REDACTED", "Secret", "run_secret_command"]

#: What a secret value looks like wherever it is displayed.
REDACTED = "***"

#: Seconds a ``*_command`` may run before it is killed.
COMMAND_TIMEOUT = 30.0


class Secret:
    """A secret string. ``reveal()`` returns it; every other way of looking at it shows ``'***'``.

    Two Secrets are equal when their revealed values are equal (revealing a command-backed secret runs its
    command, once). Copies and deep copies return the same object, since a Secret is immutable.
    """

    __slots__ = ("_argv", "_command", "_lock", "_source", "_timeout", "_value")

    _value: str | None
    _command: str | None
    _argv: tuple[str, ...]
    _source: str
    _timeout: float
    _lock: threading.Lock

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        self._value = value
        self._command = None
        self._argv = ()
        self._source = ""
        self._timeout = COMMAND_TIMEOUT
        self._lock = threading.Lock()

    @classmethod
    def from_command(
        cls,
        command: str,
        *,
        argv: Sequence[str] | None = None,
        source: str = "",
        timeout: float = COMMAND_TIMEOUT,
    ) -> Secret:
        """A secret whose value is the output of ``command``, run on the first ``reveal()``.

        ``command`` is the text as the user wrote it (shown by ``syncer config show``); ``argv`` is what runs
        (default: ``shlex.split(command)``). ``source`` prefixes error messages, e.g.
        ``"config.yaml:7: remotes.mega.password_command"``. Raises ConfigError if the command cannot be split
        into a non-empty argv.
        """
        if argv is None:
            try:
                argv = shlex.split(command)
            except ValueError as exc:
                raise ConfigError(_prefix(source, f"cannot parse command: {exc}")) from None
        if not argv:
            raise ConfigError(_prefix(source, "empty command"))
        self = cls.__new__(cls)
        self._value = None
        self._command = command
        self._argv = tuple(argv)
        self._source = source
        self._timeout = timeout
        self._lock = threading.Lock()
        return self

    @property
    def command(self) -> str | None:
        """The command as written, for a command-backed secret; None for a plain value."""
        return self._command

    def reveal(self) -> str:
        """The secret value. For a command-backed secret the first call runs the command.

        Raises ConfigError if the command fails (its exit status and first stderr line, never its output).
        """
        if self._value is not None:
            return self._value
        with self._lock:
            if self._value is None:
                self._value = run_secret_command(self._argv, source=self._source, timeout=self._timeout)
            return self._value

    def __repr__(self) -> str:
        return REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        if self is other:
            return True
        return self.reveal() == other.reveal()

    def __hash__(self) -> int:
        return hash(self.reveal())

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def run_secret_command(argv: Sequence[str], *, source: str = "", timeout: float = COMMAND_TIMEOUT) -> str:
    """Run ``argv`` (no shell, stdin closed) and return its stdout without the trailing newline.

    Raises ConfigError, prefixed with ``source``, if the command cannot start, times out, exits non-zero
    (the message carries the exit status and the first line of stderr), prints nothing, or prints something
    that is not UTF-8. Its stdout never appears in a message.
    """
    import subprocess  # only when a command supplies a secret

    name = argv[0] if argv else ""
    try:
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError(_prefix(source, f"command not found: {name}")) from None
    except subprocess.TimeoutExpired:
        raise ConfigError(_prefix(source, f"command {name} timed out after {timeout:g}s")) from None
    except OSError as exc:
        raise ConfigError(_prefix(source, f"cannot run command {name}: {exc.strerror or exc}")) from None
    if result.returncode != 0:
        status = (
            f"was killed by signal {-result.returncode}"
            if result.returncode < 0
            else f"exited with status {result.returncode}"
        )
        first = _first_line(result.stderr)
        detail = f": {first}" if first else ""
        raise ConfigError(_prefix(source, f"command {name} {status}{detail}"))
    try:
        text = result.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(_prefix(source, f"command {name} printed something that is not UTF-8")) from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise ConfigError(_prefix(source, f"command {name} printed nothing"))
    return text


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _prefix(source: str, message: str) -> str:
    return f"{source}: {message}" if source else message
