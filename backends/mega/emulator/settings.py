"""The emulator's settings: one frozen dataclass, and their reading from a YAML file or command-line text.

Every fault is off by default. The same names are the dataclass fields, the YAML keys (``-`` or ``_``) and the
command-line flags (``--eagain-rate``). Sizes (``bandwidth``, ``quota``, ``transfer_quota``) are bytes when
given as numbers in Python or YAML, and rclone's size syntax when given as text (``10M``; a plain number there
is KiB, as for rclone's ``--bwlimit``). Durations are seconds, or Go/rclone durations as text (``90s``,
``5m``). ``blocked`` is a set of e-mails: a list in Python or YAML, one flag per e-mail on the command line,
comma-separated in text.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from filters import parse_duration, parse_size

__all__ = [
    "FAULT_FIELDS",
    "AccountSpec",
    "EmulatorConfig",
    "EmulatorSettings",
    "load_config",
    "parse_account",
    "settings_values",
]

HASHCASH_MODES = ("login", "all")


@dataclass(frozen=True)
class EmulatorSettings:
    """How one emulator runs: where it keeps its data, where it listens, and which faults it injects.

    ``bandwidth`` is bytes per second shared by all transfers (0 = unlimited); ``quota`` bytes of storage per
    account (None = unlimited); ``login_limit`` logins per rolling minute per account (0 = off); ``hashcash``
    asks for proof of work on login requests ("login") or on every API request ("all"); ``upload_ttl`` is how
    long an upload URL takes pieces; ``sc_wait`` how long a long poll waits; ``seed`` makes the fault
    decisions reproducible. ``ratelimit_rate`` is the share of API requests answered with a bare -4;
    ``blocked`` the e-mails of administratively blocked accounts (lower-cased here); ``transfer_quota``
    the bytes each account may download in any ``transfer_quota_window`` seconds (None or 0 = unlimited).
    Raises ValueError for values out of range.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    eagain_rate: float = 0.0
    ratelimit_rate: float = 0.0
    http500_rate: float = 0.0
    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    bandwidth: int = 0
    quota: int | None = None
    login_limit: int = 0
    blocked: frozenset[str] = frozenset()
    transfer_quota: int | None = None
    transfer_quota_window: float = 3600.0
    hashcash: str | None = None
    hashcash_easiness: int = 200
    upload_ttl: float = 24 * 3600.0
    sc_wait: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if isinstance(self.blocked, str):  # a lone e-mail would otherwise become a set of its letters
            raise ValueError("blocked is a set of e-mails, not one string")
        blocked = frozenset(str(email).strip().lower() for email in self.blocked)
        not_emails = sorted(email for email in blocked if "@" not in email)
        if not_emails:
            raise ValueError(f"blocked: not an e-mail: {', '.join(not_emails)}")
        object.__setattr__(self, "blocked", blocked)
        for name in ("tls_cert", "tls_key"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, not {self.port}")
        for name in ("eagain_rate", "ratelimit_rate", "http500_rate", "drop_rate", "corrupt_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if self.bandwidth < 0:
            raise ValueError("bandwidth can't be negative")
        if self.quota is not None and self.quota < 0:
            raise ValueError("quota can't be negative")
        if self.login_limit < 0:
            raise ValueError("login_limit can't be negative")
        if self.transfer_quota is not None and self.transfer_quota < 0:
            raise ValueError("transfer_quota can't be negative")
        if self.hashcash is not None and self.hashcash not in HASHCASH_MODES:
            raise ValueError(
                f"hashcash must be one of {', '.join(HASHCASH_MODES)} or off, not {self.hashcash!r}"
            )
        if not 0 <= self.hashcash_easiness <= 255:
            raise ValueError(f"hashcash_easiness must be 0..255, not {self.hashcash_easiness}")
        for name in ("upload_ttl", "sc_wait", "transfer_quota_window"):
            seconds = getattr(self, name)
            if not (seconds > 0 and math.isfinite(seconds)):
                raise ValueError(f"{name} must be a positive number of seconds, not {seconds}")

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


#: Settings that ``Emulator.set_faults`` may change while the server runs.
FAULT_FIELDS = frozenset(
    {
        "eagain_rate",
        "ratelimit_rate",
        "http500_rate",
        "drop_rate",
        "corrupt_rate",
        "bandwidth",
        "quota",
        "login_limit",
        "blocked",
        "transfer_quota",
        "transfer_quota_window",
        "hashcash",
        "hashcash_easiness",
        "upload_ttl",
        "sc_wait",
    }
)


@dataclass(frozen=True)
class AccountSpec:
    """An account to create at start-up (if its e-mail is not taken yet)."""

    email: str
    password: str = field(repr=False)
    version: int = 2
    mfa_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EmulatorConfig:
    """What a YAML file holds: setting values (by field name, already typed) and accounts."""

    values: dict[str, Any]
    accounts: tuple[AccountSpec, ...] = ()


def parse_account(text: str, *, version: int = 2) -> AccountSpec:
    """``EMAIL:PASSWORD``, split at the first ':' (the password may hold more). ValueError when malformed."""
    email, sep, password = text.partition(":")
    if not sep or "@" not in email or not password:
        raise ValueError("an account is EMAIL:PASSWORD")
    return AccountSpec(email.strip().lower(), password, version)


def _size(name: str, value: Any, *, off: int | None) -> int | None:
    if value is None:
        return off
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a size, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    parsed = parse_size(str(value).strip())
    return off if parsed is None else parsed


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected seconds, not {value!r}")
    if isinstance(value, int | float):
        return float(value)
    parsed = parse_duration(str(value).strip())
    if parsed is None:
        raise ValueError(f"{name}: can't be off")
    return parsed


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name}: expected an integer, not {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected an integer, not {value!r}") from None


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name}: expected a number between 0 and 1, not {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}: expected a number between 0 and 1, not {value!r}") from None


def _hashcash(name: str, value: Any) -> str | None:
    if value is None or value is False or str(value).lower() in ("off", "none", ""):
        return None
    return str(value).lower()


def _emails(name: str, value: Any) -> frozenset[str]:
    """A list of e-mails (YAML, Python, repeated flags) or comma-separated text (``a@x,b@y``, also inside a
    list); None or "off" for none."""
    if value is None or value is False:
        return frozenset()
    if isinstance(value, str):
        items: list[Any] = [] if value.strip().lower() in ("off", "none") else [value]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise ValueError(f"{name}: expected e-mails, not {value!r}")
    parts = (part.strip().lower() for item in items for part in str(item).split(","))
    emails = frozenset(part for part in parts if part)
    bad = sorted(email for email in emails if "@" not in email)
    if bad:
        raise ValueError(f"not an e-mail: {', '.join(bad)}")
    return emails


def _path(name: str, value: Any) -> Path | None:
    return None if value is None else Path(os.path.expanduser(str(value)))


_CONVERTERS: dict[str, Any] = {
    "data_dir": _path,
    "host": lambda name, value: str(value),
    "port": _integer,
    "tls_cert": _path,
    "tls_key": _path,
    "eagain_rate": _rate,
    "ratelimit_rate": _rate,
    "http500_rate": _rate,
    "drop_rate": _rate,
    "corrupt_rate": _rate,
    "bandwidth": lambda name, value: _size(name, value, off=0),
    "quota": lambda name, value: _size(name, value, off=None),
    "login_limit": _integer,
    "blocked": _emails,
    "transfer_quota": lambda name, value: _size(name, value, off=None),
    "transfer_quota_window": _seconds,
    "hashcash": _hashcash,
    "hashcash_easiness": _integer,
    "upload_ttl": _seconds,
    "sc_wait": _seconds,
    "seed": lambda name, value: None if value is None else _integer(name, value),
}
assert set(_CONVERTERS) == {f.name for f in dataclasses.fields(EmulatorSettings)}


def settings_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed keyword arguments for EmulatorSettings from text or YAML values; keys may use '-' or '_'.

    Raises ValueError naming the key for an unknown key or a value that does not parse.
    """
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        convert = _CONVERTERS.get(name)
        if convert is None:
            raise ValueError(f"unknown emulator setting {key!r} (known: {', '.join(sorted(_CONVERTERS))})")
        try:
            values[name] = convert(name, value)
        except ValueError as exc:
            message = str(exc)
            raise ValueError(message if message.startswith(f"{name}:") else f"{name}: {message}") from None
    return values


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(text: str, where: str) -> str:
    def value(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            raise ValueError(f"{where}: environment variable {match.group(1)} is not set")
        return found

    return _ENV_REFERENCE.sub(value, text)


def _account(entry: Any, index: int) -> AccountSpec:
    where = f"accounts[{index}]"
    if isinstance(entry, str):
        return parse_account(_expand_env(entry, where))
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected EMAIL:PASSWORD or a mapping with email and password")
    unknown = set(entry) - {"email", "password", "version", "mfa_secret"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    if not entry.get("email") or not entry.get("password"):
        raise ValueError(f"{where}: email and password are required")
    version = _integer(f"{where}.version", entry.get("version", 2))
    if version not in (1, 2):
        raise ValueError(f"{where}.version: must be 1 or 2")
    secret = entry.get("mfa_secret")
    return AccountSpec(
        str(entry["email"]).strip().lower(),
        _expand_env(str(entry["password"]), f"{where}.password"),
        version,
        None if secret is None else _expand_env(str(secret), f"{where}.mfa_secret"),
    )


def load_config(path: str | os.PathLike[str]) -> EmulatorConfig:
    """Read a YAML mapping of settings, plus an optional ``accounts`` list.

    Accounts are ``EMAIL:PASSWORD`` strings or mappings with ``email``, ``password``, ``version`` (1 or 2)
    and ``mfa_secret`` (base32); ``${VAR}`` in a password or secret is taken from the environment, so a file
    need not hold one. Raises ValueError (message names the file) for anything that does not parse.
    """
    source = Path(path)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{source}: {exc}") from None
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise ValueError(f"{source}: expected a mapping of emulator settings")
    raw = dict(document)
    entries = raw.pop("accounts", None) or []
    try:
        if not isinstance(entries, list):
            raise ValueError("accounts: expected a list")
        accounts = tuple(_account(entry, index) for index, entry in enumerate(entries))
        values = settings_values(raw)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    return EmulatorConfig(values, accounts)
