"""Remote types by name, and ``open_backend`` for rclone-style location strings.

Backend classes are imported only when a remote of their type is opened, so a command on a local folder never
pays for importing the MEGA stack.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Backend
from .errors import ConfigError

__all__ = [
    "Location",
    "Registry",
    "RemoteConfig",
    "default_registry",
    "open_backend",
    "parse_location",
]

#: type name -> "module:Class"; extended as backends are added.
BUILTIN_TYPES: Mapping[str, str] = {
    "local": "backends.local:LocalBackend",
    "memory": "backends.memory:MemoryBackend",
    "mega": "backends.mega.backend:MegaBackend",
}

#: Location strings that are public links, and the type that opens them (given the whole URL as its ``link``
#: option): MEGA file and folder links, modern and legacy forms, on either host.
LINK_URL = re.compile(r"https?://(?:www\.)?mega(?:\.co)?\.nz/", re.IGNORECASE)
_LINK_TYPE = "mega"

# rclone's rule for remote names: letters, digits, '_', '-', '.', '+', '@' and spaces, not starting with '-'
# or a space.
_REMOTE_NAME = re.compile(r"[\w.+@-][\w.+@ -]*")


@dataclass(frozen=True)
class RemoteConfig:
    """One configured remote: its name, type, typed options, and the common ``root`` (a path prefix)."""

    name: str
    type: str
    options: Any
    root: str = ""


@dataclass(frozen=True)
class Location:
    """A parsed location string.

    ``remote`` is the configured remote's name (None for a bare local path); ``type`` is set for rclone's
    on-the-fly form ``:type:path``; ``path`` is the text after the colon (or the whole local path). ``link``
    is a public link URL, opened as a read-only remote of ``type`` whose ``link`` option it becomes.
    """

    remote: str | None
    path: str
    type: str | None = None
    link: str | None = None


def parse_location(spec: str) -> Location:
    """Split ``remote:path``, ``:type:path`` or a bare local path, as rclone does.

    Anything starting with '/', '.' or '~', or whose text before the first ':' is not a valid remote name
    (e.g. contains '/'), is a local path. A public link URL (``https://mega.nz/folder/...``) is a location of
    its own, with path "".
    """
    if LINK_URL.match(spec):
        return Location(remote=None, path="", type=_LINK_TYPE, link=spec)
    if spec.startswith(":"):
        type_name, sep, rest = spec[1:].partition(":")
        if not sep or not _REMOTE_NAME.fullmatch(type_name):
            raise ConfigError(f"invalid on-the-fly remote {spec!r}: expected ':type:path'")
        return Location(remote=None, path=rest, type=type_name)
    if spec.startswith(("/", ".", "~")):
        return Location(remote=None, path=spec)
    name, sep, rest = spec.partition(":")
    if sep and _REMOTE_NAME.fullmatch(name):
        return Location(remote=name, path=rest)
    return Location(remote=None, path=spec)


@dataclass
class Registry:
    """Maps a remote ``type`` to its backend class."""

    types: dict[str, str] = field(default_factory=lambda: dict(BUILTIN_TYPES))

    def register(self, type_name: str, target: str | type[Backend]) -> None:
        """Add a type: ``target`` is a class or a lazy "module:Class" reference."""
        if isinstance(target, str):
            self.types[type_name] = target
        else:
            self.types[type_name] = f"{target.__module__}:{target.__qualname__}"

    def names(self) -> list[str]:
        return sorted(self.types)

    def backend_class(self, type_name: str) -> type[Backend]:
        """The class for ``type_name``. Raises ConfigError for an unknown type."""
        try:
            ref = self.types[type_name]
        except KeyError:
            known = ", ".join(self.names())
            raise ConfigError(f"unknown remote type {type_name!r} (known: {known})") from None
        module_name, _, class_name = ref.partition(":")
        cls: type[Backend] = getattr(importlib.import_module(module_name), class_name)
        return cls


def default_registry() -> Registry:
    """A registry holding the built-in types."""
    return Registry()


def open_backend(
    spec: str,
    remotes: Mapping[str, RemoteConfig] | None = None,
    *,
    registry: Registry | None = None,
    overrides: Mapping[str, Any] | None = None,
    type_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Backend:
    """Open the backend for ``spec`` ("name:path", ":type:path" or "/local/path"), rooted at that path.

    ``remotes`` are the configured remotes; ``overrides`` are option values from the command line applied to
    any backend whose Options has that field (``state_dir``, say); ``type_overrides`` are option values by
    remote type (``--mega-user``, ``SYNCER_MEGA_USER``), laid over those of every remote of that type. Raises
    ConfigError for an unknown remote name or type, or option values the Options class rejects.
    """
    registry = registry or default_registry()
    location = parse_location(spec)
    if location.remote is not None:
        config = (remotes or {}).get(location.remote)
        if config is None:
            raise ConfigError(f"didn't find remote {location.remote!r} in the config file")
        type_name, options, prefix, name = config.type, config.options, config.root, config.name
    else:
        type_name, options, prefix, name = location.type or "local", None, "", ""
    cls = registry.backend_class(type_name)
    if options is None:
        options = cls.Options()
    if overrides:
        names = {f.name for f in dataclasses.fields(options)}
        applicable = {k: v for k, v in overrides.items() if k in names and v is not None}
        if applicable:
            options = dataclasses.replace(options, **applicable)
    if type_overrides and type_overrides.get(type_name):
        try:
            options = dataclasses.replace(options, **type_overrides[type_name])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid options for {type_name} remotes: {exc}") from None
    if location.link is not None:
        options = dataclasses.replace(options, link=location.link)
    return cls(name, cls.make_root(prefix, location.path), options)
