"""Remote paths: '/'-separated, relative to the remote's root, no leading or trailing '/', "" is the root.

Names are kept exactly as the backend lists them. On POSIX disks a name that is not valid UTF-8 arrives as
a str with lone surrogates (Python's surrogateescape); it travels through the engine unchanged and each
backend that cannot store it encodes it reversibly.
"""

from __future__ import annotations

from .errors import InvalidName

__all__ = ["basename", "check_path", "clean", "is_within", "join", "parent", "relative_to"]


def clean(path: str) -> str:
    """Strip the slashes a user may type around a path ("/a/b/" -> "a/b") and collapse doubled ones."""
    return "/".join(part for part in path.split("/") if part and part != ".")


def check_path(path: str) -> str:
    """Return ``path`` if it is a valid remote path, else raise InvalidName.

    A valid path cannot escape the root: no '..' component, no NUL, no empty component.
    """
    if path == "":
        return path
    if path.startswith("/") or path.endswith("/"):
        raise InvalidName("leading or trailing '/' in remote path", path=path)
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise InvalidName(f"path component {part!r} not allowed", path=path)
        if "\x00" in part:
            raise InvalidName("NUL in name", path=path)
    return path


def join(directory: str, name: str) -> str:
    """Join a directory path and a relative path, treating "" as the root."""
    if not directory:
        return name
    if not name:
        return directory
    return f"{directory}/{name}"


def parent(path: str) -> str:
    """The directory holding ``path`` ("" for top-level names and the root)."""
    cut = path.rfind("/")
    return path[:cut] if cut >= 0 else ""


def basename(path: str) -> str:
    """The last component of ``path``."""
    return path[path.rfind("/") + 1 :]


def is_within(path: str, directory: str) -> bool:
    """True when ``path`` is ``directory`` itself or lies below it."""
    return not directory or path == directory or path.startswith(directory + "/")


def relative_to(path: str, directory: str) -> str:
    """``path`` relative to ``directory`` (which must contain it)."""
    if not directory:
        return path
    if path == directory:
        return ""
    return path[len(directory) + 1 :]
