"""Global options and their precedence: built-in defaults < YAML ``defaults:`` < ``SYNCER_<OPTION>`` < flags.

The engine's own SyncOptions will join this module; backends never see any of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from backends.errors import ConfigError

from .compare import CompareOptions
from .config import DEFAULTS_KEYS, LOG_LEVELS

__all__ = ["DeleteTiming", "GlobalOptions", "SyncOptions", "resolve_global_options"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class GlobalOptions:
    """Options every command shares."""

    log_level: str = "NOTICE"
    copy_links: bool = False
    checkers: int = 8
    transfers: int = 4
    debris_keep: str | None = None  # a duration: sync prunes debris older than this
    #: Whether --checkers/--transfers were set anywhere (else the engine may pick the count per backend).
    workers_given: bool = False


def _from_env(name: str, kind: Any, text: str) -> Any:
    variable = "SYNCER_" + name.upper()
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{variable}: expected true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{variable}: expected an integer, got {text!r}") from None
    if name != "log_level":
        return text.strip()
    value = text.strip().upper()
    if value not in LOG_LEVELS:
        raise ConfigError(f"{variable}: expected one of {', '.join(LOG_LEVELS)}, got {text!r}")
    return value


def resolve_global_options(
    defaults: Mapping[str, Any], env: Mapping[str, str], flags: Mapping[str, Any]
) -> GlobalOptions:
    """Merge the sources in precedence order; ``flags`` values of None mean "not given".

    Raises ConfigError for a malformed environment value or a count below 1.
    """
    values: dict[str, Any] = dict(defaults)
    for name, kind in DEFAULTS_KEYS.items():
        text = env.get("SYNCER_" + name.upper())
        if text:
            values[name] = _from_env(name, kind, text)
    values.update({name: value for name, value in flags.items() if value is not None})
    for name in ("checkers", "transfers"):
        if name in values and values[name] < 1:
            raise ConfigError(f"--{name} must be at least 1, got {values[name]}")
    values["workers_given"] = "checkers" in values or "transfers" in values
    return GlobalOptions(**values)


class DeleteTiming(Enum):
    """When a sync deletes destination files: before, during or (rclone's default) after the transfers."""

    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


@dataclass(frozen=True)
class SyncOptions:
    """Everything copy/sync/move take besides their two locations; built by the CLI, read by the engine."""

    compare: CompareOptions = field(default_factory=CompareOptions)
    dry_run: bool = False
    transfers: int = 4
    checkers: int = 8
    delete_timing: DeleteTiming = DeleteTiming.AFTER
    max_delete: int | None = None
    backup_dir: str | None = None
    suffix: str = ""
    hard_delete: bool = False
    create_empty_src_dirs: bool = False
    delete_empty_src_dirs: bool = False
    retries: int = 3
    low_level_retries: int = 10
    retries_sleep_s: float = 0.0
    error_on_no_transfer: bool = False
    debris_keep_s: float | None = None
    progress: bool = False
    stats_interval_s: float | None = None
    stats_one_line: bool = False
    bwlimit: float | None = None  # bytes per second
