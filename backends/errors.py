"""The error tree shared by every backend and the engine.

Each backend translates its native failures (OSError, MEGA's negative codes, httpx errors) into these classes
in one place, so no foreign exception leaves ``backends/``. Each class says whether a retry may help, whether
the whole run must stop, and which rclone exit code it maps to.

    BackendError
    ├── NotFound                 (4)
    │   └── DirNotFound          (3)
    ├── AlreadyExists
    ├── NotADirectory
    ├── IsADirectory
    ├── DirectoryNotEmpty
    ├── PermissionDenied
    │   └── ReadOnly             (7, fatal)
    ├── AuthError                (7, fatal)
    ├── QuotaExceeded            (7, fatal)
    ├── NotSupported
    ├── InvalidName
    ├── AmbiguousPath
    ├── TransientError           (5, retryable)
    │   ├── RateLimited
    │   └── ConnectionError
    ├── IntegrityError
    └── ConfigError              (2)
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "AmbiguousPath",
    "AuthError",
    "BackendError",
    "ConfigError",
    "ConnectionError",
    "DirNotFound",
    "DirectoryNotEmpty",
    "IntegrityError",
    "InvalidName",
    "IsADirectory",
    "NotADirectory",
    "NotFound",
    "NotSupported",
    "PermissionDenied",
    "QuotaExceeded",
    "RateLimited",
    "ReadOnly",
    "TransientError",
]


class BackendError(Exception):
    """Base of every error a backend may raise.

    ``path`` is the remote path concerned (may be empty); the message is what a user reads on one line.
    """

    retryable: bool = False
    fatal: bool = False
    exit_code: int = 1
    default_message: str = "backend error"
    #: True once ``path`` holds the location as the user typed it (``remote:dir/file``), not a relative path.
    located: bool = False

    def __init__(self, message: str | None = None, *, path: str = "") -> None:
        self.message = message or self.default_message
        self.path = path
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.path:
            return f"{self.path}: {self.message}"
        return self.message


class NotFound(BackendError):
    """The object does not exist."""

    exit_code = 4
    default_message = "object not found"


class DirNotFound(NotFound):
    """The directory does not exist (rclone's ErrorDirNotFound)."""

    exit_code = 3
    default_message = "directory not found"


class AlreadyExists(BackendError):
    """Something already stands where a new object was to be created."""

    default_message = "already exists"


class NotADirectory(BackendError):
    """A directory operation met a file."""

    exit_code = 3
    default_message = "is a file not a directory"


class IsADirectory(BackendError):
    """A file operation met a directory."""

    exit_code = 4
    default_message = "is a directory not a file"


class DirectoryNotEmpty(BackendError):
    """rmdir of a directory that still has entries."""

    default_message = "directory not empty"


class PermissionDenied(BackendError):
    """The backend refused access to this object; other objects may still work."""

    default_message = "permission denied"


class ReadOnly(PermissionDenied):
    """The remote can only be read (a public link): every write is refused before anything is sent, and no
    retry can change that."""

    fatal = True
    exit_code = 7
    default_message = "read-only remote (a public link): nothing can be written to it"


class AuthError(BackendError):
    """Credentials were refused: retrying with the same ones cannot help."""

    fatal = True
    exit_code = 7
    default_message = "authentication failed"


class QuotaExceeded(BackendError):
    """The account's storage or transfer quota is used up."""

    fatal = True
    exit_code = 7
    default_message = "quota exceeded"


class NotSupported(BackendError):
    """The backend cannot do this at all."""

    default_message = "operation not supported"


class InvalidName(BackendError):
    """The path cannot exist on this backend (empty component, '..', NUL, ...)."""

    exit_code = 2
    default_message = "invalid name"


class AmbiguousPath(BackendError):
    """Several objects share this path (duplicate names); address one by its Entry."""

    default_message = "several objects have this name (duplicates); run dedupe"


class TransientError(BackendError):
    """A failure that a later retry may fix."""

    retryable = True
    exit_code = 5
    default_message = "temporary failure"


class RateLimited(TransientError):
    """The service asked us to slow down."""

    default_message = "rate limited"


class ConnectionError(TransientError):  # the design's name; it shadows the builtin in this namespace only
    """The connection failed or dropped mid-way."""

    default_message = "connection failed"


class IntegrityError(BackendError):
    """Data read or written does not match what was expected (size, hash or MAC)."""

    default_message = "data corrupted (integrity check failed)"


class ConfigError(BackendError):
    """The configuration or a remote's options are wrong."""

    fatal = True
    exit_code = 2
    default_message = "configuration error"
