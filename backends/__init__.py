"""Backends: the remote-filesystem interface, its implementations and the registry that opens them."""

from .base import Backend, Entry, Features, HashType, ReadStream, Target, Usage
from .registry import Location, Registry, RemoteConfig, default_registry, open_backend, parse_location

__all__ = [
    "Backend",
    "Entry",
    "Features",
    "HashType",
    "Location",
    "ReadStream",
    "Registry",
    "RemoteConfig",
    "Target",
    "Usage",
    "default_registry",
    "open_backend",
    "parse_location",
]
