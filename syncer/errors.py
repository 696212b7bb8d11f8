"""Exit codes (rclone's table) and the errors the engine adds to the backend error tree."""

from __future__ import annotations

from enum import IntEnum

from backends.errors import BackendError

__all__ = ["Cancelled", "ExitCode", "SafetyAbort", "StateError", "SyncerError", "UsageError", "exit_code_for"]


class ExitCode(IntEnum):
    """rclone's exit codes, so scripts written for rclone read ours the same way."""

    OK = 0
    ERROR = 1
    USAGE = 2
    DIR_NOT_FOUND = 3
    FILE_NOT_FOUND = 4
    RETRY = 5
    NO_RETRY = 6
    FATAL = 7
    NO_TRANSFER = 9


class SyncerError(BackendError):
    """Base of the engine's own errors; shares ``exit_code``/``retryable``/``fatal`` with backend errors."""


class UsageError(SyncerError):
    """The command line is wrong."""

    exit_code = ExitCode.USAGE
    default_message = "usage error"


class SafetyAbort(SyncerError):
    """A safety limit (``--max-delete``, bisync's checks) stopped the run before it changed anything."""

    fatal = True
    exit_code = ExitCode.FATAL
    default_message = "aborted by a safety check"


class StateError(SyncerError):
    """Saved state (bisync listings, locks) is unusable."""

    default_message = "state error"


class Cancelled(SyncerError):
    """The user interrupted the run."""

    default_message = "cancelled"


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an error that ended a command."""
    if isinstance(exc, BackendError):
        return int(exc.exit_code)
    return int(ExitCode.ERROR)
