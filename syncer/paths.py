"""Location strings as users type them: ``remote:path``, ``:type:path``, bare local paths."""

from __future__ import annotations

import os

from backends import parse_location

__all__ = ["split_leaf"]


def split_leaf(spec: str) -> tuple[str, str]:
    """Split a location into (its parent location, its last name), for commands that address one file.

    ``remote:a/b/c`` -> (``remote:a/b``, ``c``); ``/x/y`` -> (``/x``, ``y``);
    ``remote:c`` -> (``remote:``, ``c``).
    The leaf is "" when the location names a remote's root.
    """
    location = parse_location(spec)
    if location.remote is None and location.type is None:
        path = os.path.normpath(os.path.expanduser(spec)) if spec else "."
        head, leaf = os.path.split(path)
        return head or ".", leaf
    prefix = spec[: len(spec) - len(location.path)]
    inner = location.path.rstrip("/")
    cut = inner.rfind("/")
    if cut < 0:
        return prefix, inner
    return prefix + inner[:cut], inner[cut + 1 :]
