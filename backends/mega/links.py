"""MEGA public link URLs: reading every form users paste, and writing the one MEGA's apps write today.

``shared/mega-protocol.md`` 10.4. A link is a public handle (6 bytes) and a key after ``#``: a file link
carries the file's whole 32-byte packed key, a folder link the folder's 16-byte share key. Modern forms are
``https://mega.nz/file/H#K`` and ``https://mega.nz/folder/H#K``, the latter possibly followed by
``/folder/SUB`` or ``/file/SUB`` to point inside the folder; the legacy forms ``https://mega.nz/#!H!K`` and
``#F!H!K`` (with ``!SUB`` for a folder inside) still circulate, as does the ``mega.co.nz`` host.

The key is what opens the files, so it is never part of an error message or of ``describe``: messages show
the handle only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from backends.errors import ConfigError
from backends.registry import LINK_URL

from . import crypto

__all__ = ["LinkError", "PublicLink", "parse_link"]

Kind = Literal["file", "folder"]

_B64 = r"[A-Za-z0-9_-]"
_MODERN = re.compile(
    rf"/(?P<kind>file|folder)/(?P<handle>{_B64}+)/?(?:#(?P<key>{_B64}*)"
    rf"(?:/(?P<inner_kind>file|folder)/(?P<inner>{_B64}+))?/?)?"
)
_LEGACY = re.compile(rf"/?#(?P<folder>F?)!(?P<handle>{_B64}+)(?:!(?P<key>{_B64}*)(?:!(?P<inner>{_B64}+))?)?")

_KEY_SIZE: dict[str, int] = {"file": 32, "folder": 16}
_HANDLE_SIZE = 6


class LinkError(ConfigError):
    """A location looks like a MEGA link but cannot be one (no key, wrong sizes)."""

    default_message = "not a usable MEGA link"


@dataclass(frozen=True)
class PublicLink:
    """A parsed link. ``inner`` is the handle of a node inside a folder link (``inner_kind`` says which)."""

    kind: Kind
    handle: str
    key: bytes = field(repr=False)
    inner: str | None = None
    inner_kind: Kind | None = None

    def url(self) -> str:
        """The modern form, as MEGA's apps write it."""
        text = f"https://mega.nz/{self.kind}/{self.handle}#{crypto.b64encode(self.key)}"
        if self.inner is not None:
            text += f"/{self.inner_kind or 'folder'}/{self.inner}"
        return text

    def legacy_url(self) -> str:
        """The ``#!`` / ``#F!`` form (older apps and libraries still write it); a file inside a folder link
        has none."""
        if self.inner is not None and self.inner_kind == "file":
            raise LinkError("a file inside a folder link has no legacy form")
        prefix = "F" if self.kind == "folder" else ""
        text = f"https://mega.nz/#{prefix}!{self.handle}!{crypto.b64encode(self.key)}"
        return text + (f"!{self.inner}" if self.inner is not None else "")

    def public_part(self) -> str:
        """The link without its key: safe for messages and logs."""
        text = f"https://mega.nz/{self.kind}/{self.handle}"
        return text + (f"#…/{self.inner_kind or 'folder'}/{self.inner}" if self.inner is not None else "")


def parse_link(text: str) -> PublicLink:
    """Parse any accepted form. Raises LinkError (a ConfigError, exit 2) with a message free of the key."""
    text = text.strip()
    start = LINK_URL.match(text)
    if start is None:
        raise LinkError("not a MEGA link (expected https://mega.nz/file/... or /folder/...)")
    rest = text[start.end() - 1 :]
    modern = _MODERN.fullmatch(rest)
    if modern is not None:
        kind: Kind = "file" if modern["kind"] == "file" else "folder"
        inner_kind: Kind | None = None
        if modern["inner"] is not None:
            if kind == "file":
                raise LinkError("a file link cannot point inside itself")
            inner_kind = "file" if modern["inner_kind"] == "file" else "folder"
        return _checked(kind, modern["handle"], modern["key"], modern["inner"], inner_kind)
    legacy = _LEGACY.fullmatch(rest)
    if legacy is not None:
        kind = "folder" if legacy["folder"] else "file"
        if legacy["inner"] is not None and kind == "file":
            raise LinkError("a file link cannot point inside itself")
        inner_kind = "folder" if legacy["inner"] is not None else None
        return _checked(kind, legacy["handle"], legacy["key"], legacy["inner"], inner_kind)
    raise LinkError("unrecognised MEGA link (expected /file/HANDLE#KEY, /folder/HANDLE#KEY, #!.. or #F!..)")


def _checked(
    kind: Kind, handle: str, key: str | None, inner: str | None, inner_kind: Kind | None
) -> PublicLink:
    where = f"MEGA {kind} link {handle}"
    for text in (handle, inner):
        if text is not None and len(_decode(text, where)) != _HANDLE_SIZE:
            raise LinkError(f"{where}: a handle is 8 characters")
    if not key:
        raise LinkError(f"{where} has no key (the part after '#'); ask for the full link")
    raw = _decode(key, where)
    if len(raw) != _KEY_SIZE[kind]:
        raise LinkError(f"{where}: the key has {len(raw)} bytes, a {kind} link's has {_KEY_SIZE[kind]}")
    return PublicLink(kind, handle, raw, inner, inner_kind)


def _decode(text: str, where: str) -> bytes:
    try:
        return crypto.b64decode(text)
    except ValueError:
        raise LinkError(f"{where}: malformed base64") from None
