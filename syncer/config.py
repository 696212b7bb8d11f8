"""The YAML config file: where it is, and its validation into typed remotes and defaults.

The file is composed (not loaded) with PyYAML so every node keeps its line, and every mistake is a
``ConfigError`` whose message is one line naming the file, the line and the key::

    config.yaml:7: remotes.work.tyep: unknown option 'tyep' for remote type local (known: copy_links, ...)

Layout::

    remotes:              # name -> remote; names follow rclone's rule
      work:
        type: local       # a type known to the registry
        root: /srv/data   # common to every remote: a path prefix (RemoteConfig.root)
        copy_links: true  # the backend's Options fields, type-checked against their annotations
      mega:
        type: mega
        user: "${MEGA_USER}"             # ${ENV_VAR} in any string; $${ is a literal ${
        password_command: pass show mega # for a Secret field X: X_command prints the value
    defaults:             # global options: log_level, copy_links, checkers, transfers
      transfers: 8
    filters: {}           # reserved: kept raw here, validated by the filters feature
    jobs: []              # reserved: kept raw here, validated by the jobs feature

Secrets: an Options field annotated ``Secret`` (or ``Secret | None``) is secret; its value is wrapped in
``backends.secret_values.Secret``, whose repr is ``'***'``. ``X_command`` is split with shlex (``${VAR}`` is
interpolated in each word, so a variable's value is always one argument) and runs lazily, on the first
``Secret.reveal()``, i.e. when a backend that needs it is opened; its failure is then a ConfigError naming the
file, line and key. No message ever contains an environment variable's value or a command's output.

The precedence of options (defaults < YAML < ``SYNCER_<OPTION>`` env < CLI flags) is applied by
``options.py`` for the global options and by ``backend_flags.py`` for those of each remote type
(``SYNCER_MEGA_USER``, ``--mega-user``); this module reads the file only.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yaml.nodes import Node

from backends.errors import ConfigError
from backends.registry import Registry, RemoteConfig
from backends.secret_values import REDACTED, Secret

__all__ = [
    "DEFAULTS_KEYS",
    "LOG_LEVELS",
    "TOP_LEVEL_KEYS",
    "Config",
    "config_error",
    "config_path",
    "default_config_path",
    "load_config",
    "state_dir",
]

TOP_LEVEL_KEYS = ("defaults", "filters", "jobs", "remotes")
LOG_LEVELS = ("DEBUG", "INFO", "NOTICE", "ERROR")
#: The global options accepted under ``defaults:`` and their types.
DEFAULTS_KEYS: Mapping[str, Any] = {
    "checkers": int,
    "copy_links": bool,
    "debris_keep": str,
    "log_level": str,
    "transfers": int,
}
POSITIVE_DEFAULTS = frozenset({"checkers", "transfers"})

COMMAND_SUFFIX = "_command"
ROOT_KEY = "root"
TYPE_KEY = "type"


# -- where the files are -----------------------------------------------------------------------------------


def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def _xdg(env: Mapping[str, str], variable: str, fallback: str) -> str:
    """An XDG base directory: ``$variable`` if set to an absolute path (the spec ignores relative ones)."""
    value = env.get(variable, "")
    if value and os.path.isabs(value):
        return value
    return os.path.join(_home(env), fallback)


# Paths are plain strings here: this module is imported by every command, and pathlib costs more to import
# than a small listing takes.


def default_config_path(env: Mapping[str, str]) -> str:
    """``$XDG_CONFIG_HOME/syncer/config.yaml`` (``~/.config/syncer/config.yaml``): a missing one is empty."""
    return os.path.join(_xdg(env, "XDG_CONFIG_HOME", ".config"), "syncer", "config.yaml")


def config_path(explicit: str | None, env: Mapping[str, str]) -> str:
    """The config file to read: ``--config PATH``, else ``$SYNCER_CONFIG``, else the default location."""
    if explicit:
        return os.path.expanduser(explicit)
    from_env = env.get("SYNCER_CONFIG", "")
    if from_env:
        return os.path.expanduser(from_env)
    return default_config_path(env)


def state_dir(env: Mapping[str, str]) -> str:
    """Where syncer keeps state (sessions, caches, bisync listings): ``$SYNCER_STATE_DIR``, else
    ``$XDG_STATE_HOME/syncer`` (``~/.local/state/syncer``). Not created here (see
    ``backends.private_files.private_dir``).
    """
    from_env = env.get("SYNCER_STATE_DIR", "")
    if from_env:
        return os.path.expanduser(from_env)
    return os.path.join(_xdg(env, "XDG_STATE_HOME", ".local/state"), "syncer")


# -- the result --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """A validated config file.

    ``remotes`` keeps the file's order. ``defaults`` holds the validated global options that were set
    (see ``DEFAULTS_KEYS``). ``filters`` (a dict) and ``jobs`` (a list) are the plain YAML data, or None when
    absent: the features that use them validate them, and find their lines in ``nodes["filters"]`` and
    ``nodes["jobs"]`` (the composed YAML node of each top-level section) to report errors with
    ``config_error``.
    """

    path: str
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    filters: Any = None
    jobs: Any = None
    nodes: dict[str, Node] = field(default_factory=dict, repr=False, compare=False)

    def redacted(self) -> dict[str, Any]:
        """A plain structure for ``syncer config show``: secrets appear as ``'***'``; empty sections are left
        out (an empty config gives ``{}``).

        Remotes show ``type``, ``root`` (if set) and the options that differ from their defaults; a secret
        taken from a command shows as ``X_command`` with the command as written (commands are not secrets).
        """
        out: dict[str, Any] = {}
        if self.remotes:
            out["remotes"] = {name: _redact_remote(remote) for name, remote in self.remotes.items()}
        if self.defaults:
            out["defaults"] = dict(self.defaults)
        if self.filters is not None:
            out["filters"] = copy.deepcopy(self.filters)
        if self.jobs is not None:
            out["jobs"] = copy.deepcopy(self.jobs)
        return out


def _redact_remote(remote: RemoteConfig) -> dict[str, Any]:
    out: dict[str, Any] = {TYPE_KEY: remote.type}
    if remote.root:
        out[ROOT_KEY] = remote.root
    options = remote.options
    if options is None or not dataclasses.is_dataclass(options):
        return out
    for f in dataclasses.fields(options):
        if f.metadata.get("internal"):
            continue
        key = f.metadata.get("key", f.name)
        value = getattr(options, f.name)
        if f.metadata.get("sensitive") and value:
            out[key] = REDACTED  # not a Secret, but its value opens something (a public link's key)
            continue
        if isinstance(value, Secret):
            if value.command is not None:
                out[key + COMMAND_SUFFIX] = value.command
            else:
                out[key] = REDACTED
            continue
        if value == _field_default(f):
            continue
        out[key] = copy.deepcopy(value)
    return out


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


# -- errors ------------------------------------------------------------------------------------------------


def config_error(path: str | os.PathLike[str], node: Node | None, key: str, message: str) -> ConfigError:
    """A ConfigError reading ``PATH:LINE: KEY: MESSAGE`` (line from ``node``; parts left out when empty)."""
    where = str(path)
    if node is not None and node.start_mark is not None:
        where += f":{node.start_mark.line + 1}"
    text = f"{key}: {message}" if key else message
    return ConfigError(f"{where}: {one_line(text)}")


def one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text.strip())


# -- loading -----------------------------------------------------------------------------------------------


def load_config(
    path: str | os.PathLike[str],
    env: Mapping[str, str],
    registry: Registry,
    *,
    missing_ok: bool | None = None,
) -> Config:
    """Read and validate the config file at ``path``; ``env`` supplies ``${VAR}`` values.

    A missing file is an empty Config when ``missing_ok`` is true; by default (None) only the default
    location (``default_config_path(env)``) may be missing, so a file named with ``--config`` or
    ``$SYNCER_CONFIG`` must exist. Raises ConfigError ("config file not found: PATH", or
    ``PATH:LINE: KEY: problem``).
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        if missing_ok is None:
            missing_ok = os.path.abspath(path) == os.path.abspath(default_config_path(env))
        if missing_ok:
            return Config(path=path)
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    from .config_loader import Validator  # PyYAML is imported only when there is a file to read

    return Validator(path, env, registry).load(data)
